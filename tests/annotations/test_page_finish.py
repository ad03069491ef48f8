"""The finish of the video, labeling and error pages: processing messages that fold, a
transcript that failed said as such, suggestions ordered and split at the threshold, a
hand-added suggested tag reported, styled error pages, and stored values in words."""

from __future__ import annotations

import io
import json
import re

import pytest
from django.contrib.auth.models import User
from django.test import RequestFactory
from django.utils import translation
from django.views.defaults import server_error

from annotations.models import Annotation, ProcessingStep, Project, Video, VideoStatus
from annotations.services.interchange import dataset_import
from annotations.views.display import known_step_message, metadata_rows, step_message
from tests.annotations.labeling_fixtures import ready_video, suggest
from tests.factories import assign, client_for, make_tag

LONG_ERROR = "RuntimeError: CUDA failed with error out of memory " + "x" * 3000


def _steps(video: Video, **states: tuple[str, str]) -> None:
    for name, (state, message) in states.items():
        ProcessingStep.objects.create(video=video, name=name, state=state, message=message)


def test_a_long_step_message_is_folded_and_step_names_are_words(
    project: Project, expert: User
) -> None:
    video = ready_video(project)
    _steps(
        video,
        probe=("done", "12.5 s, video and audio, 640x360"),
        transcript=("failed", LONG_ERROR),
    )
    html = client_for(expert).get(f"/videos/{video.pk}/").content.decode()
    step = html.split('data-step="transcript"')[1].split("</li>")[0]
    assert "<details" in step and LONG_ERROR in step
    assert step.index("<summary>") < step.index(LONG_ERROR[:40]) < step.index("</summary>")
    assert "Reading the file" in html and "12.5 s, video and audio, 640x360" in html
    assert 'style="' not in html.split('id="processing"')[1]


def test_a_failed_transcript_is_said_to_have_failed(project: Project, expert: User) -> None:
    video = ready_video(project)
    _steps(
        video,
        transcript=(
            "failed",
            "speech recognition is not available: no Whisper weights. The video can be "
            "labeled without a transcript; re-run this step once the model is there.",
        ),
    )
    html = client_for(expert).get(f"/videos/{video.pk}/").content.decode()
    assert 'id="transcript-failed"' in html and "no Whisper weights" in html
    assert "No transcript yet" not in html
    video.status = VideoStatus.PROCESSING
    video.save()
    busy = client_for(expert).get(f"/videos/{video.pk}/").content.decode()
    assert 'id="transcript-failed"' not in busy and "being made" in busy


@pytest.mark.parametrize(
    ("message", "said"),
    [
        ("12.5 s, video and audio, 640x360", "12.5 s, video and audio, 640x360"),
        ("3.0 s, audio", "3.0 s, audio only"),
        ("14 segments from the subtitle file", "14 segments from the subtitle file"),
        ("1 segments from the subtitle stream", "1 segment from the subtitle stream"),
        ("120 segments recognised (ru)", "120 segments recognised (ru)"),
        ("512 words after cleaning", "512 words after cleaning"),
        ("240 characters", "240 characters"),
        (
            "300 frames sampled, 7 shots, 7 keyframes (the file is damaged after that point)",
            "300 frames sampled, 7 shots, 7 keyframes (the file is damaged after that point)",
        ),
        ("speech in 83% of the audio", "speech in 83% of the audio"),
        (
            "512-dimensional embedding from 7 keyframes",
            "512-dimensional embedding from 7 keyframes",
        ),
        ("not run: the probe step failed", "not run: the step “Reading the file” failed"),
        ("8 suggestions (model v3)", "8 suggestions (model v3)"),
        ("5 suggestions (zero-shot)", "5 suggestions (zero-shot)"),
        (
            "9 suggestions (model v3); 2 videos confirmed by the model, 1 audited",
            "9 suggestions (model v3); 2 videos confirmed by the model, 1 audited",
        ),
        (
            "no image model configured (IMAGE_EMBEDDING_MODEL)",
            "no image model configured (IMAGE_EMBEDDING_MODEL)",
        ),
    ],
)
def test_every_message_the_steps_write_is_recognised(message: str, said: str) -> None:
    with translation.override("en"):
        assert known_step_message(message) == said


def test_an_unknown_message_is_shown_as_written() -> None:
    assert known_step_message("OSError: [Errno 28] No space left") is None
    assert step_message("OSError: [Errno 28] No space left") == "OSError: [Errno 28] No space left"


def test_metadata_keys_are_words_and_manifest_columns_keep_their_names() -> None:
    with translation.override("en"):
        rows = metadata_rows({"channel": "Футбол ТВ", "original_tags": ["А", "Б"], "my_col": 3})
    assert rows == [("Channel", "Футбол ТВ"), ("Tags it came with", "А, Б"), ("My col", "3")]


def test_what_a_dataset_import_leaves_on_a_video_reads_in_russian_on_its_page(
    project: Project, admin_user: User
) -> None:
    line = {
        "title": "Матч",
        "tags": ["Спорт: Футбол"],
        "labels": [{"tag": "Спорт: Футбол", "source": "model"}],
    }
    dataset_import(
        project=project,
        stream=io.BytesIO(json.dumps(line).encode()),
        fmt="jsonl",
        create_missing_tags=True,
    )
    video = Video.objects.get(title="Матч")
    client = client_for(admin_user)
    client.post("/i18n/setlang/", {"language": "ru", "next": "/"})
    page = client.get(f"/videos/{video.pk}/").content.decode()
    rows = dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", page))
    assert rows["Откуда импортировано"] == "файл набора данных"
    # The tag arrived as another project's model's word, and its title says so.
    assert '<li title="Импортирован; подтверждён моделью в другом проекте">Спорт: Футбол' in page
    with translation.override("ru"):
        assert metadata_rows({"origin": "prediction", "prediction_job": 7}) == [
            ("Откуда взято", "запрос на предсказание"),
            ("Запрос на предсказание", "7"),
        ]


def test_suggestions_come_by_score_with_the_candidates_below_the_threshold_set_apart(
    project: Project, crowd: User
) -> None:
    video = ready_video(project)
    assign(video, crowd)
    weak = suggest(video, make_tag(project, "Слабый"), 0.31, rank=1, above=False)
    strong = suggest(video, make_tag(project, "Сильный"), 0.92, rank=3)
    middle = suggest(video, make_tag(project, "Средний"), 0.64, rank=2)
    stronger_below = suggest(video, make_tag(project, "Почти"), 0.44, rank=4, above=False)
    html = client_for(crowd).get(f"/videos/{video.pk}/label/").content.decode()
    order = [html.index(f'data-tag="{s.tag_id}"') for s in (strong, middle, stronger_below, weak)]
    assert order == sorted(order)
    heading = html.index('class="below-heading"')
    assert order[1] < heading < order[2]
    below_row = html[order[2] - 120 : order[2]]
    assert "below" in below_row


def test_adding_a_suggested_tag_by_hand_says_it_accepts_the_suggestion(
    project: Project, crowd: User
) -> None:
    video = ready_video(project)
    assign(video, crowd)
    football = make_tag(project, "Спорт: Футбол")
    suggest(video, football, 0.91)
    client = client_for(crowd)
    client.get(f"/videos/{video.pk}/label/")
    annotation = Annotation.objects.get(video=video, annotator=crowd)
    response = client.post(
        f"/annotations/{annotation.pk}/decisions/",
        {"tag": football.pk, "decision": "add", "revision": annotation.revision},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert 'id="decision-note"' in html and "already suggested" in html and "0.91" in html
    assert annotation.decisions.get().decision == "accept"


@pytest.mark.parametrize("language", ["en", "ru"])
def test_error_pages_use_the_site_layout_in_both_languages(
    project: Project, crowd: User, language: str
) -> None:
    client = client_for(crowd)
    client.post("/i18n/setlang/", {"language": language, "next": "/"})
    forbidden = client.get(f"/projects/{project.pk}/exports/")
    missing = client.get("/projects/999999/")
    for response, code in ((forbidden, 403), (missing, 404)):
        html = response.content.decode()
        assert response.status_code == code
        assert f'id="error-{code}"' in html and 'class="topbar"' in html
        assert f'<html lang="{language}">' in html
    request = RequestFactory().get("/")
    with translation.override(language):
        page = server_error(request).content.decode()
    assert 'id="error-500"' in page and 'class="topbar"' in page


def test_the_role_badge_is_a_word_not_an_identifier(project: Project, crowd: User) -> None:
    html = client_for(crowd).get("/").content.decode()
    assert '<span class="badge role-crowd">Crowd worker</span>' in html
