"""``{% for field in form|fields:"name mode" %}``: some of a form's fields, for one fieldset.

Each is then drawn by ``annotations/partials/form_field.html``, as a whole form is with
``{% for field in form %}``.
"""

from __future__ import annotations

from django import template
from django.forms import BaseForm, BoundField

register = template.Library()


@register.filter
def fields(form: BaseForm, names: str) -> list[BoundField]:
    """The bound fields named (separated by spaces), in that order."""
    return [form[name] for name in names.split()]
