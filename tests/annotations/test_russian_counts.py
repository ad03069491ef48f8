"""A page's message that counts something agrees with its number in Russian: one, few and
many ("1 тег", "3 тега", "5 тегов"), and in English ("1 tag", "3 tags")."""

from __future__ import annotations

import re

from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from pytest_django.fixtures import Settings

from annotations.models import ModelVersion, Project
from annotations.roles import Role
from annotations.services.learning.retraining import retraining_request
from tests.annotations.labeling_fixtures import imported_label, ready_video
from tests.factories import (
    assign,
    client_for,
    confirm_label,
    make_member,
    make_tag,
    make_user,
)


def _client(user: User, language: str) -> Client:
    client = client_for(user)
    client.post("/i18n/setlang/", {"language": language, "next": "/"})
    return client


def _flash(html: str) -> str:
    found = re.search(r'<li class="message [^"]*">(.*?)</li>', html, re.DOTALL)
    assert found is not None, "no message on the page"
    return found.group(1)


def _flashes(html: str) -> list[str]:
    return re.findall(r'<li class="message [^"]*">(.*?)</li>', html, re.DOTALL)


def _taxonomy_imported(client: Client, project: Project, tags: int) -> str:
    """The message after importing a file of ``tags`` new top-level tags."""
    names = "\n".join(f"Тег {len(project.tags.all())}-{i}" for i in range(tags))
    page = client.post(
        f"/projects/{project.pk}/taxonomy/import/",
        {"file": SimpleUploadedFile("tags.txt", names.encode()), "format": "lines"},
        follow=True,
    )
    return _flash(page.content.decode())


def test_the_tags_a_taxonomy_import_created_are_counted_in_each_russian_form(
    project: Project, admin_user: User
) -> None:
    russian = _client(admin_user, "ru")
    assert [_taxonomy_imported(russian, project, n) for n in (1, 3, 5)] == [
        "Таксономия импортирована: 1 новый тег, уже было — 0.",
        "Таксономия импортирована: 3 новых тега, уже было — 0.",
        "Таксономия импортирована: 5 новых тегов, уже было — 0.",
    ]
    assert _taxonomy_imported(_client(admin_user, "en"), project, 1) == (
        "Taxonomy imported: 1 new tag, 0 already present."
    )


def test_the_tag_editor_counts_the_tags_labels_and_decisions_it_changed_in_russian(
    project: Project, admin_user: User
) -> None:
    sport = make_tag(project, "Спорт")
    football, soccer = make_tag(project, "Спорт: Футбол"), make_tag(project, "Спорт: Soccer")
    confirm_label(ready_video(project), soccer)
    client = _client(admin_user, "ru")
    tags = f"/projects/{project.pk}/taxonomy/tags"

    def said(url: str, **data: object) -> str:
        return _flash(client.post(url, data, follow=True).content.decode())

    assert said(f"{tags}/{soccer.pk}/merge/", target=football.pk) == (
        "Тег «Спорт: Soccer» объединён с «Спорт: Футбол»; перенесено: 1 подтверждённая метка "
        "и 0 решений."
    )
    assert said(f"{tags}/{football.pk}/deprecate/") == (
        "1 тег помечен устаревшим: он остаётся в прежней разметке, но больше не предлагается."
    )
    assert said(f"{tags}/{football.pk}/restore/") == "1 тег снова предлагается."
    make_tag(project, "Спорт: Хоккей")
    assert said(f"{tags}/{sport.pk}/deprecate/") == (
        "3 тега помечены устаревшими: они остаются в прежней разметке, но больше не предлагаются."
    )
    assert said(f"{tags}/{sport.pk}/restore/") == "3 тега снова предлагаются."


def test_the_videos_handed_to_others_are_counted_in_each_russian_form(
    project: Project, admin_user: User
) -> None:
    leaver, stayer = (make_user(Role.CROWD, name) for name in ("leaver", "stayer"))
    for user in (leaver, stayer):
        make_member(project, user)
    client = _client(admin_user, "ru")
    said = []
    for count in (1, 3, 5):
        for _ in range(count):
            assign(ready_video(project), leaver)
        page = client.post(
            f"/projects/{project.pk}/people/{leaver.pk}/reassign/", {"to": [stayer.pk]}, follow=True
        )
        said.append(_flash(page.content.decode()))
    assert said == [
        "1 незаконченное видео передано другим, возвращено в очередь — 0.",
        "3 незаконченных видео переданы другим, возвращено в очередь — 0.",
        "5 незаконченных видео передано другим, возвращено в очередь — 0.",
    ]


def test_a_refused_training_counts_the_trainings_and_the_minutes_in_russian(
    project: Project, admin_user: User, settings: Settings
) -> None:
    settings.RETRAIN_REQUESTS_PER_HOUR = 1
    retraining_request(project=project, user=admin_user)
    ModelVersion.objects.filter(state=ModelVersion.State.TRAINING).update(
        state=ModelVersion.State.FAILED
    )
    page = _client(admin_user, "ru").post(f"/projects/{project.pk}/models/retrain/")
    assert page.status_code == 429
    assert re.fullmatch(
        r"За последний час обучение запускали 1 раз\. "
        r"Попробуйте снова примерно через \d+ минут[уы]?\.",
        _flash(page.content.decode()),
    )


def test_the_videos_left_out_of_an_assignment_as_confirmed_are_counted_in_each_russian_form(
    project: Project, admin_user: User
) -> None:
    worker = make_user(Role.CROWD, "worker")
    make_member(project, worker)
    football = make_tag(project, "Спорт: Футбол")
    client = _client(admin_user, "ru")
    said = []
    for count in (1, 3, 5):
        while project.videos.labeled().count() < count:
            imported_label(ready_video(project), football)
        page = client.post(
            f"/projects/{project.pk}/assign/",
            {"annotators": [worker.pk], "mode": "all"},
            follow=True,
        )
        said += [m for m in _flashes(page.content.decode()) if "пропущен" in m]
    assert said == [
        "1 подходящее видео пропущено: его теги уже подтверждены, размечать его не нужно.",
        "3 подходящих видео пропущены: их теги уже подтверждены, размечать их не нужно.",
        "5 подходящих видео пропущено: их теги уже подтверждены, размечать их не нужно.",
    ]
