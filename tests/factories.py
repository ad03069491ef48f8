"""Small builders for test data; each returns a saved object with sensible defaults."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from annotations.models import (
    Assignment,
    ConfirmedLabel,
    Job,
    LabelChange,
    LabelSource,
    Membership,
    PredictionJob,
    Project,
    ProjectRole,
    Tag,
    Video,
    VideoStatus,
)
from annotations.roles import Role, role_of
from annotations.services.learning.uncertainty import uncertainty_refresh
from ml.dataset import Example
from ml.synthetic_tags import planted_examples, planted_taxonomy
from ml.taxonomy import PATH_SEPARATOR

_counter = itertools.count(1)

PASSWORD = "correct-horse-battery-staple"


def make_user(role: Role | None, username: str | None = None, **fields: Any) -> User:
    user = User.objects.create_user(
        username=username or f"user{next(_counter)}", password=PASSWORD, **fields
    )
    if role is not None:
        user.groups.add(Group.objects.get(name=role.value))
    return user


def make_project(name: str | None = None, **fields: Any) -> Project:
    return Project.objects.create(name=name or f"Project {next(_counter)}", **fields)


def make_tag(project: Project, path: str, **fields: Any) -> Tag:
    """The tag at ``path``, creating its missing parents too."""
    parent = None
    parts = path.split(PATH_SEPARATOR)
    for depth in range(1, len(parts) + 1):
        sub_path = PATH_SEPARATOR.join(parts[:depth])
        extra = fields if depth == len(parts) else {}
        parent, _ = Tag.objects.get_or_create(
            project=project,
            path=sub_path,
            defaults={"name": parts[depth - 1], "parent": parent, "depth": depth, **extra},
        )
    assert parent is not None
    return parent


_JOB_STATE_OF_VIDEO: dict[str, str] = {
    VideoStatus.PENDING: Job.State.QUEUED,
    VideoStatus.PROCESSING: Job.State.RUNNING,
    VideoStatus.READY: Job.State.DONE,
    VideoStatus.FAILED: Job.State.FAILED,
}


def make_video(project: Project, **fields: Any) -> Video:
    """A video with the ingest job its status implies, as every imported video has."""
    n = next(_counter)
    fields.setdefault("title", f"Video {n}")
    video = Video.objects.create(project=project, **fields)
    make_job(Job.Kind.INGEST, video.pk, project, state=_JOB_STATE_OF_VIDEO[video.status])
    return video


def import_video(project: Project, path: Path, title: str) -> Video:
    """The media file at ``path`` imported into ``project``, its ingest job queued."""
    from annotations.services.media.video_import import media_prepare, video_create

    video, _warnings = video_create(
        project=project, title=title, media=media_prepare(source=str(path), base_dir=None)
    )
    return video


def make_job(kind: str, object_id: int | None, project: Project, **fields: Any) -> Job:
    return Job.objects.create(kind=kind, object_id=object_id, project=project, **fields)


def run_job_of(kind: str, object_id: int) -> Job:
    """Run the queued job of an object here, as a worker would."""
    from annotations.services.jobs.control import job_run_now

    return job_run_now(Job.objects.of(kind, object_id).get())


def claim(job: Job) -> Job:
    """``job`` claimed by a new run, as a worker takes it; the job must be free to claim."""
    from annotations.services.jobs.lifecycle import job_claim

    claimed = job_claim(job.pk)
    assert claimed is not None, f"{job.public_id} could not be claimed"
    return claimed


def video_upload(path: Path, name: str | None = None) -> SimpleUploadedFile:
    """The file at ``path`` uploaded as a video, under ``name`` or the file's own name."""
    return SimpleUploadedFile(name or path.name, path.read_bytes(), content_type="video/mp4")


def request_prediction(
    project: Project, clip: Path, *, user: User | None = None, **fields: Any
) -> PredictionJob:
    """A prediction requested for the video file ``clip``, uploaded under the file's name."""
    from annotations.services.learning.prediction_jobs import prediction_job_create

    return prediction_job_create(project=project, user=user, upload=video_upload(clip), **fields)


def confirm_labels(
    labels: Iterable[ConfirmedLabel],
) -> list[ConfirmedLabel]:
    """Save confirmed labels with the history entry each one needs, as the importers write them."""
    saved = ConfirmedLabel.objects.bulk_create(labels)
    LabelChange.objects.bulk_create(
        LabelChange(
            video_id=label.video_id,
            tag_id=label.tag_id,
            action=LabelChange.Action.ADDED,
            source=label.source,
            changed_by_id=label.confirmed_by_id,
        )
        for label in saved
    )
    uncertainty_refresh(video_ids=[label.video_id for label in saved])
    return saved


def confirm_label(
    video: Video, tag: Tag, *, source: str = LabelSource.IMPORT, by: User | None = None
) -> ConfirmedLabel:
    """A confirmed tag with its history entry."""
    return confirm_labels([ConfirmedLabel(video=video, tag=tag, source=source, confirmed_by=by)])[0]


def make_member(project: Project, user: User, role: str | None = None) -> Membership | None:
    """``user`` a member of ``project``: as their account's role by default; admins need none."""
    account = role_of(user)
    if role is None:
        if account is Role.ADMIN or account is None:
            return None
        role = ProjectRole.EXPERT if account is Role.EXPERT else ProjectRole.CROWD
    membership, _ = Membership.objects.get_or_create(
        project=project, user=user, defaults={"role": role}
    )
    return membership


def assign(video: Video, user: User) -> Assignment:
    """An assignment made by an admin, who makes the annotator a member of the project too."""
    make_member(video.project, user)
    return Assignment.objects.create(video=video, annotator=user)


# The header htmx sends with its requests: a page answers with its partial.
HTMX = {"HX-Request": "true"}


def client_for(user: User | None) -> Client:
    """A test client logged in as ``user`` (anonymous for None)."""
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


# Real names for the tags that ml.synthetic_tags plants in made-up words: a model learns the
# words, and zero-shot matching on a tag's name still finds the tag.
PLANTED_TAGS = ("Спорт: Футбол", "Еда и напитки: Кулинария", "Транспорт: Автомобили")


@dataclass(frozen=True)
class PlantedCatalogue:
    """Texts about one tag each, from ml.synthetic_tags: the tag's own words among noise."""

    labeled: list[Example]
    # Per tag, more texts about that tag, none of them among ``labeled``.
    unseen: dict[str, list[Example]]


def planted_catalogue(
    per_tag: int,
    *,
    unseen_per_tag: int = 1,
    tags: tuple[str, ...] = PLANTED_TAGS,
    seed: int = 0,
) -> PlantedCatalogue:
    """``per_tag`` texts for each of ``tags`` to learn from, then ``unseen_per_tag`` more each."""
    wanted = per_tag + unseen_per_tag
    examples, _ = planted_examples(6 * wanted * len(tags), len(tags), seed=seed, noise_words=8)
    names = dict(zip(planted_taxonomy(len(tags)), tags, strict=True))
    found: dict[str, list[Example]] = {tag: [] for tag in tags}
    labeled = []
    for example in examples:
        if len(example.tags) != 1 or len(found[names[example.tags[0]]]) == wanted:
            continue
        text = replace(example, tags=(names[example.tags[0]],))
        found[text.tags[0]].append(text)
        if len(found[text.tags[0]]) <= per_tag:
            labeled.append(text)
    if any(len(texts) < wanted for texts in found.values()):
        raise ValueError(f"too few texts about one tag for {per_tag} + {unseen_per_tag} per tag")
    return PlantedCatalogue(labeled, {tag: texts[per_tag:] for tag, texts in found.items()})


@dataclass(frozen=True)
class PlantedProject:
    project: Project
    catalogue: PlantedCatalogue
    labeled: list[Video]
    # Per tag, ready videos about that tag, with no labels.
    unlabeled: dict[str, list[Video]]

    def probe(self, tag: str) -> Example:
        """A text about ``tag`` that is in no video of the project."""
        return self.catalogue.unseen[tag][-1]


def make_planted_project(
    project: Project,
    *,
    per_tag: int = 12,
    unlabeled_per_tag: int = 0,
    tags: tuple[str, ...] = PLANTED_TAGS,
    seed: int = 0,
) -> PlantedProject:
    """Ready videos with planted texts: ``per_tag`` of each tag labeled by import, more not."""
    catalogue = planted_catalogue(
        per_tag, unseen_per_tag=unlabeled_per_tag + 1, tags=tags, seed=seed
    )
    by_path = {path: make_tag(project, path) for path in tags}

    def video(text: Example) -> Video:
        return make_video(
            project, title=text.title, description=text.description, status=VideoStatus.READY
        )

    labeled = []
    for text in catalogue.labeled:
        labeled.append(video(text))
        confirm_label(labeled[-1], by_path[text.tags[0]])
    unlabeled = {
        tag: [video(text) for text in catalogue.unseen[tag][:unlabeled_per_tag]] for tag in tags
    }
    return PlantedProject(project, catalogue, labeled, unlabeled)
