"""Russian and English: the switch in the header, translated pages, localised numbers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User

from annotations.models import Project, TranscriptSegment
from tests.annotations.labeling_fixtures import ready_video, suggest
from tests.factories import client_for, make_tag

CATALOG = Path(settings.BASE_DIR) / "locale" / "ru" / "LC_MESSAGES"


def test_the_header_switches_the_interface_to_russian_and_back(
    project: Project, expert: User
) -> None:
    video = ready_video(project, title="Матч")
    suggest(video, make_tag(project, "Спорт: Футбол"), 0.91)
    TranscriptSegment.objects.create(
        video=video, index=0, start_seconds=1.5, end_seconds=3, text="Гол", source="asr"
    )
    client = client_for(expert)
    english = client.get(f"/videos/{video.pk}/label/").content.decode()
    assert "Submit" in english and "0.91" in english
    assert 'action="/i18n/setlang/"' in english

    switched = client.post(
        "/i18n/setlang/", {"language": "ru", "next": f"/videos/{video.pk}/label/"}
    )
    assert switched.status_code == 302
    russian = client.get(f"/videos/{video.pk}/label/").content.decode()
    assert '<html lang="ru">' in russian
    assert "Отправить" in russian and "Предложенные теги" in russian
    assert "0,91" in russian  # decimal comma
    assert 'data-seek="1.5"' in russian  # what the player reads keeps its decimal point

    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Submit" in client.get(f"/videos/{video.pk}/label/").content.decode()


@pytest.mark.parametrize(("n", "word"), [(1, "тег"), (3, "тега"), (5, "тегов"), (21, "тег")])
def test_russian_plurals_follow_the_number(
    project: Project, expert: User, n: int, word: str
) -> None:
    for i in range(n):
        make_tag(project, f"Тег {i}")
    client = client_for(expert)
    client.post("/i18n/setlang/", {"language": "ru", "next": "/"})
    html = client.get(f"/projects/{project.pk}/").content.decode()
    assert re.search(rf">{n} {word}<", html)


def test_every_message_of_the_catalog_is_translated_and_compiled() -> None:
    po = (CATALOG / "django.po").read_text(encoding="utf-8")
    entries = po.split("\n\n")[1:]
    untranslated = [
        entry for entry in entries if re.search(r'msgstr(\[\d\])? ""\s*$', entry.strip())
    ]
    assert untranslated == []
    assert (CATALOG / "django.mo").is_file()


def test_a_running_jobs_stage_is_said_in_russian_part_by_part() -> None:
    from django.utils import translation

    from annotations.views.job_messages import job_stage

    with translation.override("ru"):
        assert job_stage("fold 2/5, candidate 1/3") == "фолд 2 из 5, вариант 1 из 3"
        assert job_stage("final model: features: text features") == (
            "итоговая модель: признаки: признаки текста"
        )
        assert job_stage("transcript") == "Расшифровка"
        # A part no phrase knows (a library's words) stays as the job wrote it.
        assert job_stage("best of 4: C=1.0, tfidf") == "лучшая из 4: C=1.0, tfidf"
    with translation.override("en"):
        assert job_stage("held-out evaluation") == "evaluation on held-out videos"
