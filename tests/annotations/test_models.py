"""Constraints that keep duplicates from corrupting the data."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from annotations.models import (
    Annotation,
    ConfirmedLabel,
    LabelSource,
    ModelVersion,
    Project,
    Tag,
    TranscriptSegment,
)
from tests.factories import make_project, make_tag, make_video

SHA = "a" * 64


def _violates(action: object) -> bool:
    try:
        with transaction.atomic():
            action()  # type: ignore[operator]
    except IntegrityError:
        return True
    return False


def test_the_same_file_cannot_be_imported_twice_into_one_project(project: Project) -> None:
    make_video(project, sha256=SHA)
    assert _violates(lambda: make_video(project, sha256=SHA))
    make_video(make_project(), sha256=SHA)  # another project may hold the same file


def test_external_ids_are_unique_per_project_but_may_be_blank(project: Project) -> None:
    make_video(project, external_id="abc")
    assert _violates(lambda: make_video(project, external_id="abc"))
    make_video(project, external_id="")
    make_video(project, external_id="")


def test_sha256_must_be_a_hex_digest(project: Project) -> None:
    assert _violates(lambda: make_video(project, sha256="not-a-digest"))


def test_one_tag_path_per_project(project: Project) -> None:
    make_tag(project, "Спорт: Футбол")
    parent = Tag.objects.get(project=project, path="Спорт")
    assert _violates(
        lambda: Tag.objects.create(
            project=project, parent=parent, name="Футбол", path="Спорт: Футбол", depth=2
        )
    )
    make_tag(make_project(), "Спорт: Футбол")


def test_hotkeys_are_unique_per_project_when_set(project: Project) -> None:
    make_tag(project, "A", hotkey="1")
    assert _violates(lambda: make_tag(project, "B", hotkey="1"))
    make_tag(project, "C")
    make_tag(project, "D")


def test_one_annotation_per_video_per_annotator(project: Project, expert: User) -> None:
    video = make_video(project)
    Annotation.objects.create(video=video, annotator=expert)
    assert _violates(lambda: Annotation.objects.create(video=video, annotator=expert))


def test_a_tag_is_confirmed_once_per_video(project: Project) -> None:
    video = make_video(project)
    tag = make_tag(project, "Наука")
    ConfirmedLabel.objects.create(video=video, tag=tag, source=LabelSource.REVIEW)
    assert _violates(
        lambda: ConfirmedLabel.objects.create(video=video, tag=tag, source=LabelSource.IMPORT)
    )


def test_only_one_model_version_is_promoted_per_project(project: Project) -> None:
    ModelVersion.objects.create(project=project, number=1, state=ModelVersion.State.PROMOTED)
    ModelVersion.objects.create(project=project, number=2, state=ModelVersion.State.CANDIDATE)
    assert _violates(
        lambda: ModelVersion.objects.create(project=project, number=3, state="promoted")
    )
    assert _violates(lambda: ModelVersion.objects.create(project=project, number=2))


def test_transcript_segments_cannot_end_before_they_start(project: Project) -> None:
    video = make_video(project)
    assert _violates(
        lambda: TranscriptSegment.objects.create(
            video=video, index=0, start_seconds=5, end_seconds=4, text="x", source="asr"
        )
    )


def test_a_tag_in_use_cannot_be_deleted(project: Project) -> None:
    video = make_video(project)
    tag = make_tag(project, "Наука")
    ConfirmedLabel.objects.create(video=video, tag=tag, source=LabelSource.REVIEW)
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        tag.delete()


def test_tag_ancestor_paths(project: Project) -> None:
    tag = make_tag(project, "Транспорт: Типы автомобилей: Седан")
    assert tag.ancestor_paths() == [
        "Транспорт",
        "Транспорт: Типы автомобилей",
        "Транспорт: Типы автомобилей: Седан",
    ]
    assert tag.depth == 3
    assert tag.parent is not None and tag.parent.path == "Транспорт: Типы автомобилей"
