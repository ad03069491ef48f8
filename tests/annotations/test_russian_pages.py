"""Every page in Russian, read as a person reads it: no English left in what is shown.

The pages are rendered with data written in Russian (user names included), so any Latin
word left in a text, a button, a title or a placeholder is the interface's own and
untranslated. A short list of terms stays as it is in Russian too (file formats, IoU...).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import User
from django.test import Client

from annotations.models import (
    Annotation,
    Assignment,
    ExportSnapshot,
    Keyframe,
    ModelVersion,
    ProcessingStep,
    Project,
    ProjectRole,
    Tag,
    TranscriptSegment,
    Video,
)
from annotations.roles import Role
from annotations.services.people import invitation_create
from annotations.services.taxonomy_edit import tag_add
from ml.train.params import ClassifierParams
from tests.annotations.labeling_fixtures import imported_label, ready_video, submitted, suggest
from tests.factories import make_member, make_project, make_tag, make_user

# Terms that read the same in a Russian interface.
ALLOWED = {
    "IoU", "JSONL", "CSV", "JSON", "SHA", "Label", "Studio", "IAB", "API", "URL", "EN", "RU",
    "Markdown", "MAX_VIDEO_SECONDS", "IMAGE_EMBEDDING_MODEL", "Krippendorff", "Swagger",
    "Rutube", "Enter", "Esc", "Ctrl", "Mac", "TF", "IDF", "SVM",
}  # fmt: skip
# Elements whose text is data or keys, not the interface's words.
SKIPPED_TAGS = {"head", "script", "style", "kbd", "code", "pre", "title"}
SKIPPED_CLASSES = {"mono", "checksum", "secret"}
SHOWN_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
# A setting's name (MAX_VIDEO_SECONDS) is one word.
ENGLISH = re.compile(r"[A-Za-z][A-Za-z_'’]+|(?<=\d)\s?s\b")


class _Shown(HTMLParser):
    """The texts a person reads: text nodes and the attributes shown on hover or aloud."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._skipping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        classes = set((values.get("class") or "").split())
        if tag in SKIPPED_TAGS or classes & SKIPPED_CLASSES:
            if tag not in {"br", "img", "input", "meta", "link"}:
                self._skipping.append(tag)
            return
        if self._skipping:
            return
        for name in SHOWN_ATTRIBUTES:
            if values.get(name):
                self.texts.append(str(values[name]))
        if tag == "input" and values.get("type") in {"submit", "button"} and values.get("value"):
            self.texts.append(str(values["value"]))

    def handle_endtag(self, tag: str) -> None:
        if self._skipping and self._skipping[-1] == tag:
            self._skipping.pop()

    def handle_data(self, data: str) -> None:
        if not self._skipping and data.strip():
            self.texts.append(" ".join(data.split()))


def english_in(html: str) -> list[str]:
    """The shown texts that hold a Latin word outside the allowed terms."""
    parser = _Shown()
    parser.feed(html)
    found = []
    for text in parser.texts:
        words = [w for w in ENGLISH.findall(text) if w.strip() not in ALLOWED]
        if words:
            found.append(text)
    return found


@dataclass(frozen=True)
class Scene:
    admin: User
    crowd: User
    project: Project
    video: Video
    disputed: Video
    model: ModelVersion
    tag: Tag
    token: str


@pytest.fixture
def russian_project(roles: None) -> Scene:
    admin = make_user(Role.ADMIN, "админ", is_staff=True)
    expert = make_user(Role.EXPERT, "эксперт")
    crowd = make_user(Role.CROWD, "толокер")
    other = make_user(Role.CROWD, "второй")
    project = make_project("Ролики", annotators_per_video=2, guidelines="## Правила\n\n* Всё")
    make_member(project, expert, ProjectRole.EXPERT)
    make_member(project, crowd)
    make_member(project, other)
    football = make_tag(project, "Спорт: Футбол", hotkey="1")
    hockey = tag_add(project=project, name="Хоккей", parent=football.parent, by=admin)
    video = ready_video(project, title="Матч", description="Обзор матча")
    video.metadata = {"channel": "Футбол ТВ", "upload_date": "2024-05-01"}
    video.duration_seconds = 12.5
    video.save()
    TranscriptSegment.objects.create(
        video=video, index=0, start_seconds=0, end_seconds=2, text="Гол!", source="asr"
    )
    Keyframe.objects.create(video=video, timestamp_seconds=1.0, image="keyframes/1.jpg")
    for name, state, message in (
        ("probe", "done", "12.5 s, video and audio, 640x360"),
        ("transcript", "done", "1 segments from the subtitle file"),
        ("frames", "done", "30 frames sampled, 2 shots, 2 keyframes"),
        ("image_embedding", "skipped", "no image model configured (IMAGE_EMBEDDING_MODEL)"),
    ):
        ProcessingStep.objects.create(
            video=video, name=name, state=state, message=message, details={"seconds": 0.4}
        )
    model = ModelVersion.objects.create(
        project=project,
        number=1,
        state="promoted",
        # As training stores them: the classifier's settings, what it left out and why.
        parameters={**ClassifierParams().as_dict(), "weights": {"word": 1.0, "char": 0.5}},
        metrics={
            "embedding_skipped_reason": "the sentence embedding model folder /m does not exist",
            "features": {"block_sizes": {"word": 120, "char": 80, "embedding": 0, "media": 0}},
        },
        library_versions={"scikit-learn": "1.7.2", "numpy": "2.3.1"},
    )
    suggest(video, football, 0.9, model=model)
    suggest(video, hockey, 0.3, rank=2, above=False, model=model)
    disputed = ready_video(project, title="Спор")
    submitted(disputed, crowd, [football])
    submitted(disputed, other, [hockey])
    imported_label(ready_video(project, title="Подтверждено"), football)
    Annotation.objects.create(video=video, annotator=crowd)
    Assignment.objects.create(video=video, annotator=crowd)
    ExportSnapshot.objects.create(
        project=project,
        format="jsonl",
        state="ready",
        row_count=1,
        sha256="a" * 64,
        created_by=admin,
        model_version=model,
    )
    invitation = invitation_create(project=project, role="crowd", by=admin)
    return Scene(admin, crowd, project, video, disputed, model, football, invitation.token)


def _pages(scene: Scene) -> Iterator[tuple[str, str]]:
    """(who, url) for every page, as the role that works on it."""
    p, v = scene.project.pk, scene.video.pk
    for url in (
        "/",
        "/projects/new/",
        f"/projects/{p}/",
        f"/projects/{p}/settings/",
        f"/projects/{p}/dashboard/",
        f"/projects/{p}/videos/",
        f"/videos/{v}/",
        f"/videos/{v}/label/",
        f"/projects/{p}/taxonomy/",
        f"/projects/{p}/taxonomy/?tag={scene.tag.pk}",
        f"/projects/{p}/taxonomy/history/",
        f"/projects/{p}/review/",
        f"/videos/{scene.disputed.pk}/review/",
        f"/projects/{p}/team/",
        f"/projects/{p}/people/",
        f"/projects/{p}/people/{scene.crowd.pk}/",
        f"/projects/{p}/assign/",
        f"/projects/{p}/exports/",
        f"/projects/{p}/audit/",
        f"/projects/{p}/models/",
        f"/models/{scene.model.pk}/",
        f"/projects/{p}/videos/new/",
        "/projects/999999/",
    ):
        yield "admin", url
    yield "crowd", f"/projects/{p}/"
    yield "crowd", f"/videos/{v}/label/"
    yield "crowd", f"/projects/{p}/exports/"  # the 403 page
    yield "anonymous", "/accounts/login/"
    yield "anonymous", f"/join/{scene.token}/"


def test_every_page_in_russian_shows_no_english(russian_project: Scene) -> None:
    clients: dict[str, Client] = {}
    found: dict[str, list[str]] = {}
    users = {"admin": russian_project.admin, "crowd": russian_project.crowd}
    for who, url in _pages(russian_project):
        if who not in clients:
            clients[who] = Client()
            if who in users:
                clients[who].force_login(users[who])
            clients[who].post("/i18n/setlang/", {"language": "ru", "next": "/"})
        response = clients[who].get(url)
        assert response.status_code in (200, 403, 404), (url, response.status_code)
        html = response.content.decode()
        assert '<html lang="ru">' in html, url
        english = english_in(html)
        if english:
            found[f"{who} {url}"] = english
    assert not found, "\n".join(
        f"{page}: {' | '.join(dict.fromkeys(texts))}" for page, texts in found.items()
    )


def test_the_english_finder_sees_text_titles_and_units_but_not_data_or_keys() -> None:
    html = (
        '<body><p>Готово</p><p title="Save">Сохранить</p><p>12 s</p><kbd>Enter</kbd>'
        '<span class="mono">a3f9c2</span><p>Формат JSONL</p><button>Export</button></body>'
    )
    assert english_in(html) == ["Save", "12 s", "Export"]
