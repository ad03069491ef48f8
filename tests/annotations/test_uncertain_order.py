"""The stored order of "most uncertain first": a video whose tags are confirmed, whatever
confirmed them, stores a value after every open video, so the queue's walk along the index
never passes over the videos labeled so far (the most uncertain ones, labeled first); a
video that is open again gets its place back from its suggestions."""

from __future__ import annotations

import importlib
import io
import json
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth.models import User

from annotations.manifest import row_from_mapping
from annotations.models import ModelVersion, Project, QueueOrder, Tag, Video
from annotations.models.videos import UNCERTAINTY_CONFIRMED, UNCERTAINTY_UNKNOWN
from annotations.services.interchange import dataset_import
from annotations.services.labeling.gold import gold_mark, gold_unmark
from annotations.services.labeling.review import video_auto_confirm, video_confirm_by_model
from annotations.services.learning.suggestions import suggestions_refresh_project
from annotations.services.learning.uncertainty import uncertainty_refresh
from annotations.services.media.video_import import videos_import_rows
from annotations.services.taxonomy_edit import tag_merge
from ml.synthetic_media import write_video
from tests.annotations.labeling_fixtures import confirm_now, ready_video, submitted, suggest
from tests.factories import confirm_label, make_tag, make_video

pytestmark = pytest.mark.django_db


@pytest.fixture
def uncertain(project: Project) -> Project:
    project.queue_order = QueueOrder.UNCERTAIN
    project.save()
    return project


def _scored(project: Project, chosen: Tag, held_back: Tag, gap: float) -> Video:
    """A ready video the model hesitates on by ``gap``: ``chosen`` that much above ``held_back``."""
    video = ready_video(project)
    suggest(video, chosen, 0.5 + gap / 2)
    suggest(video, held_back, 0.5 - gap / 2, rank=2, above=False)
    return video


def _index_order(project: Project) -> list[Video]:
    """The project's videos as the queue's index walks them in "most uncertain first"."""
    return list(project.videos.order_by("uncertainty", "id"))


def _stored(video: Video) -> float:
    return Video.objects.get(pk=video.pk).uncertainty


@pytest.mark.label_audit
def test_a_reviewed_video_leaves_the_front_of_the_order_for_its_end(
    uncertain: Project, expert: User, football: Tag, hockey: Tag
) -> None:
    unsure = _scored(uncertain, football, hockey, 0.04)
    sure = _scored(uncertain, football, hockey, 0.9)
    unscored = ready_video(uncertain)
    assert _index_order(uncertain) == [unsure, sure, unscored]

    confirm_now(unsure, [football.pk], expert)

    # After the open video nothing has scored, too: the walk meets every open video first.
    assert _index_order(uncertain) == [sure, unscored, unsure]
    assert _stored(unsure) == UNCERTAINTY_CONFIRMED > UNCERTAINTY_UNKNOWN


@pytest.mark.label_audit
def test_agreement_and_the_model_confirming_a_video_move_it_to_the_end(
    uncertain: Project, crowd: User, other_crowd: User, football: Tag, hockey: Tag
) -> None:
    uncertain.annotators_per_video = 2
    uncertain.save()
    agreed = _scored(uncertain, football, hockey, 0.02)
    by_model = _scored(uncertain, football, hockey, 0.03)
    still_open = _scored(uncertain, football, hockey, 0.5)
    submitted(agreed, crowd, [football])
    submitted(agreed, other_crowd, [football])
    version = ModelVersion.objects.create(project=uncertain, number=1, state="promoted")

    assert video_auto_confirm(video=agreed) is True
    assert video_confirm_by_model(video=by_model, tag_ids=[football.pk], version=version)

    assert _index_order(uncertain) == [still_open, agreed, by_model]
    assert {_stored(agreed), _stored(by_model)} == {UNCERTAINTY_CONFIRMED}


def test_a_video_whose_confirmed_tags_are_gone_gets_its_place_back_from_its_suggestions(
    uncertain: Project, expert: User, football: Tag, hockey: Tag
) -> None:
    unsure = _scored(uncertain, football, hockey, 0.04)
    sure = _scored(uncertain, football, hockey, 0.9)
    confirm_now(unsure, [football.pk], expert)
    assert _index_order(uncertain) == [sure, unsure]

    # No service removes a video's last confirmed tag today; one that does refreshes it.
    unsure.confirmed_labels.all().delete()
    uncertainty_refresh(video_ids=[unsure.pk])

    assert _stored(unsure) == pytest.approx(0.04)
    assert _index_order(uncertain) == [unsure, sure]


def test_a_refresh_of_suggestions_leaves_confirmed_videos_at_the_end_and_gold_in_its_place(
    uncertain: Project, expert: User, zero_shot_model: None
) -> None:
    football = make_tag(uncertain, "Спорт: Футбол")
    make_tag(uncertain, "Еда и напитки: Кулинария")
    title = "Футбол: лучшие голы матча"
    gold, confirmed, still_open = (ready_video(uncertain, title=title) for _ in range(3))
    confirm_label(gold, football)
    confirm_label(confirmed, football)
    assert _stored(gold) == UNCERTAINTY_CONFIRMED

    gold_mark(video=gold, user=expert)
    assert _stored(gold) == UNCERTAINTY_UNKNOWN  # no suggestion yet
    suggestions_refresh_project(project=uncertain)

    # Gold is handed out among the work it checks, by its suggestions like an open video
    # alike (never all at the end, where it would stand apart); other confirmed videos stay
    # at the end.
    assert gold.suggestions.exists()
    assert _stored(gold) == _stored(still_open) < UNCERTAINTY_UNKNOWN
    assert _stored(confirmed) == UNCERTAINTY_CONFIRMED
    assert _index_order(uncertain) == [gold, still_open, confirmed]

    gold_unmark(video=gold)

    assert _stored(gold) == UNCERTAINTY_CONFIRMED


def test_videos_imported_with_tags_are_stored_at_the_end_and_the_others_unscored(
    uncertain: Project, football: Tag, import_root: Path
) -> None:
    write_video(import_root / "clip.mp4", seconds=1.0, width=64, height=48, fps=10, audio=False)
    lines: list[dict[str, object]] = [
        {"video_id": "t1", "title": "С тегом", "tags": "Спорт: Футбол"},
        {"video_id": "t2", "title": "Без тегов"},
        {"video_id": "f1", "title": "Клип", "file": "clip.mp4", "tags": "Спорт: Футбол"},
        {"video_id": "t3", "title": "Ещё с тегом", "tags": "Спорт: Футбол"},
    ]
    rows = [row_from_mapping(line, data) for line, data in enumerate(lines, start=2)]

    videos_import_rows(project=uncertain, rows=rows, base_dir=import_root, batch_size=2)

    stored = dict(uncertain.videos.values_list("external_id", "uncertainty"))
    assert stored == {
        "t1": UNCERTAINTY_CONFIRMED,
        "t2": UNCERTAINTY_UNKNOWN,
        "f1": UNCERTAINTY_CONFIRMED,
        "t3": UNCERTAINTY_CONFIRMED,
    }


def test_a_dataset_import_stores_confirmed_videos_at_the_end_and_scores_the_others(
    uncertain: Project, football: Tag, hockey: Tag
) -> None:
    suggestions = [
        {"tag": football.path, "score": 0.6, "above_threshold": True},
        {"tag": hockey.path, "score": 0.5, "above_threshold": False},
    ]
    lines = [
        {"title": "labeled", "tags": [football.path], "suggestions": suggestions},
        {"title": "open", "suggestions": suggestions},
    ]
    content = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)

    dataset_import(project=uncertain, stream=io.BytesIO(content.encode()), fmt="jsonl")

    stored = dict(uncertain.videos.values_list("title", "uncertainty"))
    assert stored["labeled"] == UNCERTAINTY_CONFIRMED
    assert stored["open"] == pytest.approx(0.1)


def test_merging_a_tag_scores_again_the_videos_that_lose_a_suggestion(
    uncertain: Project, football: Tag, hockey: Tag
) -> None:
    video = _scored(uncertain, football, hockey, 0.1)

    # The held-back hockey suggestion goes: only the chosen football one is left.
    tag_merge(source=hockey, target=football, by=None)

    assert _stored(video) == pytest.approx(0.55)


def test_the_migration_moves_the_videos_confirmed_before_to_the_end(project: Project) -> None:
    migration = importlib.import_module(
        "annotations.migrations.0016_confirmed_videos_last_in_uncertain_order"
    )
    tag = make_tag(project, "Спорт")
    confirmed, still_open = make_video(project), make_video(project)
    confirm_label(confirmed, tag)
    project.videos.update(uncertainty=0.1)

    migration.confirmed_last(apps, None)

    assert migration.UNCERTAINTY_CONFIRMED == UNCERTAINTY_CONFIRMED
    assert (_stored(confirmed), _stored(still_open)) == (UNCERTAINTY_CONFIRMED, 0.1)
