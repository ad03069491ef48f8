"""The shared template pieces: the data table layout and a form's fields by fieldset."""

from __future__ import annotations

from django import forms
from django.template import Context, Template
from django.template.loader import render_to_string
from django.utils import translation


def test_a_table_with_rows_draws_them_and_one_without_says_why_instead() -> None:
    rows = [{"tag": {"path": "Спорт: Футбол"}, "units": 3, "agreed": 2, "percent": 66.7}]
    with translation.override("en"):
        table = render_to_string("annotations/tables/tag_agreement.html", {"rows": rows})
        empty = render_to_string("annotations/tables/tag_agreement.html", {"rows": []})

    assert '<table class="grid" id="per-tag">' in table
    assert "<td>Спорт: Футбол</td>" in table and '<td class="num">67%</td>' in table
    assert 'class="empty"' not in table
    assert "<table" not in empty
    assert '<p class="empty">No video has two annotations yet.</p>' in empty


class _Form(forms.Form):
    first = forms.CharField(label="First")
    second = forms.IntegerField(label="Second")
    third = forms.BooleanField(label="Third", required=False)


def test_a_fieldset_draws_the_named_fields_in_the_order_named_under_its_legend() -> None:
    template = Template(
        '{% load form_fields %}{% include "annotations/partials/fieldset.html" '
        'with legend="Some" fields=form|fields:"third first" %}'
    )
    html = template.render(Context({"form": _Form()}))

    assert "<legend>Some</legend>" in html
    assert html.index('name="third"') < html.index('name="first"')
    assert 'name="second"' not in html
