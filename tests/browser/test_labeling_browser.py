"""Each role doing its job from the keyboard, in a real browser.

A crowd worker labels an assigned video (accepts and rejects suggestions, adds a
tag by typing, submits) and lands on the next one; the draft survives a reload;
an edit from a stale tab is reported; an expert resolves a disagreement.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.files import File
from playwright.sync_api import Locator, Page, expect

from annotations.models import (
    Annotation,
    ConfirmedLabel,
    ModelVersion,
    Project,
    Tag,
    TranscriptSegment,
    Video,
)
from ml.synthetic_media import write_video
from tests.annotations.labeling_fixtures import ready_video, submitted, suggest
from tests.browser.conftest import log_in
from tests.factories import PASSWORD, assign, make_tag

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.label_audit]


@pytest.fixture
def taxonomy(project: Project) -> dict[str, Tag]:
    return {
        "football": make_tag(project, "Спорт: Футбол", hotkey="1"),
        "hockey": make_tag(project, "Спорт: Хоккей"),
        "cooking": make_tag(project, "Еда и напитки: Кулинария"),
    }


def _with_media(video: Video, tmp_path: Path) -> Video:
    path = write_video(tmp_path / "clip.mp4", seconds=2.0, width=160, height=120, fps=10)
    video.sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    with path.open("rb") as handle:
        video.source_file.save("clip.mp4", File(handle), save=True)
    return video


@pytest.fixture
def crowd_videos(
    project: Project, taxonomy: dict[str, Tag], crowd: User, tmp_path: Path
) -> list[Video]:
    model = ModelVersion.objects.create(project=project, number=1, state="promoted")
    first = _with_media(ready_video(project, title="Матч недели"), tmp_path)
    second = ready_video(project, title="Рецепт борща")
    suggest(first, taxonomy["football"], 0.91, model=model)
    suggest(first, taxonomy["hockey"], 0.35, rank=2, above=False, model=model)
    for index, (start, text) in enumerate([(0.0, "Начало матча"), (1.0, "Гол на второй секунде")]):
        TranscriptSegment.objects.create(
            video=first, index=index, start_seconds=start, end_seconds=start + 1, text=text,
            source="asr",
        )  # fmt: skip
    for video in (first, second):
        assign(video, crowd)
    return [first, second]


def _row(page: Page, tag: Tag) -> Locator:
    return page.locator(f'#decisions .decision-row[data-tag="{tag.pk}"]')


def test_crowd_worker_labels_from_the_keyboard_and_lands_on_the_next_video(
    page: Page, project: Project, taxonomy: dict[str, Tag], crowd: User, crowd_videos: list[Video]
) -> None:
    first, second = crowd_videos
    log_in(page, crowd.username, PASSWORD)
    page.goto(f"/projects/{project.pk}/label/")
    expect(page.locator("#video-title")).to_have_text(first.title)

    page.keyboard.press("a")  # the cursor starts on the first suggestion: Футбол
    expect(_row(page, taxonomy["football"])).to_have_attribute("data-decision", "accept")
    page.keyboard.press("j")
    page.keyboard.press("r")
    expect(_row(page, taxonomy["hockey"])).to_have_attribute("data-decision", "reject")

    page.keyboard.press("/")
    page.keyboard.type("кулин")
    page.keyboard.press("Enter")
    added = _row(page, taxonomy["cooking"])
    expect(added).to_have_attribute("data-decision", "add")
    expect(added.locator(".parent")).to_have_text("Еда и напитки")  # the child shows its parent

    # A click on a transcript line plays from there (the file is served with ranges).
    page.wait_for_function("document.getElementById('player').readyState >= 1")
    page.locator("#transcript .segment", has_text="Гол").click()
    page.wait_for_function("document.getElementById('player').currentTime >= 0.99")
    expect(page.locator("#transcript .segment.playing")).to_contain_text("Гол")
    page.wait_for_function("!document.getElementById('player').paused")
    page.keyboard.press(">")  # faster
    page.wait_for_function("document.getElementById('player').playbackRate === 1.25")
    expect(page.locator("#playback-rate")).to_have_value("1.25")
    page.evaluate("document.getElementById('player').pause()")

    page.keyboard.press("Enter")
    expect(page.locator("#video-title")).to_have_text(second.title)
    assert page.url.endswith(f"/videos/{second.pk}/label/")
    annotation = Annotation.objects.get(video=first, annotator=crowd)
    assert annotation.state == Annotation.State.SUBMITTED
    assert {d.tag.name: d.decision for d in annotation.decisions.select_related("tag")} == {
        "Футбол": "accept",
        "Хоккей": "reject",
        "Кулинария": "add",
    }


def test_the_draft_survives_a_reload_and_unassigned_videos_stay_closed(
    page: Page,
    project: Project,
    taxonomy: dict[str, Tag],
    crowd: User,
    other_crowd: User,
    crowd_videos: list[Video],
) -> None:
    first = crowd_videos[0]
    foreign = ready_video(project, title="Чужое видео")
    assign(foreign, other_crowd)
    log_in(page, crowd.username, PASSWORD)
    page.goto(f"/videos/{first.pk}/label/")
    page.keyboard.press("1")  # the hotkey of Футбол
    expect(_row(page, taxonomy["football"])).to_have_attribute("data-decision", "accept")
    page.keyboard.press("/")
    page.keyboard.type("хок")  # typed, not sent
    page.reload()
    expect(_row(page, taxonomy["football"])).to_have_attribute("data-decision", "accept")
    expect(page.locator("#tag-search")).to_have_value("хок")

    response = page.goto(f"/videos/{foreign.pk}/label/")
    assert response is not None and response.status == 404


def test_an_edit_from_a_stale_tab_is_reported_not_applied(
    page: Page, taxonomy: dict[str, Tag], crowd: User, crowd_videos: list[Video]
) -> None:
    first = crowd_videos[0]
    log_in(page, crowd.username, PASSWORD)
    page.goto(f"/videos/{first.pk}/label/")
    other_tab = page.context.new_page()
    other_tab.goto(f"/videos/{first.pk}/label/")

    other_tab.keyboard.press("a")
    expect(_row(other_tab, taxonomy["football"])).to_have_attribute("data-decision", "accept")
    page.keyboard.press("j")
    page.keyboard.press("a")  # made on the page that has not seen the other tab's change
    expect(page.locator("#decision-error")).to_contain_text("another tab")
    expect(_row(page, taxonomy["football"])).to_have_attribute("data-decision", "accept")
    expect(_row(page, taxonomy["hockey"])).to_have_attribute("data-decision", "")
    annotation = Annotation.objects.get(video=first, annotator=crowd)
    assert list(annotation.decisions.values_list("tag__name", flat=True)) == ["Футбол"]


def test_expert_resolves_a_disagreement_from_the_keyboard(
    page: Page,
    project: Project,
    taxonomy: dict[str, Tag],
    crowd: User,
    other_crowd: User,
    expert: User,
) -> None:
    project.annotators_per_video = 2
    project.save()
    video = ready_video(project, title="Спорный ролик")
    submitted(video, crowd, [taxonomy["football"]])
    submitted(video, other_crowd, [taxonomy["hockey"]])
    log_in(page, expert.username, PASSWORD)
    page.goto(f"/projects/{project.pk}/review/")
    page.keyboard.press("Enter")  # opens the first video waiting for review
    expect(page.locator("#review-title")).to_have_text(video.title)
    # Rows are sorted by path: Футбол, Хоккей; both proposed (each has half the votes).
    page.keyboard.press("j")
    page.keyboard.press("x")  # un-tick Хоккей
    page.keyboard.press("Enter")
    expect(page.get_by_text("Nothing left to review")).to_be_visible()
    label = ConfirmedLabel.objects.get(video=video)
    assert (label.tag, label.source, label.confirmed_by) == (taxonomy["football"], "review", expert)
