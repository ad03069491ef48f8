"""What a crowd worker may not see cannot be inferred through any field or parameter.

Two videos assigned to a crowd worker are alike in all they may see; one of them then
gets what only experts may see: an imported confirmed tag, the tags it came with in
its metadata, another annotator's decisions. Every GET endpoint of the schema, with
every value of every query parameter, must answer the crowd worker the same before
and after, and must treat the two videos alike. The expert's answers do change, so
the walk would notice a leak.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from annotations.models import (
    Annotation,
    ConfirmedLabel,
    Decision,
    LabelSource,
    Project,
    Suggestion,
    TagDecision,
    TranscriptSegment,
    Video,
)
from tests.api.conftest import schema_of, token_client
from tests.factories import assign, make_tag, make_video

TAGS = ("Спорт", "Спорт: Футбол", "Спорт: Хоккей", "Музыка")
HIDDEN_TAG = "Спорт: Футбол"
UNKNOWN_TAG = "Кино"  # imported, not in the taxonomy: kept in metadata only
MAX_PAGES = 10
# Fields that differ between two otherwise alike objects: ids and times.
IDENTITY = {"id", "video", "video_id", "created_at", "started_at", "updated_at", "decided_at"}


def _alike(project: Project, crowd: User, tags: dict[str, Any]) -> Video:
    video = make_video(project, title="Матч недели", description="Обзор голов")
    assign(video, crowd)
    TranscriptSegment.objects.create(
        video=video, index=0, start_seconds=0, end_seconds=2, text="Добрый вечер", source="asr"
    )
    Suggestion.objects.create(video=video, tag=tags["Спорт: Хоккей"], score=0.7, rank=1)
    own = Annotation.objects.create(video=video, annotator=crowd)
    TagDecision.objects.create(annotation=own, tag=tags["Спорт: Хоккей"], decision=Decision.ACCEPT)
    return video


@pytest.fixture
def pair(project: Project, crowd: User) -> tuple[Video, Video]:
    tags = {path: make_tag(project, path) for path in TAGS}
    return _alike(project, crowd, tags), _alike(project, crowd, tags)


def _confirm_on_import(video: Video, other: User) -> None:
    tag = video.project.tags.get(path=HIDDEN_TAG)
    ConfirmedLabel.objects.create(video=video, tag=tag, source=LabelSource.IMPORT)


def _keep_imported_tags(video: Video, other: User) -> None:
    video.metadata = {"original_tags": [HIDDEN_TAG, UNKNOWN_TAG], "unknown_tags": [UNKNOWN_TAG]}
    video.save()


def _import_a_tag_a_model_confirmed(video: Video, other: User) -> None:
    tag = video.project.tags.get(path="Музыка")
    ConfirmedLabel.objects.create(video=video, tag=tag, source=LabelSource.IMPORTED_MODEL)


def _let_another_annotator_choose(video: Video, other: User) -> None:
    assign(video, other)
    theirs = Annotation.objects.create(video=video, annotator=other, state="submitted")
    for path in (HIDDEN_TAG, "Музыка"):
        TagDecision.objects.create(
            annotation=theirs, tag=video.project.tags.get(path=path), decision=Decision.ADD
        )


# Each kind of hidden data, and what it changes for an expert ({p}: project, {v}: video).
HIDDEN: dict[str, tuple[Callable[[Video, User], None], list[str]]] = {
    "an imported confirmed tag": (
        _confirm_on_import,
        [
            "/api/v1/videos/{v}/",
            "/api/v1/projects/{p}/tags/",
            "/api/v1/projects/{p}/videos/?confirmed=true",
            f"/api/v1/projects/{{p}}/videos/?tag={HIDDEN_TAG}",
        ],
    ),
    "the tags it was imported with": (_keep_imported_tags, ["/api/v1/videos/{v}/"]),
    "an imported tag another project's model confirmed": (
        _import_a_tag_a_model_confirmed,
        [
            "/api/v1/videos/{v}/",
            "/api/v1/projects/{p}/tags/",
            "/api/v1/projects/{p}/videos/?confirmed=true",
            "/api/v1/projects/{p}/videos/?tag=Музыка",
        ],
    ),
    "another annotator's decisions": (
        _let_another_annotator_choose,
        [
            "/api/v1/videos/{v}/annotations/",
            "/api/v1/projects/{p}/annotations/?annotator=cora_crowd",
            f"/api/v1/projects/{{p}}/videos/?tag={HIDDEN_TAG}",
        ],
    ),
}


def _hide_answers_in(video: Video, other: User) -> None:
    for hide, _shows in HIDDEN.values():
        hide(video, other)


def _values(parameter: dict[str, Any], words: list[str]) -> list[str]:
    schema = parameter.get("schema", {})
    if "enum" in schema:
        return [str(value) for value in schema["enum"]]
    if schema.get("type") == "boolean":
        return ["true", "false"]
    if schema.get("type") == "integer":
        return ["1"]
    return words


def _requests(schema: dict[str, Any], ids: dict[str, list[Any]], words: list[str]) -> Iterator[str]:
    """Every GET of the API with each value of each query parameter, one at a time."""
    for template, operations in schema["paths"].items():
        if "get" not in operations or not template.startswith("/api/v1/"):
            continue
        parameters = operations["get"].get("parameters", [])
        path_names = [p["name"] for p in parameters if p["in"] == "path"]
        assert all(name in ids for name in path_names), f"no test ids for {template}"
        fills: list[dict[str, Any]] = [{}]
        for name in path_names:
            fills = [{**fill, name: value} for fill in fills for value in ids[name]]
        for fill in fills:
            path = template.format(**fill)
            yield path
            for parameter in parameters:
                if parameter["in"] == "query" and parameter["name"] != "cursor":
                    for value in _values(parameter, words):
                        yield f"{path}?{parameter['name']}={value}"


def _answer(client: APIClient, url: str) -> tuple[int, Any]:
    """The status and body; a paginated list is followed to its end and given whole."""
    response = client.get(url)
    body = response.json() if response["Content-Type"].startswith("application/json") else None
    if response.status_code == 200 and isinstance(body, dict) and "results" in body:
        results = list(body["results"])
        following, pages = body["next"], 1
        while following and pages < MAX_PAGES:
            page = client.get(following).json()
            results += page["results"]
            following, pages = page["next"], pages + 1
        body = {"results": results}
    return response.status_code, body


def _walk(client: APIClient, urls: list[str]) -> dict[str, tuple[int, Any]]:
    return {url: _answer(client, url) for url in urls}


def _without_identity(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_identity(v) for k, v in value.items() if k not in IDENTITY}
    if isinstance(value, list):
        return [_without_identity(item) for item in value]
    return value


@pytest.fixture
def walk(
    project: Project, pair: tuple[Video, Video], crowd: User, other_crowd: User, expert: User
) -> list[str]:
    schema = schema_of(APIClient())
    plain, labeled = pair
    ids: dict[str, list[Any]] = {
        "project_id": [project.pk],
        "video_id": [plain.pk, labeled.pk],
        "job_id": [f"ingest-{plain.pk}", f"ingest-{labeled.pk}"],
        "version_id": [1],
        "export_id": [1],
    }
    words = [
        *TAGS,
        UNKNOWN_TAG,
        "Спорт:Футбол",
        "Футбол",
        "import",
        "submitted",
        crowd.username,
        other_crowd.username,
        expert.username,
        "Матч",
    ]
    return list(_requests(schema, ids, words))


@pytest.mark.parametrize("hidden", list(HIDDEN))
def test_hidden_labels_change_nothing_a_crowd_worker_can_ask_for(
    hidden: str,
    pair: tuple[Video, Video],
    walk: list[str],
    crowd: User,
    other_crowd: User,
    expert: User,
) -> None:
    plain, labeled = pair
    hide, shows = HIDDEN[hidden]
    as_crowd, as_expert = token_client(crowd), token_client(expert)
    crowd_before, expert_before = _walk(as_crowd, walk), _walk(as_expert, walk)
    hide(labeled, other_crowd)
    crowd_after, expert_after = _walk(as_crowd, walk), _walk(as_expert, walk)

    changed = [url for url in walk if crowd_before[url] != crowd_after[url]]
    assert not changed, "\n".join(f"{u}: {crowd_before[u]} -> {crowd_after[u]}" for u in changed)
    seen_by_expert = {url for url in walk if expert_before[url] != expert_after[url]}
    for url in shows:
        url = url.format(p=plain.project_id, v=labeled.pk)
        assert url in seen_by_expert, f"the walk would not notice what {url} shows"


def test_two_videos_alike_but_for_hidden_labels_are_alike_to_a_crowd_worker(
    pair: tuple[Video, Video], walk: list[str], crowd: User, other_crowd: User
) -> None:
    plain, labeled = pair
    _hide_answers_in(labeled, other_crowd)
    client = token_client(crowd)
    for url in walk:
        status, body = _answer(client, url)
        if url.startswith(f"/api/v1/projects/{plain.project_id}/videos/") and status == 200:
            listed = {video["id"] for video in body["results"]}
            assert (plain.pk in listed) == (labeled.pk in listed), url
        for prefix in ("/api/v1/videos/", "/api/v1/jobs/ingest-"):
            if not url.startswith(f"{prefix}{labeled.pk}/"):
                continue
            twin = url.replace(f"{prefix}{labeled.pk}/", f"{prefix}{plain.pk}/")
            twin_status, twin_body = _answer(client, twin)
            assert (status, _without_identity(body)) == (
                twin_status,
                _without_identity(twin_body),
            ), url


def test_a_crowd_workers_label_filters_look_at_their_own_choices(
    project: Project, pair: tuple[Video, Video], crowd: User, other_crowd: User
) -> None:
    plain, labeled = pair
    _hide_answers_in(labeled, other_crowd)
    unchosen = make_video(project, title="Ещё не размечено")
    assign(unchosen, crowd)
    client = token_client(crowd)
    url = f"/api/v1/projects/{project.pk}/videos/"

    def listed(query: str) -> list[int]:
        response = client.get(f"{url}?{query}")
        assert response.status_code == 200, response.content
        return [video["id"] for video in response.json()["results"]]

    assert listed("tag=Спорт") == [plain.pk, labeled.pk]  # their own «Спорт: Хоккей»
    assert listed(f"tag={HIDDEN_TAG}") == []
    assert listed("confirmed=true") == [plain.pk, labeled.pk]
    assert listed("confirmed=false") == [unchosen.pk]
    tags = client.get(f"/api/v1/projects/{project.pk}/tags/").json()["results"]
    sport = next(tag["id"] for tag in tags if tag["path"] == "Спорт")
    counts = {tag["path"]: tag["labeled_videos"] for tag in tags if tag["parent"] == sport}
    assert counts == {"Спорт: Футбол": 0, "Спорт: Хоккей": 2}
