"""A whole project run from the browser, without the Django admin.

An admin creates a project, uploads and edits its taxonomy, creates two crowd workers and
an expert, and assigns the videos; the crowd workers label them from the keyboard; the
expert resolves the one they disagree on; the dashboard shows the project done; the admin
exports a snapshot and downloads it. No request ever goes to /admin/.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from annotations.models import ConfirmedLabel, ExportSnapshot, Project, VideoStatus
from tests.browser.conftest import log_in
from tests.factories import PASSWORD, make_video

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.label_audit]

TAXONOMY_CSV = "Level 1,Level 2\nСпорт,\nСпорт,Футбол\nСпорт,Хоккей\nЕда,\nЕда,Кулинария\n"
TITLES = ["Финал кубка", "Дерби столицы", "Спорный матч"]


def _watch_for_admin(page: Page, seen: list[str]) -> None:
    page.on("request", lambda request: seen.append(request.url))


def _create_project(page: Page) -> Project:
    page.goto("/")
    page.locator("#new-project").click()
    page.get_by_label("Name").fill("Разметка Rutube")
    page.get_by_label("Multi-label (any number of tags per video)").check()
    page.get_by_label("Annotators per video").fill("2")
    page.get_by_label("Share of annotators that proposes a tag for review").fill("0.6")
    page.locator("#id_guidelines").fill("## Правила\n\n* Отмечайте **все** темы")
    expect(page.locator("#guidelines-preview strong")).to_have_text("все")
    page.get_by_role("button", name="Create the project").click()
    expect(page.locator("h1")).to_contain_text("Taxonomy")
    return Project.objects.get(name="Разметка Rutube")


def _build_taxonomy(page: Page, tmp_path: Path) -> None:
    csv_file = tmp_path / "iab.csv"
    csv_file.write_text(TAXONOMY_CSV, encoding="utf-8")
    # A project without tags opens the import at once.
    expect(page.locator("details", has_text="Import tags from a file")).to_have_attribute(
        "open", ""
    )
    page.locator("#id_file").set_input_files(str(csv_file))
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("#tag-tree")).to_contain_text("Хоккей")
    # Edit it: a new tag with a hotkey, and a tag renamed.
    page.locator("#add-parent").select_option(label="Спорт")
    page.locator("#add-name").fill("Баскетбол")
    page.locator("#add-hotkey").fill("3")
    page.locator("#add-tag-form button[type=submit]").click()
    expect(page.locator("#tag-panel h2")).to_have_text("Спорт: Баскетбол")
    page.locator("#tag-tree a", has_text="Кулинария").click()
    page.locator("#rename-name").fill("Рецепты")
    page.get_by_role("button", name="Rename").click()
    expect(page.locator("#tag-tree")).to_contain_text("Рецепты")


def _create_people(page: Page, project: Project) -> None:
    page.goto(f"/projects/{project.pk}/people/")
    for username, role in (("crowd_a", "crowd"), ("crowd_b", "crowd"), ("expert_e", "expert")):
        form = page.locator("#create-user-form")
        form.get_by_label("User name").fill(username)
        form.get_by_label("Password").fill(PASSWORD)
        form.get_by_label("Role").select_option(role)
        form.get_by_role("button", name="Create and add").click()
        expect(page.locator(f'#members tr[data-user="{username}"]')).to_be_visible()


def _assign(page: Page, project: Project) -> None:
    page.goto(f"/projects/{project.pk}/assign/")
    page.get_by_label("crowd_a (Crowd worker)").check()
    page.get_by_label("crowd_b (Crowd worker)").check()
    page.get_by_label("Every matching video, up to the overlap").check()
    page.get_by_role("button", name="Assign", exact=True).click()
    expect(page.locator(".message.success")).to_contain_text("Assigned 6 videos")


def _label(browser: Browser, live_server: LiveServer, username: str, choices: list[str]) -> None:
    context = browser.new_context(base_url=live_server.url, locale="en-US")
    context.set_default_timeout(10_000)
    page = context.new_page()
    log_in(page, username, PASSWORD)
    page.locator("#projects a", has_text="Разметка Rutube").click()
    page.locator("#start-labeling").click()
    # The labeling keys are bound by a deferred script: it has run once the page has loaded.
    page.wait_for_load_state("load")
    for title, typed in zip(TITLES, choices, strict=True):
        expect(page.locator("#video-title")).to_have_text(title)
        page.keyboard.press("/")
        page.keyboard.type(typed)
        page.keyboard.press("Enter")
        expect(page.locator('#added .decision-row[data-decision="add"]')).to_have_count(1)
        page.keyboard.press("Enter")
    expect(page.get_by_text("Nothing left in your queue")).to_be_visible()
    page.evaluate("window.labeling && window.labeling.takeActiveSeconds()")
    context.close()


def _review(browser: Browser, live_server: LiveServer, project: Project) -> None:
    context = browser.new_context(base_url=live_server.url, locale="en-US")
    context.set_default_timeout(10_000)
    page = context.new_page()
    log_in(page, "expert_e", PASSWORD)
    page.goto(f"/projects/{project.pk}/")
    page.locator(".project-nav a", has_text="Review").click()
    page.get_by_role("link", name=TITLES[2]).click()
    page.locator("#review-form tr", has_text="Хоккей").locator("input[name=tag]").check()
    page.locator("#confirm-button").click()
    expect(page.get_by_text("Nothing left to review")).to_be_visible()
    context.close()


def test_an_admin_runs_a_project_from_nothing_to_a_downloaded_export(
    page: Page,
    browser: Browser,
    live_server: LiveServer,
    admin_user: User,
    tmp_path: Path,
) -> None:
    requested: list[str] = []
    _watch_for_admin(page, requested)
    log_in(page, admin_user.username, "correct-horse-battery-staple")
    project = _create_project(page)
    _build_taxonomy(page, tmp_path)
    # The videos come in by an import (the command line, the API or the upload page).
    for title in TITLES:
        make_video(project, title=title, status=VideoStatus.READY)
    _create_people(page, project)
    _assign(page, project)

    _label(browser, live_server, "crowd_a", ["футб", "хокк", "футб"])
    _label(browser, live_server, "crowd_b", ["футб", "хокк", "хокк"])
    agreed = ConfirmedLabel.objects.filter(video__project=project, source="agreement")
    assert agreed.count() == 2  # the two videos they agree on are confirmed at once

    _review(browser, live_server, project)
    assert set(
        ConfirmedLabel.objects.filter(video__title=TITLES[2]).values_list("tag__name", flat=True)
    ) == {"Хоккей"}

    page.goto(f"/projects/{project.pk}/")
    page.locator(".project-nav a", has_text="Progress").click()
    expect(page.locator('#labeling-states [data-state="confirmed"] strong')).to_have_text("3")
    expect(page.locator("#percent-done")).to_have_text("100%")
    expect(page.locator('canvas[data-chart="chart-burndown"]')).to_have_attribute("data-drawn", "1")

    page.locator(".project-nav a", has_text="Exports").click()
    page.get_by_role("radio", name="JSONL").check()
    page.get_by_role("button", name="Export", exact=True).click()
    snapshot = ExportSnapshot.objects.get(project=project)
    row = page.locator(f'#snapshots tr[data-snapshot="{snapshot.pk}"]')
    expect(row).to_have_attribute("data-state", "ready")
    with page.expect_download() as download_info:
        row.get_by_role("link", name="Download").click()
    body = Path(download_info.value.path()).read_bytes()
    snapshot.refresh_from_db()
    assert hashlib.sha256(body).hexdigest() == snapshot.sha256
    exported = [json.loads(line) for line in body.decode("utf-8").splitlines()]
    assert sorted(row["title"] for row in exported) == sorted(TITLES)

    assert not [url for url in requested if "/admin/" in url]
