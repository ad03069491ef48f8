"""What a page says when the state refuses an admin's action (a cancel, a retry, a
rollback), what importing a video warns about, why an uploaded video and why a taxonomy
file were refused read in Russian; the API keeps the English sentences."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils.translation import override

from annotations.models import Job, ModelVersion, Project, Video, VideoStatus
from annotations.services.jobs.control import job_run_now
from annotations.services.learning.training import training_request
from annotations.services.media.video_import import video_import_upload
from annotations.services.taxonomy import taxonomy_import_text
from annotations.services.taxonomy_edit import tag_deprecate
from annotations.views.display import import_refusal, import_warning, taxonomy_error
from annotations.views.job_messages import job_message
from ml.media import MediaError, probe_media
from ml.synthetic_media import write_corrupt_copy, write_not_media, write_srt, write_video
from ml.taxonomy import TaxonomyFormatError
from tests.factories import client_for, make_tag, make_video, video_upload


def _russian_client(user: User) -> Client:
    client = client_for(user)
    client.post("/i18n/setlang/", {"language": "ru", "next": "/"})
    return client


def _flash(client: Client, url: str) -> str:
    """The message the page shows after the POST to ``url``."""
    page = client.post(url, follow=True).content.decode()
    found = re.search(r'<li class="message [^"]*">(.*?)</li>', page, re.DOTALL)
    assert found is not None, "no message on the page"
    return found.group(1)


def test_a_refused_cancel_or_retry_of_a_job_is_said_in_russian(
    project: Project, admin_user: User
) -> None:
    video = make_video(project, status=VideoStatus.READY)
    job = Job.objects.of(Job.Kind.INGEST, video.pk).get()
    client = _russian_client(admin_user)
    cancel = _flash(client, f"/jobs/{job.public_id}/cancel/")
    assert cancel == f"Задача {job.public_id} уже завершена (состояние «Готово»)."
    retry = _flash(client, f"/jobs/{job.public_id}/retry/")
    assert retry == f"Задача {job.public_id} уже выполнена: перезапускать нечего."
    # The API keeps the English sentence.
    answer = client_for(admin_user).post(f"/api/v1/jobs/{job.public_id}/cancel/")
    assert answer.status_code == 409
    assert f"The job {job.public_id} is already done." in answer.content.decode()


def test_a_retried_training_whose_version_moved_on_is_refused_in_russian(
    project: Project, admin_user: User
) -> None:
    version = training_request(project=project)
    job = job_run_now(Job.objects.of(Job.Kind.TRAINING, version.pk).get())
    assert job.state == Job.State.FAILED
    ModelVersion.objects.filter(pk=version.pk).update(state=ModelVersion.State.CANDIDATE)
    refused = _flash(_russian_client(admin_user), f"/jobs/{job.public_id}/retry/")
    assert refused == "Версия 1 в состоянии «Кандидат»: обучать нечего."


def test_a_rollback_with_nothing_to_roll_back_to_is_said_in_russian(
    project: Project, admin_user: User
) -> None:
    client = _russian_client(admin_user)
    refused = _flash(client, f"/projects/{project.pk}/models/rollback/")
    assert refused == "Нет более ранней рабочей версии, к которой можно откатиться."


def test_an_unknown_tag_of_an_imported_video_is_said_in_russian(
    project: Project, import_root: Path
) -> None:
    clip = write_video(import_root / "clip.mp4", seconds=1.0, width=96, height=64)
    _video, warnings = video_import_upload(
        project=project, upload=video_upload(clip), title="Ролик", tag_paths=["Нет/Такого"]
    )
    assert warnings == ["unknown tag 'Нет/Такого' kept in metadata only"]
    with override("ru"):
        assert import_warning(warnings[0]) == (
            "неизвестный тег «Нет/Такого» сохранён только в метаданных"
        )


def test_a_deprecated_tag_of_an_imported_video_is_said_in_russian(
    project: Project, import_root: Path
) -> None:
    tag_deprecate(tag=make_tag(project, "Танцы"), by=None)
    clip = write_video(import_root / "clip.mp4", seconds=1.0, width=96, height=64)
    video, warnings = video_import_upload(
        project=project, upload=video_upload(clip), title="Ролик", tag_paths=["Танцы"]
    )
    assert warnings == ["tag 'Танцы' is deprecated; not applied"]
    assert not video.confirmed_labels.exists()
    with override("ru"):
        assert import_warning(warnings[0]) == "тег «Танцы» устарел и не был применён"


JSON_ROOT = '{"tags": 3}'
BAD_TAXONOMIES = [
    ("", "lines"),  # no tags
    ("Спорт: : Футбол", "lines"),
    ("Спорт: " + "а" * 201, "lines"),
    (": ".join(["Уровень"] * 11), "lines"),
    ("level1,level2\n,Футбол", "csv"),
    ("{", "json"),
    (JSON_ROOT, "json"),
    ("[3]", "json"),
    ('[{"title": "Спорт"}]', "json"),
    ('[{"name": "Спорт", "children": 3}]', "json"),
    ('[{"name": "Спорт", "hotkey": "Ж"}]', "json"),
    ('[{"name": "Спорт", "hotkey": "s"}, {"name": "Кино", "hotkey": "s"}]', "json"),
    ('[{"name": "Спорт", "hotkey": "k"}]', "json"),  # "k" is taken by a tag of the project
    ("Спорт", "xml"),
    ("Архив: Старое", "lines"),  # "Архив" is deprecated
]


def test_why_a_taxonomy_file_was_refused_is_said_in_russian(
    project: Project, admin_user: User
) -> None:
    make_tag(project, "Новости", hotkey="k")
    tag_deprecate(tag=make_tag(project, "Архив"), by=None)
    said = []
    for text, fmt in BAD_TAXONOMIES:
        with pytest.raises(TaxonomyFormatError) as refused:
            taxonomy_import_text(project=project, text=text, fmt=fmt)
        with override("ru"):
            said.append(taxonomy_error(str(refused.value)))
        assert said[-1] != str(refused.value) and re.search("[а-яё]", said[-1]), refused.value
    assert said[1] == "строка 1: уровень 2 пуст"
    assert said[3] == "строка 1: в пути 11 уровней; допускается не больше 10"
    assert said[-1] == (
        "новые теги под устаревшим тегом (сначала восстановите его или уберите их из файла): "
        "'Архив: Старое'"
    )

    client = _russian_client(admin_user)
    upload = SimpleUploadedFile("tags.txt", "Спорт: : Футбол".encode())
    page = client.post(
        f"/projects/{project.pk}/taxonomy/import/", {"file": upload, "format": "lines"}, follow=True
    ).content.decode()
    assert "Ничего не импортировано: строка 1: уровень 2 пуст" in page


def test_why_an_uploaded_video_was_refused_is_said_in_russian(
    project: Project, admin_user: User, import_root: Path
) -> None:
    clip = write_video(import_root / "clip.mp4", seconds=1.0, width=96, height=64)
    not_media = write_not_media(import_root / "notes.mp4")
    client = _russian_client(admin_user)
    page = f"/projects/{project.pk}/videos/new/"

    refused = client.post(page, {"file": video_upload(not_media)})
    assert refused.context["form"].errors["file"] == [
        "это не видео- и не аудиофайл (его содержимое не похоже ни на один известный медиаформат)"
    ]
    client.post(page, {"file": video_upload(clip, "Матч.mp4")})
    video = Video.objects.get()
    again = client.post(page, {"file": video_upload(clip, "Снова.mp4")})
    assert again.context["form"].errors["file"] == [
        f"уже импортировано как видео #{video.pk} (Матч)"
    ]
    # The API keeps the English sentence, whatever the reader's language.
    answer = client.post(f"/api/v1/projects/{project.pk}/videos/", {"file": video_upload(clip)})
    assert answer.status_code == 400
    assert f"already imported as video #{video.pk} (Матч)" in answer.content.decode()


def test_why_ml_media_refuses_a_file_is_said_in_russian(import_root: Path) -> None:
    """Every refusal of ``probe_media`` that real files give, as an upload or a failed probe
    step says it; the library's own words inside stay as written."""
    clip = write_video(import_root / "clip.mp4", seconds=1.0, width=96, height=64, audio=False)
    empty = import_root / "empty.mp4"
    empty.write_bytes(b"")
    bad_files = [
        empty,
        write_not_media(import_root / "notes.mp4"),
        write_srt(import_root / "subtitles.srt", [(0.0, 1.0, "Привет")]),
        # Cut off after its first frames: truncated, or damaged (how much the encoder put first).
        write_corrupt_copy(clip, import_root / "cut.mp4", keep_fraction=0.6),
    ]
    refusals = []
    for path in bad_files:
        with pytest.raises(MediaError) as refused:
            probe_media(path)
        refusals.append(str(refused.value))
    # The sentences no small file gives reliably, as ``ml.media`` words them.
    refusals += [
        "the file could not be opened as media: [Errno 13] Permission denied",
        "the file has zero duration",
        "the file is damaged: its first frame cannot be decoded ([Errno 1094995529] Invalid data)",
        "the file is damaged: it holds no decodable frame",
    ]
    with override("ru"):
        said = [import_refusal(refusal) for refusal in refusals]
        assert job_message(f"probe: {refusals[1]}") == f"Чтение файла: {said[1]}"
    for english, russian in zip(refusals, said, strict=True):
        assert russian != english and re.search("[а-яё]", russian), english
    assert said[:3] == [
        "файл пуст (0 байт)",
        "это не видео- и не аудиофайл (его содержимое не похоже ни на один известный медиаформат)",
        "в файле нет ни видео, ни звука",
    ]
    assert said[4] == "файл не удалось открыть как видео или звук: [Errno 13] Permission denied"
