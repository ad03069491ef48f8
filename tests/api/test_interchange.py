"""Datasets in and out: a Label Studio or JSONL export imported again gives the same export."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from annotations.models import (
    Annotation,
    ConfirmedLabel,
    Job,
    ModelVersion,
    Project,
    Suggestion,
    TagDecision,
    TranscriptSegment,
    Video,
)
from annotations.selectors.audit import label_store_audit
from annotations.services.jobs.control import job_run_now
from annotations.services.learning.examples import examples_for_videos
from tests.factories import confirm_label, make_project, make_tag

pytestmark = pytest.mark.label_audit


@pytest.fixture
def source(project: Project, crowd: User, other_crowd: User, expert: User) -> Project:
    """A project with everything a dataset carries."""
    tags = {p: make_tag(project, p) for p in ("Спорт: Футбол", "Спорт: Хоккей", "Музыка")}
    version = ModelVersion.objects.create(project=project, number=4, state="promoted")
    for i in range(6):
        video = Video.objects.create(
            project=project,
            title=f"Ролик {i}",
            description="Описание, с запятой" if i % 2 else "",
            external_id=f"rt-{i}" if i != 3 else "",
            summary=f"Кратко {i}." if i % 3 == 0 else "",
        )
        for k in range(i % 3):
            TranscriptSegment.objects.create(
                video=video,
                index=k,
                start_seconds=k * 1.5,
                end_seconds=k * 1.5 + 1.25,
                text=f"слово {k}",
                source="asr",
            )
        if i != 5:
            confirm_label(
                video,
                tags["Спорт: Футбол" if i % 2 else "Музыка"],
                source="review" if i % 2 else "import",
                by=expert if i % 2 else None,
            )
        for rank, path in enumerate(("Спорт: Футбол", "Музыка"), start=1):
            Suggestion.objects.create(
                video=video,
                tag=tags[path],
                score=round(0.9 / rank, 3),
                rank=rank,
                above_threshold=rank == 1,
                model_version=version,
            )
        for user, path in ((crowd, "Спорт: Футбол"), (other_crowd, "Спорт: Хоккей")):
            if i % 2:
                annotation = Annotation.objects.create(
                    video=video, annotator=user, state="submitted", submitted_at=timezone.now()
                )
                TagDecision.objects.create(
                    annotation=annotation,
                    tag=tags[path],
                    decision="accept" if path == "Спорт: Футбол" else "add",
                    suggested_score=0.9 if path == "Спорт: Футбол" else None,
                )
    return project


def _export(client: APIClient, project: Project, run: Callable[..., Any], **body: Any) -> bytes:
    with run(execute=True):
        made = client.post(f"/api/v1/projects/{project.pk}/exports/", body, format="json").json()
    snapshot = client.get(f"/api/v1/exports/{made['id']}/").json()
    assert snapshot["state"] == "ready", snapshot
    return b"".join(client.get(snapshot["download_url"]).streaming_content)  # type: ignore[attr-defined]


def _import(client: APIClient, project: Project, content: bytes, fmt: str) -> dict[str, Any]:
    """The report of an import through the API, once its job ran (not the ingests it queued)."""
    upload = SimpleUploadedFile("dataset", content)
    response = client.post(
        f"/api/v1/projects/{project.pk}/dataset-imports/",
        {"file": upload, "format": fmt, "create_missing_tags": True},
        format="multipart",
    )
    assert response.status_code == 202, response.content
    job_run_now(Job.objects.get(pk=int(response.json()["job"].removeprefix("import-"))))
    job = client.get(response.json()["status_url"]).json()
    assert job["state"] == "done", job
    report: dict[str, Any] = job["result"]["report"]
    return report


def _round_trip(
    client: APIClient, source: Project, run: Callable[..., Any], fmt: str, target_name: str
) -> tuple[Project, bytes, dict[str, Any], bytes]:
    """Export everything of ``source``, import it into a new project, export that again.

    Returns the new project, the first export, the import's report and the second export.
    """
    body = {"format": fmt, "scope": "all", "include_decisions": True}
    exported = _export(client, source, run, **body)
    target = make_project(target_name)
    report = _import(client, target, exported, fmt)
    return target, exported, report, _export(client, target, run, **body)


def _without_ids(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for task in tasks:
        task.pop("id")
    return tasks


def _comparable_jsonl(text: str) -> list[dict[str, Any]]:
    """JSONL rows without what differs between projects: ids, decisions' model versions."""
    rows = [json.loads(line) for line in text.splitlines()]
    for row in rows:
        row.pop("id")
        for annotation in row["annotations"]:
            for decision in annotation["decisions"]:
                # A decision's model version names a model of the source project only.
                decision.pop("model_version")
    return rows


def _export_jsonl_command(project: Project, path: Path, out: io.StringIO) -> None:
    call_command(
        "export_dataset",
        "--project",
        project.name,
        "--format",
        "jsonl",
        "--scope",
        "all",
        "--decisions",
        "-o",
        str(path),
        stdout=out,
    )


def test_a_label_studio_export_round_trips_without_loss(
    source: Project,
    clients: dict[str, APIClient],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    admin = clients["admin_user"]
    target, exported, report, again = _round_trip(
        admin, source, django_capture_on_commit_callbacks, "labelstudio", "Копия"
    )
    assert (report["created"], report["failed"], report["tags_created"]) == (6, 0, 4)
    original = _without_ids(json.loads(exported))
    assert _without_ids(json.loads(again)) == original
    assert any(task["predictions"] for task in original)
    assert any(len(task["annotations"]) == 3 for task in original)
    # Importing the same file again adds nothing: the external ids are already there.
    assert _import(admin, target, exported, "labelstudio")["skipped"] == 6


def test_a_jsonl_export_round_trips_without_loss(
    source: Project,
    clients: dict[str, APIClient],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    _target, exported, report, again = _round_trip(
        clients["admin_user"], source, django_capture_on_commit_callbacks, "jsonl", "Копия JSONL"
    )
    assert (report["created"], report["failed"]) == (6, 0), report
    assert _comparable_jsonl(again.decode()) == _comparable_jsonl(exported.decode())
    assert _comparable_jsonl(exported.decode())[1]["labels"][0]["confirmed_by"] == "eve_expert"


def test_a_label_studio_file_from_label_studio_itself_imports(
    project: Project, clients: dict[str, APIClient], crowd: User
) -> None:
    make_tag(project, "Спорт: Футбол")
    make_tag(project, "Музыка")
    tasks = [
        {
            "id": 71,
            "data": {"text": "Финал\nОписание матча"},
            "annotations": [
                {"id": 1, "completed_by": 5, "result": [_choices(["Спорт: Футбол"])]},
                {"id": 2, "completed_by": 6, "result": [_choices(["Спорт: Футбол", "Музыка"])]},
                {"id": 3, "completed_by": 7, "was_cancelled": True, "result": []},
            ],
            "predictions": [
                {"model_version": "bert-3", "score": 0.7, "result": [_choices(["Музыка"])]}
            ],
        },
        {
            "id": 72,
            "data": {"title": "Таксономия", "video_id": "x-72"},
            "annotations": [
                {
                    "completed_by": {"email": "carl@example.org"},
                    "result": [
                        {
                            "from_name": "tax",
                            "to_name": "text",
                            "type": "taxonomy",
                            "value": {"taxonomy": [["Спорт", "Футбол"]]},
                        }
                    ],
                }
            ],
        },
    ]
    crowd.email = "carl@example.org"
    crowd.save()
    report = _import(clients["admin_user"], project, json.dumps(tasks).encode(), "labelstudio")
    assert (report["created"], report["failed"], report["tags_created"]) == (2, 0, 0)
    first = Video.objects.get(external_id="labelstudio-71")
    assert first.title == "Финал"
    # No ground truth: the tags at least half of the annotations chose.
    assert sorted(first.confirmed_labels.values_list("tag__path", flat=True)) == [
        "Музыка",
        "Спорт: Футбол",
    ]
    suggestion = Suggestion.objects.get(video=first)
    assert (suggestion.tag.path, suggestion.score) == ("Музыка", 0.7)
    assert first.metadata["suggestions_model"] == "bert-3"
    second = Video.objects.get(external_id="x-72")
    assert Annotation.objects.get(video=second).annotator == crowd


def test_unreadable_lines_are_reported_and_the_others_import(
    project: Project, clients: dict[str, APIClient]
) -> None:
    content = b'{"title": "ok"}\n[1, 2]\n\xff\xfe\n{"description": "no title"}\n'
    report = _import(clients["admin_user"], project, content, "jsonl")
    assert (report["created"], report["failed"]) == (1, 3)
    assert report["messages"] == [
        "line 2: each line must be a JSON object",
        report["messages"][1],
        "line 4: the video has no title",
    ]
    assert report["messages"][1].startswith("line 3 is not valid JSON")


def _choices(paths: list[str]) -> dict[str, Any]:
    return {"from_name": "tags", "to_name": "text", "type": "choices", "value": {"choices": paths}}


@pytest.mark.parametrize(
    ("content", "fmt", "message"),
    [
        (b"{not json", "labelstudio", "not valid JSON"),
        (b'"a string"', "labelstudio", "list of tasks"),
        (b'[{"data": {"title": "x"}}', "labelstudio", "not valid JSON"),
    ],
)
def test_an_unreadable_dataset_is_a_400_naming_the_problem(
    project: Project, clients: dict[str, APIClient], content: bytes, fmt: str, message: str
) -> None:
    upload = SimpleUploadedFile("dataset", content)
    response = clients["admin_user"].post(
        f"/api/v1/projects/{project.pk}/dataset-imports/",
        {"file": upload, "format": fmt},
        format="multipart",
    )
    assert response.status_code == 400
    assert message in response.json()["detail"]


def test_the_commands_export_and_import_the_same_rows(source: Project, tmp_path: Path) -> None:
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    out = io.StringIO()
    _export_jsonl_command(source, first, out)
    assert "6 rows" in out.getvalue()
    target = make_project("Из файла")
    call_command(
        "import_dataset", "--project", target.name, "--create-tags", str(first), stdout=out
    )
    assert "6 imported, 0 skipped, 0 failed" in out.getvalue()
    _export_jsonl_command(target, second, out)
    assert _comparable_jsonl(second.read_text()) == _comparable_jsonl(first.read_text())
    with pytest.raises(CommandError, match="date_from must be a date"):
        call_command(
            "export_dataset", "--project", target.name, "--format", "csv", "--from", "soon"
        )


def _jsonl(*rows: dict[str, Any]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def _import_rows(project: Project, tmp_path: Path, *rows: dict[str, Any]) -> str:
    """What ``import_dataset`` says when it imports these JSONL rows into ``project``."""
    dataset = tmp_path / "dataset.jsonl"
    dataset.write_text(_jsonl(*rows))
    out = io.StringIO()
    call_command("import_dataset", "--project", project.name, str(dataset), stdout=out)
    return out.getvalue()


def test_labels_whose_source_this_project_cannot_back_arrive_as_imported(
    project: Project, tmp_path: Path
) -> None:
    make_tag(project, "Спорт")
    said = _import_rows(
        project,
        tmp_path,
        {
            "title": "a",
            "tags": ["Спорт"],
            "labels": [{"tag": "Спорт", "source": "review", "confirmed_by": "ghost_reviewer"}],
        },
        # An export without the annotators' decisions: the agreement has no answers here.
        {
            "title": "b",
            "tags": ["Спорт"],
            "labels": [{"tag": "Спорт", "source": "agreement", "confirmed_by": None}],
        },
    )
    assert "2 imported, 0 skipped, 0 failed" in said
    assert (
        "item 1: tag 'Спорт': confirmed by review of 'ghost_reviewer', who is not a user here; "
        "kept as imported" in said
    )
    assert (
        "item 2: tag 'Спорт': confirmed by agreement, but no imported answer chose it; "
        "kept as imported" in said
    )
    labels = ConfirmedLabel.objects.filter(video__project=project).order_by("video__title")
    assert list(labels.values_list("video__title", "source", "confirmed_by")) == [
        ("a", "import", None),
        ("b", "import", None),
    ]
    assert label_store_audit(project) == []
    call_command("audit_labels", "--project", project.name, stdout=io.StringIO())


def test_labels_whose_source_this_project_can_back_keep_it(
    project: Project, tmp_path: Path, crowd: User, other_crowd: User, expert: User
) -> None:
    make_tag(project, "Спорт")
    make_tag(project, "Музыка")
    said = _import_rows(
        project,
        tmp_path,
        {
            "title": "a",
            "tags": ["Спорт"],
            "labels": [{"tag": "Спорт", "source": "review", "confirmed_by": expert.username}],
        },
        {
            "title": "b",
            "tags": ["Музыка", "Спорт"],
            "labels": [
                {"tag": "Спорт", "source": "agreement", "confirmed_by": None},
                {"tag": "Музыка", "source": "agreement", "confirmed_by": None},
            ],
            "annotations": [
                # Only the answer of a user here counts: the other one is not imported.
                {"annotator": crowd.username, "decisions": [{"tag": "Спорт", "decision": "add"}]},
                {"annotator": "stranger", "decisions": [{"tag": "Музыка", "decision": "add"}]},
            ],
        },
    )
    assert "2 imported, 0 skipped, 0 failed" in said
    assert "tag 'Спорт'" not in said
    assert "tag 'Музыка': confirmed by agreement, but no imported answer" in said
    labels = ConfirmedLabel.objects.filter(video__project=project)
    assert sorted(labels.values_list("video__title", "tag__path", "source", "confirmed_by")) == [
        ("a", "Спорт", "review", expert.pk),
        ("b", "Музыка", "import", None),
        ("b", "Спорт", "agreement", None),
    ]
    assert label_store_audit(project) == []


def test_a_label_another_project_s_model_confirmed_stays_the_model_s_word(
    project: Project, tmp_path: Path, admin_user: User, django_capture_on_commit_callbacks: Any
) -> None:
    make_tag(project, "Спорт")
    make_tag(project, "Музыка")
    _import_rows(
        project,
        tmp_path,
        {
            "title": "a",
            "tags": ["Музыка", "Спорт"],
            "labels": [
                {"tag": "Спорт", "source": "model", "model_version": 7},
                {"tag": "Музыка", "source": "import"},
            ],
        },
    )

    video = Video.objects.get(project=project)
    assert sorted(video.confirmed_labels.values_list("tag__path", "source", "model_version")) == [
        ("Музыка", "import", None),
        ("Спорт", "import_model", None),
    ]
    assert list(video.label_changes.values_list("tag__path", "source").order_by("tag__path")) == [
        ("Музыка", "import"),
        ("Спорт", "import_model"),
    ]
    assert label_store_audit(project) == []
    # Not people's word: training on people's labels and their exports leave it out.
    (example,) = examples_for_videos([video], with_tags=True, human_only=True)
    assert list(example.tags) == ["Музыка"]
    client = APIClient()
    client.force_authenticate(admin_user)
    people = _export(
        client, project, django_capture_on_commit_callbacks, format="jsonl", human_only=True
    )
    assert json.loads(people)["tags"] == ["Музыка"]
    # Everything exported and imported again keeps what it is.
    everything = _export(
        client, project, django_capture_on_commit_callbacks, format="jsonl", include_decisions=True
    )
    assert {label["tag"]: label["source"] for label in json.loads(everything)["labels"]} == {
        "Музыка": "import",
        "Спорт": "import_model",
    }
    again = make_project("again")
    _import(client, again, everything, "jsonl")
    assert sorted(
        ConfirmedLabel.objects.filter(video__project=again).values_list("tag__path", "source")
    ) == [("Музыка", "import"), ("Спорт", "import_model")]
