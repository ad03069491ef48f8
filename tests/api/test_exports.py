"""Dataset snapshots: built in the background, immutable, downloaded byte for byte."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from annotations.models import (
    Annotation,
    ConfirmedLabel,
    ExportSnapshot,
    Keyframe,
    LabelSource,
    ModelVersion,
    Project,
    Suggestion,
    Tag,
    TagDecision,
    TranscriptSegment,
    Video,
)
from annotations.services.export import ExportFilterError, ExportFilters
from annotations.services.labeling.review import video_confirm_by_model
from annotations.services.taxonomy_edit import tag_deprecate
from tests.factories import confirm_label, confirm_labels, make_tag

PATHS = ["Спорт", "Спорт: Футбол", "Спорт: Хоккей", "Музыка", "Еда и напитки"]


def _dataset(project: Project, count: int) -> dict[int, dict[str, Any]]:
    """``count`` videos with a varied mix of labels, transcripts and keyframes.

    Returns what each exported line must say, computed here from the same plan,
    independently of the export code.
    """
    tags = {path: make_tag(project, path) for path in PATHS}
    videos = Video.objects.bulk_create(
        Video(
            project=project,
            title=f"Видео {i}, «кавычки» и запятые",
            description=f"Описание {i}\nвторая строка" if i % 3 else "",
            external_id=f"ext-{i:05d}" if i % 2 else "",
        )
        for i in range(count)
    )
    labels, segments, keyframes, expected = [], [], [], {}
    for i, video in enumerate(videos):
        chosen = sorted({PATHS[i % 5], PATHS[(i * 7) % 5]}) if i % 10 else []
        labels += [ConfirmedLabel(video=video, tag=tags[p], source="import") for p in chosen]
        spoken = [f"фраза {i}-{k}" for k in range(i % 3)]
        segments += [
            TranscriptSegment(
                video=video, index=k, start_seconds=k, end_seconds=k + 1, text=t, source="asr"
            )
            for k, t in enumerate(spoken)
        ]
        times = [0.5 * k for k in range(i % 4)]
        keyframes += [
            Keyframe(video=video, timestamp_seconds=t, image=f"k/{video.pk}/{t}.jpg") for t in times
        ]
        if chosen:
            expected[video.pk] = {
                "id": video.pk,
                "external_id": video.external_id,
                "title": video.title,
                "description": video.description,
                "summary": "",
                "transcript": " ".join(spoken),
                "segments": [[float(k), float(k + 1), t] for k, t in enumerate(spoken)],
                "keyframes": times,
                "tags": chosen,
            }
    confirm_labels(labels)
    TranscriptSegment.objects.bulk_create(segments)
    Keyframe.objects.bulk_create(keyframes)
    return expected


@dataclass(frozen=True)
class AdminExports:
    """Exports of one project built and downloaded by the admin, through the API."""

    client: APIClient
    project: Project
    run_on_commit: Callable[..., Any]

    def build(self, **body: Any) -> dict[str, Any]:
        """A snapshot built from ``body``'s options, its job run to the end."""
        with self.run_on_commit(execute=True):
            response = self.client.post(
                f"/api/v1/projects/{self.project.pk}/exports/", body, format="json"
            )
        assert response.status_code == 202, response.content
        job = self.client.get(f"/api/v1/jobs/{response.json()['job']}/").json()
        assert job["state"] == "done", job
        return self.client.get(f"/api/v1/exports/{response.json()['id']}/").json()

    def download(self, snapshot: dict[str, Any]) -> tuple[bytes, Any]:
        response = self.client.get(snapshot["download_url"])
        assert response.status_code == 200
        content = b"".join(response.streaming_content)  # type: ignore[attr-defined]
        return content, response


@pytest.fixture
def exports(
    project: Project,
    clients: dict[str, APIClient],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> AdminExports:
    return AdminExports(clients["admin_user"], project, django_capture_on_commit_callbacks)


def test_a_jsonl_export_of_thousands_of_videos_is_right_line_by_line(
    project: Project,
    exports: AdminExports,
    admin_user: User,
) -> None:
    expected = _dataset(project, 3000)
    snapshot = exports.build(format="jsonl")
    content, response = exports.download(snapshot)
    lines = content.decode("utf-8").splitlines()
    assert len(lines) == snapshot["row_count"] == len(expected) == 2700
    assert [json.loads(line) for line in lines] == [expected[pk] for pk in sorted(expected)]
    digest = hashlib.sha256(content).hexdigest()
    assert snapshot["sha256"] == digest == response["X-Checksum-SHA256"]
    assert response["Content-Type"] == "application/x-ndjson"
    assert "attachment" in response["Content-Disposition"]
    assert snapshot["created_by"] == admin_user.username
    assert snapshot["filters"]["scope"] == "confirmed"


def test_a_snapshot_downloads_byte_identical_and_never_changes(
    project: Project, exports: AdminExports
) -> None:
    _dataset(project, 60)
    snapshot = exports.build(format="labelstudio")
    first, _response = exports.download(snapshot)
    video = Video.objects.filter(project=project, confirmed_labels__isnull=True).first()
    assert video is not None
    ConfirmedLabel.objects.create(
        video=video, tag=project.tags.get(path="Музыка"), source=LabelSource.REVIEW
    )
    second, _response = exports.download(snapshot)
    assert first == second
    newer = exports.build(format="labelstudio")
    assert newer["row_count"] == snapshot["row_count"] + 1
    assert newer["sha256"] != snapshot["sha256"]


def test_the_csv_export_has_the_rutube_layout(project: Project, exports: AdminExports) -> None:
    expected = _dataset(project, 40)
    snapshot = exports.build(format="csv")
    content, response = exports.download(snapshot)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(content.decode("utf-8"))))
    assert rows[0] == ["video_id", "title", "description", "tags"]
    assert rows[1:] == [
        [
            e["external_id"] or str(e["id"]),
            e["title"],
            e["description"],
            ", ".join(e["tags"]),
        ]
        for _pk, e in sorted(expected.items())
    ]


@pytest.fixture
def history(project: Project, crowd: User, other_crowd: User, expert: User) -> dict[str, Video]:
    """Videos labeled at different times, by agreeing and disagreeing annotators."""
    tags = {path: make_tag(project, path) for path in PATHS}
    old = Video.objects.create(project=project, title="Старое")
    new = Video.objects.create(project=project, title="Новое")
    agreed = Video.objects.create(project=project, title="Согласие")
    split = Video.objects.create(project=project, title="Разногласие")
    unconfirmed = Video.objects.create(project=project, title="Не подтверждено")
    ConfirmedLabel.objects.create(video=old, tag=tags["Музыка"], source="import")
    ConfirmedLabel.objects.filter(video=old).update(
        confirmed_at=timezone.now() - timedelta(days=30)
    )
    ConfirmedLabel.objects.create(video=new, tag=tags["Спорт: Хоккей"], source="review")
    ConfirmedLabel.objects.create(video=agreed, tag=tags["Спорт: Футбол"], source="agreement")
    ConfirmedLabel.objects.create(video=split, tag=tags["Спорт: Футбол"], source="review")
    version = ModelVersion.objects.create(project=project, number=3, state="promoted")
    Suggestion.objects.create(
        video=split, tag=tags["Спорт: Футбол"], score=0.8, rank=1, model_version=version
    )

    def annotate(video: Video, user: User, chosen: list[str]) -> None:
        annotation = Annotation.objects.create(
            video=video, annotator=user, state="submitted", submitted_at=timezone.now()
        )
        for path in chosen:
            TagDecision.objects.create(annotation=annotation, tag=tags[path], decision="add")

    annotate(agreed, crowd, ["Спорт: Футбол"])
    annotate(agreed, other_crowd, ["Спорт: Футбол"])
    annotate(split, crowd, ["Спорт: Футбол", "Музыка"])
    annotate(split, other_crowd, ["Спорт: Хоккей", "Спорт: Футбол"])
    annotate(unconfirmed, crowd, ["Еда и напитки"])
    annotate(unconfirmed, other_crowd, ["Еда и напитки", "Музыка"])
    annotate(unconfirmed, expert, ["Еда и напитки"])
    return {"old": old, "new": new, "agreed": agreed, "split": split, "unconfirmed": unconfirmed}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["old", "new", "agreed", "split"]),
        ({"scope": "all"}, ["old", "new", "agreed", "split", "unconfirmed"]),
        ({"date_from": str(timezone.now().date())}, ["new", "agreed", "split"]),
        ({"date_to": str((timezone.now() - timedelta(days=2)).date())}, ["old"]),
        ({"tags": ["Спорт"]}, ["new", "agreed", "split"]),
        ({"tags": ["Спорт: Хоккей", "Музыка"]}, ["old", "new"]),
        ({"tags": ["Музыка"], "scope": "all"}, ["old", "split", "unconfirmed"]),
        ({"min_agreement": 1.0}, ["agreed"]),
        ({"min_agreement": 0.3}, ["agreed", "split"]),
        ({"min_agreement": 0.5, "scope": "all"}, ["agreed", "unconfirmed"]),
    ],
)
def test_export_filters_choose_the_videos(
    project: Project,
    history: dict[str, Video],
    exports: AdminExports,
    filters: dict[str, Any],
    expected: list[str],
) -> None:
    snapshot = exports.build(format="jsonl", **filters)
    content, _response = exports.download(snapshot)
    titles = [json.loads(line)["title"] for line in content.decode().splitlines()]
    assert titles == [history[key].title for key in expected]
    assert snapshot["model_version"] == 3


def test_decisions_and_majority_tags_when_asked_for(
    project: Project,
    history: dict[str, Video],
    exports: AdminExports,
    crowd: User,
    other_crowd: User,
) -> None:
    detailed = exports.build(
        format="jsonl",
        include_decisions=True,
        tags=["Спорт: Футбол"],
    )
    content, _response = exports.download(detailed)
    split = [json.loads(line) for line in content.decode().splitlines()][1]
    assert split["title"] == "Разногласие"
    assert split["agreement"] == pytest.approx(1 / 3, abs=1e-4)
    assert [a["annotator"] for a in split["annotations"]] == sorted(
        [crowd.username, other_crowd.username]
    )
    assert split["labels"][0]["source"] == "review"
    assert split["suggestions"] == [
        {
            "tag": "Спорт: Футбол",
            "score": 0.8,
            "rank": 1,
            "above_threshold": True,
            "model_version": "v3",
        }
    ]
    everything = exports.build(format="csv", scope="all")
    rows = list(csv.DictReader(io.StringIO(exports.download(everything)[0].decode())))
    # With no confirmed tags, a row carries the tags at least half of its annotators chose.
    assert rows[-1]["title"] == "Не подтверждено"
    assert rows[-1]["tags"] == "Еда и напитки"


def test_a_label_studio_export_matches_its_labeling_config(
    project: Project,
    history: dict[str, Video],
    exports: AdminExports,
) -> None:
    snapshot = exports.build(format="labelstudio", scope="all")
    tasks = json.loads(exports.download(snapshot)[0])
    config_url = f"/api/v1/projects/{project.pk}/labelstudio-config/"
    config = exports.client.get(config_url).json()["config"]
    assert '<Choices name="tags" toName="text" choice="multiple"' in config
    for task in tasks:
        assert task["data"]["text"].startswith(task["data"]["title"])
        for item in [r for a in task["annotations"] for r in a["result"]] + [
            r for p in task["predictions"] for r in p["result"]
        ]:
            assert (item["from_name"], item["to_name"], item["type"]) == ("tags", "text", "choices")
            for choice in item["value"]["choices"]:
                assert f'<Choice value="{choice}"/>' in config
    split = next(t for t in tasks if t["data"]["title"] == "Разногласие")
    assert [a["ground_truth"] for a in split["annotations"]] == [True, False, False]
    assert split["predictions"][0]["model_version"] == "v3"


def test_the_label_studio_config_keeps_the_deprecated_tags_exported_tasks_carry(
    project: Project, history: dict[str, Video], exports: AdminExports, admin_user: User
) -> None:
    tag_deprecate(tag=Tag.objects.get(project=project, path="Спорт: Хоккей"), by=admin_user)
    tag_deprecate(tag=make_tag(project, "Кино"), by=admin_user)  # on no label
    tasks = json.loads(exports.download(exports.build(format="labelstudio", scope="all"))[0])
    config_url = f"/api/v1/projects/{project.pk}/labelstudio-config/"
    config = exports.client.get(config_url).json()["config"]
    carried = {
        choice
        for task in tasks
        for result in [*task["annotations"], *task["predictions"]]
        for item in result["result"]
        for choice in item["value"]["choices"]
    }
    assert "Спорт: Хоккей" in carried
    assert {c for c in carried if f'<Choice value="{c}"/>' not in config} == set()
    assert '<Choice value="Кино"/>' not in config


@pytest.fixture
def by_model(project: Project, expert: User, crowd: User) -> dict[str, Video]:
    """Videos people confirmed, the model confirmed (auto-confirmation), or both.

    The services give a video one kind of label at a time (the model confirms only a
    video with none, a review vouches for all it keeps); the store holds both kinds on
    one video all the same, and exports must be right for it.
    """
    football, hockey, music = (
        make_tag(project, path) for path in ("Спорт: Футбол", "Спорт: Хоккей", "Музыка")
    )
    version = ModelVersion.objects.create(project=project, number=4, state="promoted")
    videos = {
        key: Video.objects.create(project=project, title=title, external_id=key)
        for key, title in (
            ("people", "Люди"),
            ("model", "Модель"),
            ("both", "Люди и модель"),
            ("answered", "Модель и ответ"),
        )
    }
    confirm_label(videos["people"], football, source=LabelSource.REVIEW, by=expert)
    annotation = Annotation.objects.create(
        video=videos["answered"], annotator=crowd, state="submitted", submitted_at=timezone.now()
    )
    TagDecision.objects.create(annotation=annotation, tag=music, decision="add")
    for key in ("model", "both", "answered"):
        assert video_confirm_by_model(video=videos[key], tag_ids=[hockey.pk], version=version)
    confirm_label(videos["both"], music, source=LabelSource.REVIEW, by=expert)
    return videos


def _csv_tags(content: bytes) -> dict[str, str]:
    rows = list(csv.reader(io.StringIO(content.decode("utf-8"))))
    assert rows[0] == ["video_id", "title", "description", "tags"]
    return {video_id: tags for video_id, _title, _description, tags in rows[1:]}


@pytest.mark.label_audit
@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (
            {},
            {
                "people": "Спорт: Футбол",
                "model": "Спорт: Хоккей",
                "both": "Музыка, Спорт: Хоккей",
                "answered": "Спорт: Хоккей",
            },
        ),
        ({"human_only": True}, {"people": "Спорт: Футбол", "both": "Музыка"}),
        # The model's video with an answer stays for it, with its annotators' majority.
        (
            {"human_only": True, "scope": "all"},
            {"people": "Спорт: Футбол", "both": "Музыка", "answered": "Музыка"},
        ),
        ({"human_only": True, "tags": ["Спорт: Хоккей"]}, {}),
        ({"human_only": True, "tags": ["Спорт"]}, {"people": "Спорт: Футбол"}),
    ],
)
def test_a_csv_export_of_people_s_labels_leaves_the_model_s_out(
    by_model: dict[str, Video],
    exports: AdminExports,
    filters: dict[str, Any],
    expected: dict[str, str],
) -> None:
    snapshot = exports.build(format="csv", **filters)
    assert _csv_tags(exports.download(snapshot)[0]) == expected
    assert snapshot["row_count"] == len(expected)
    assert snapshot["filters"]["human_only"] is filters.get("human_only", False)


@pytest.mark.label_audit
def test_a_jsonl_export_marks_the_model_s_labels_or_leaves_them_out(
    by_model: dict[str, Video], exports: AdminExports, expert: User
) -> None:
    def exported(**filters: Any) -> dict[str, dict[str, Any]]:
        content = exports.download(exports.build(format="jsonl", **filters))[0]
        return {row["external_id"]: row for row in map(json.loads, content.decode().splitlines())}

    everything = exported(include_decisions=True)
    assert {key: row["tags"] for key, row in everything.items()} == {
        "people": ["Спорт: Футбол"],
        "model": ["Спорт: Хоккей"],
        "both": ["Музыка", "Спорт: Хоккей"],
        "answered": ["Спорт: Хоккей"],
    }
    assert [
        (label["tag"], label["source"], label["confirmed_by"], label.get("model_version"))
        for label in everything["both"]["labels"]
    ] == [("Музыка", "review", expert.username, None), ("Спорт: Хоккей", "model", None, 4)]
    people = exported(include_decisions=True, human_only=True)
    assert {key: row["tags"] for key, row in people.items()} == {
        "people": ["Спорт: Футбол"],
        "both": ["Музыка"],
    }
    assert [label["source"] for label in people["both"]["labels"]] == ["review"]
    assert {key: row["tags"] for key, row in exported(human_only=True, scope="all").items()} == {
        "people": ["Спорт: Футбол"],
        "both": ["Музыка"],
        "answered": [],
    }


@pytest.mark.label_audit
def test_a_label_studio_export_of_people_s_labels_has_no_model_ground_truth(
    by_model: dict[str, Video], exports: AdminExports
) -> None:
    tasks = json.loads(exports.download(exports.build(format="labelstudio", human_only=True))[0])
    assert [task["data"]["video_id"] for task in tasks] == ["people", "both"]
    truth = tasks[1]["annotations"][0]
    assert truth["result"][0]["value"]["choices"] == ["Музыка"]
    assert truth["label_sources"] == {"Музыка": "review"}


@pytest.mark.label_audit
def test_the_export_command_leaves_the_model_s_labels_out_when_asked(
    project: Project, by_model: dict[str, Video], tmp_path: Path
) -> None:
    target, out = tmp_path / "people.csv", io.StringIO()
    call_command(
        "export_dataset",
        "--project",
        project.name,
        "--format",
        "csv",
        "--human-only",
        "-o",
        str(target),
        stdout=out,
    )
    assert "2 rows" in out.getvalue()
    assert _csv_tags(target.read_bytes()) == {"people": "Спорт: Футбол", "both": "Музыка"}


@pytest.mark.parametrize("value", ["maybe", 2, [True]])
def test_a_human_only_filter_that_is_not_a_boolean_is_refused(
    project: Project, clients: dict[str, APIClient], value: object
) -> None:
    refused = clients["admin_user"].post(
        f"/api/v1/projects/{project.pk}/exports/",
        {"format": "csv", "human_only": value},
        format="json",
    )
    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["human_only"]
    assert not ExportSnapshot.objects.exists()
    with pytest.raises(ExportFilterError, match="human_only must be true or false"):
        ExportFilters.from_dict({"human_only": "yes"})


def test_exports_are_throttled_per_user(
    project: Project, clients: dict[str, APIClient], settings: Settings
) -> None:
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "exports": "2/min"}
    url = f"/api/v1/projects/{project.pk}/exports/"
    codes = [
        clients["admin_user"].post(url, {"format": "csv"}, format="json").status_code
        for _ in range(3)
    ]
    assert codes == [202, 202, 429]
    refused = clients["admin_user"].post(url, {"format": "csv"}, format="json")
    assert int(refused["Retry-After"]) > 0
    assert refused.json()["code"] == "throttled"
    assert clients["admin_user"].get(url).status_code == 200  # reading is not limited


def test_a_snapshot_not_built_yet_cannot_be_downloaded(
    project: Project, clients: dict[str, APIClient]
) -> None:
    response = clients["admin_user"].post(
        f"/api/v1/projects/{project.pk}/exports/", {"format": "jsonl"}, format="json"
    )
    snapshot = ExportSnapshot.objects.get(pk=response.json()["id"])
    assert snapshot.state == "building"
    job = clients["admin_user"].get(f"/api/v1/jobs/export-{snapshot.pk}/").json()
    assert job["state"] == "queued"
    download = clients["admin_user"].get(f"/api/v1/exports/{snapshot.pk}/download/")
    assert download.status_code == 409
    assert "not ready" in download.json()["detail"]
