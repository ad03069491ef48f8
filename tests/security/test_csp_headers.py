"""The Content-Security-Policy header on every kind of page, and templates it can hold.

The browser test (tests/browser/test_csp_browser.py) shows the pages work under it;
these checks run without a browser: the header is there and allows no inline code, and
no template brings back an inline handler, style attribute, <style> or inline script.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client

from annotations.models import Project
from tests.factories import client_for

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
INLINE = {
    "an inline event handler": re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE),
    "a style attribute": re.compile(r"<[^>]*\sstyle\s*=", re.IGNORECASE),
    "a <style> element": re.compile(r"<style\b", re.IGNORECASE),
    "an inline script": re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "a javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
}


def _directives(header: str) -> dict[str, list[str]]:
    parts = (part.split() for part in header.split(";") if part.strip())
    return {words[0]: words[1:] for words in parts}


@pytest.mark.parametrize(
    "url", ["/accounts/login/", "/", "/projects/{p}/models/", "/api/docs/", "/admin/"]
)
def test_pages_send_a_policy_that_allows_no_inline_code(
    url: str, admin_user: User, project: Project
) -> None:
    client = Client() if url.startswith("/accounts/") else client_for(admin_user)
    response = client.get(url.format(p=project.pk))
    assert response.status_code == 200
    policy = _directives(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert "unsafe" not in response["Content-Security-Policy"]


def test_the_redoc_page_allows_only_its_own_nonce_and_load_styles() -> None:
    response = Client().get("/api/redoc/")
    policy = _directives(response["Content-Security-Policy"])
    nonce = next(word for word in policy["style-src"] if word.startswith("'nonce-"))
    assert f'data-style-nonce="{nonce[7:-1]}"' in response.content.decode()
    assert policy["script-src"] == ["'self'"]
    assert "unsafe" not in response["Content-Security-Policy"]


def test_swagger_ui_starts_from_a_script_file() -> None:
    page = Client().get("/api/docs/").content.decode()
    script = re.search(r'<script src="([^"]*script[^"]*)"', page)
    assert script is not None
    answer = Client().get(script.group(1).replace("&amp;", "&"))
    assert answer.status_code == 200
    assert "SwaggerUIBundle" in answer.content.decode()


def test_no_template_has_inline_handlers_styles_or_scripts() -> None:
    found = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        text = template.read_text(encoding="utf-8")
        for what, pattern in INLINE.items():
            for match in pattern.finditer(text):
                if what == "an inline script" and "application/json" in match.group(0):
                    continue
                found.append(f"{template.relative_to(TEMPLATES)}: {what}: {match.group(0)[:60]}")
    assert found == []


def test_htmx_is_configured_to_add_no_inline_style_and_to_eval_nothing() -> None:
    base = (TEMPLATES / "base.html").read_text(encoding="utf-8")
    config = re.search(r'name="htmx-config" content=\'([^\']*)\'', base)
    assert config is not None
    assert '"includeIndicatorStyles": false' in config.group(1)
    assert '"allowEval": false' in config.group(1)
