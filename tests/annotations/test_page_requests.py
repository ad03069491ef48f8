"""What every page does with what a request carries: htmx headers and junk parameters."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from annotations.models import Annotation, ModelVersion, Project, Tag, Video
from annotations.services.labeling.annotation import annotation_start
from tests.annotations.labeling_fixtures import ready_video
from tests.factories import HTMX, client_for, make_tag

NUL = "\x00"
JUNK = [f"x{NUL}y", NUL, "abc", "", "-1", "1.5", "²", "9" * 30]


@pytest.fixture
def tag(project: Project) -> Tag:
    return make_tag(project, "Спорт: Футбол")


@pytest.fixture
def video(project: Project, tag: Tag) -> Video:
    return ready_video(project, title="Матч недели")


@pytest.fixture
def annotation(video: Video, admin_user: User) -> Annotation:
    return annotation_start(video=video, annotator=admin_user)


@pytest.fixture
def training(project: Project) -> ModelVersion:
    return ModelVersion.objects.create(project=project, number=1, state="training")


# (method, url, what a well-formed request sends, the parameters filled with junk one by one)
DECISION = {"tag": "{tag}", "decision": "accept", "revision": "{revision}"}
JUNK_REQUESTS = [
    ("get", "/projects/{project}/", {}, ["page", "status", "q"]),
    ("get", "/projects/{project}/videos/", {}, ["page", "tag", "annotator", "status", "q"]),
    ("get", "/projects/{project}/videos/", {}, ["confirmed", "suggested"]),
    ("get", "/projects/{project}/models/", {}, ["was"]),
    ("get", "/projects/{project}/review/", {}, ["page"]),
    ("get", "/videos/{video}/processing/", {}, ["was"]),
    ("get", "/videos/{video}/label/tags/", {}, ["q"]),
    ("post", "/annotations/{annotation}/decisions/", DECISION, ["tag", "decision", "revision"]),
    ("post", "/annotations/{annotation}/decisions/", DECISION, ["active_seconds"]),
    ("post", "/annotations/{annotation}/activity/", {}, ["active_seconds"]),
    ("post", "/annotations/{annotation}/submit/", {"revision": "{revision}"}, ["revision"]),
    ("post", "/annotations/{annotation}/skip/", {"revision": "{revision}"}, ["reason"]),
    ("post", "/videos/{video}/review/", {"tag": "{tag}", "revision": "0"}, ["tag", "add_path"]),
    ("post", "/videos/{video}/review/", {"tag": "{tag}", "revision": "0"}, ["revision"]),
]


@pytest.mark.parametrize(("method", "url", "valid", "names"), JUNK_REQUESTS)
def test_junk_in_a_page_parameter_is_answered_without_a_server_error(
    admin_user: User,
    project: Project,
    tag: Tag,
    video: Video,
    annotation: Annotation,
    training: ModelVersion,
    method: str,
    url: str,
    valid: dict[str, str],
    names: list[str],
) -> None:
    client = client_for(admin_user)
    path = url.format(project=project.pk, video=video.pk, annotation=annotation.pk)
    for name in names:
        for junk in JUNK:
            annotation.refresh_from_db()
            data = {
                key: value.format(tag=tag.pk, revision=annotation.revision)
                for key, value in valid.items()
            }
            data[name] = junk
            for headers in ({}, HTMX):
                response = getattr(client, method)(path, data, headers=headers)
                assert response.status_code < 500, (path, data)


PARTIAL_PAGES = [
    ("/projects/{project}/", 'id="video-table"'),
    ("/projects/{project}/videos/", 'id="video-list"'),
    ("/projects/{project}/models/", 'id="model-versions"'),
    ("/videos/{video}/label/", 'id="label-main"'),
    ("/videos/{video}/review/", 'id="review-main"'),
]


@pytest.mark.parametrize(("url", "marker"), PARTIAL_PAGES)
@pytest.mark.parametrize(
    ("headers", "partial"),
    [
        ({}, False),
        (HTMX, True),
        ({**HTMX, "HX-Boosted": "true"}, False),
        ({**HTMX, "HX-History-Restore-Request": "true"}, False),
    ],
    ids=["plain", "htmx", "boosted", "history-restore"],
)
def test_only_a_plain_htmx_request_gets_a_partial(
    admin_user: User,
    project: Project,
    video: Video,
    url: str,
    marker: str,
    headers: dict[str, str],
    partial: bool,
) -> None:
    response = client_for(admin_user).get(
        url.format(project=project.pk, video=video.pk), headers=headers
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert marker in html
    assert ("<html" not in html) == partial
