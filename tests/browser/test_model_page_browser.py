"""The model version page in a browser: its charts are drawn by the vendored Chart.js."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.contrib.auth.models import User

from annotations.models import ModelVersion
from tests.browser.conftest import log_in
from tests.factories import PASSWORD

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.django_db(transaction=True)
CHARTS = ("per-tag-chart", "reliability-chart", "learning-curve-chart")


def test_the_version_page_draws_its_charts_without_errors(
    page: Page, promoted_version: ModelVersion, admin_user: User
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # (The browser's own request for /favicon.ico answers 404: not the page's doing.)
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )

    log_in(page, admin_user.username, PASSWORD)
    page.goto(f"/models/{promoted_version.pk}/")

    for chart in CHARTS:
        canvas = page.locator(f'canvas[data-chart="{chart}"]')
        canvas.wait_for()
        page.wait_for_function(
            "id => document.querySelector(`canvas[data-chart=\"${id}\"]`).dataset.drawn === '1'",
            arg=chart,
        )
        box = canvas.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 100, chart
    assert errors == []
    shots = os.environ.get("SCREENSHOTS_DIR")
    if shots:
        page.set_viewport_size({"width": 1280, "height": 900})
        page.screenshot(path=str(Path(shots) / "model-version.png"), full_page=True)
