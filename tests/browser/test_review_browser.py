"""The review screen in a real browser: it starts from what is known and shows the change.

A video imported with the confirmed tag «Футбол», which no annotator chose, and two
annotators who contradict each other: the screen keeps «Футбол» checked, leaves the
contradicted tags unchecked, shows the diff as the expert decides, and asks why when a
confirmed tag is unchecked; the reason lands in the history.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Locator, Page, expect

from annotations.models import Decision, LabelChange, Project, Tag, TagDecision
from tests.annotations.labeling_fixtures import confirm_now, imported_label, ready_video, submitted
from tests.browser.conftest import log_in
from tests.factories import PASSWORD, make_tag

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.label_audit]


def _box(page: Page, tag: Tag) -> Locator:
    return page.locator(f"#review-form input[name=tag][value='{tag.pk}']")


def test_review_keeps_confirmed_tags_and_shows_the_diff_before_confirming(
    page: Page, project: Project, crowd: User, other_crowd: User, expert: User
) -> None:
    project.annotators_per_video = 2
    project.save()
    football = make_tag(project, "Спорт: Футбол")
    hockey = make_tag(project, "Спорт: Хоккей")
    tennis = make_tag(project, "Спорт: Теннис")
    video = ready_video(project, title="Импортированный матч")
    imported_label(video, football)
    first = submitted(video, crowd, [hockey])
    second = submitted(video, other_crowd, [tennis])
    TagDecision.objects.create(annotation=first, tag=tennis, decision=Decision.REJECT)
    TagDecision.objects.create(annotation=second, tag=hockey, decision=Decision.REJECT)

    log_in(page, expert.username, PASSWORD)
    page.goto(f"/videos/{video.pk}/review/")
    expect(_box(page, football)).to_be_checked()
    expect(_box(page, hockey)).not_to_be_checked()
    expect(_box(page, tennis)).not_to_be_checked()
    expect(page.locator("#diff-none")).to_be_visible()

    _box(page, hockey).check()
    expect(page.locator("#diff-adds")).to_contain_text("Спорт: Хоккей")
    expect(page.locator("#removal-reason")).to_be_hidden()
    _box(page, football).uncheck()
    expect(page.locator("#diff-removes")).to_contain_text("Спорт: Футбол")
    expect(page.locator("#removal-reason")).to_be_visible()

    page.locator("#confirm-button").click()  # no reason yet: the browser asks for one
    expect(page.locator("#reason")).to_be_focused()
    assert set(video.confirmed_labels.values_list("tag__name", flat=True)) == {"Футбол"}

    page.locator("#reason").fill("a hockey match, the import was wrong")
    page.locator("#confirm-button").click()
    expect(page.get_by_text("Nothing left to review")).to_be_visible()
    assert set(video.confirmed_labels.values_list("tag__name", flat=True)) == {"Хоккей"}
    removal = LabelChange.objects.get(video=video, action="removed")
    assert (removal.tag, removal.changed_by, removal.reason) == (
        football,
        expert,
        "a hockey match, the import was wrong",
    )


def test_a_sheet_another_expert_changed_meanwhile_is_refused_and_shows_the_change(
    page: Page, project: Project, crowd: User, expert: User, admin_user: User
) -> None:
    football = make_tag(project, "Спорт: Футбол")
    hockey = make_tag(project, "Спорт: Хоккей")
    video = ready_video(project, title="Спорный матч")
    imported_label(video, football)
    submitted(video, crowd, [hockey])

    log_in(page, expert.username, PASSWORD)
    page.goto(f"/videos/{video.pk}/review/")
    expect(_box(page, football)).to_be_checked()
    # Meanwhile another reviewer replaces «Футбол» by «Хоккей».
    confirm_now(video, [hockey.pk], admin_user, reason="a hockey match")
    _box(page, hockey).check()
    page.locator("#confirm-button").click()  # the stale sheet would keep «Футбол» too

    expect(page.locator("#review-error")).to_contain_text("changed after this page was loaded")
    expect(_box(page, football)).to_have_count(0)  # no longer confirmed, and nobody chose it
    expect(_box(page, hockey)).to_be_checked()
    expect(page.locator(".history")).to_contain_text("changed meanwhile")
    expect(page.locator(".history")).to_contain_text("a hockey match")
    assert set(video.confirmed_labels.values_list("tag__name", flat=True)) == {"Хоккей"}
