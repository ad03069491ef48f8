"""The tags suggested to annotators: from the promoted model, or zero-shot before one exists.

Both kinds of scorer decide and rank in ml (`TagModel.suggest`, `ZeroShotModel.suggest`):
the tags the model chooses come first ("likely"), ranked by score, then a few of the best
others (SUGGESTIONS_EXTRA) marked as below its decision ("possible"), so a near miss is
one key away. Suggestions are replaced whole for a video.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction

from annotations.models import ConfirmedLabel, Job, ModelVersion, Project, Suggestion, Tag, Video
from annotations.services.jobs.lifecycle import JobRun, job_object
from annotations.services.learning.auto_confirm import videos_auto_confirm
from annotations.services.learning.examples import examples_for_videos
from annotations.services.learning.model_store import (
    current_paths,
    model_for,
    promoted_version,
)
from annotations.services.learning.uncertainty import uncertainties_store, uncertainty
from ml.dataset import Example

if TYPE_CHECKING:
    from ml.train import TagModel
    from ml.train.model import Suggestion as ScoredTag
    from ml.zero_shot import ZeroShotModel

BATCH = 256
# Zero-shot learns the words of at most this many confirmed videos (the latest ones).
ZERO_SHOT_EXAMPLES = 500


@dataclass(frozen=True)
class SuggestionRun:
    videos: int
    suggestions: int
    model_version: ModelVersion | None
    auto_confirmed: int = 0
    audited: int = 0

    def describe(self, *, confirmations: bool = True) -> str:
        """In words; ``confirmations=False`` leaves out what the model confirmed (for a
        video's own processing steps, which people who may not see labels read too)."""
        source = f"model v{self.model_version.number}" if self.model_version else "zero-shot"
        text = f"{self.suggestions} suggestions ({source})"
        if self.auto_confirmed and confirmations:
            text += f"; {self.auto_confirmed} videos confirmed by the model, {self.audited} audited"
        return text


def zero_shot_model(
    project: Project, *, exclude_video_ids: Sequence[str] = (), min_tags: int = 0
) -> ZeroShotModel:
    """The project's cold-start scorer: its tag names, guidelines and the words of the
    videos already confirmed (but those in ``exclude_video_ids``)."""
    from ml.zero_shot import ZeroShotModel

    paths = sorted(project.tags.active().values_list("path", flat=True))
    labeled_ids = list(
        ConfirmedLabel.objects.filter(video__project=project)
        .human()
        .exclude(video_id__in=[int(pk) for pk in exclude_video_ids])
        .order_by("-video_id")
        .values_list("video_id", flat=True)
        .distinct()[:ZERO_SHOT_EXAMPLES]
    )
    videos = Video.objects.filter(pk__in=labeled_ids).order_by("id")
    return ZeroShotModel(
        paths,
        model_name=settings.EMBEDDING_MODEL or None,
        guidelines=project.guidelines,
        examples=examples_for_videos(videos, with_tags=True, human_only=True),
        min_tags=min_tags,
    )


def shown_limit(*, single: bool) -> int:
    """How many tags a video's suggestions show at most."""
    return 1 if single else settings.SUGGESTIONS_SHOWN


@dataclass(frozen=True)
class Scorer:
    """What suggests a project's tags now: the promoted model (with its version) or the
    zero-shot scorer (version None), and where each of its tag paths is today."""

    model: TagModel | ZeroShotModel
    version: ModelVersion | None
    paths: dict[str, str]

    def ranked(
        self, examples: Sequence[Example], *, single: bool, extra: int
    ) -> list[list[ScoredTag]]:
        """Each video's suggestions as annotators see them, named by today's taxonomy: a
        parent of a chosen tag is left out (choosing the child says it), a tag deprecated
        since training too, and a merged one counts as the tag it went into."""
        limit = shown_limit(single=single)
        rankings = self.model.suggest(list(examples), limit=limit, extra=extra, parents=False)
        return [self._renamed(ranking) for ranking in rankings]

    def predicted(self, examples: Sequence[Example], *, single: bool) -> list[list[ScoredTag]]:
        """Each video's predicted tags, best first, named as `ranked` names them: at least
        the one a prediction needs, even when none is likely."""
        from ml.train.model import Suggestion as Scored

        limit = shown_limit(single=single)
        rows = self.model.predict(list(examples), top_k=limit, parents=False)
        return [self._renamed([Scored(tag, score, True) for tag, score in row]) for row in rows]

    def _renamed(self, ranking: list[ScoredTag]) -> list[ScoredTag]:
        kept: list[ScoredTag] = []
        named: set[str] = set()
        for scored in ranking:  # best first: of two merged tags, the better score stays
            path = self.paths.get(scored.tag)
            if path is not None and path not in named:
                named.add(path)
                kept.append(replace(scored, tag=path))
        return kept


def scorer_for(project: Project, *, min_tags: int = 0) -> Scorer:
    """The promoted model with its version, or the zero-shot scorer (choosing at least
    ``min_tags`` tags with any evidence) and None."""
    version = promoted_version(project)
    if version is not None:
        model: TagModel | ZeroShotModel = model_for(version)
    else:
        model = zero_shot_model(project, min_tags=min_tags)
    return Scorer(model, version, current_paths(project, version, model.tags))


# Called after each batch with the share of videos done and what is done, in words.
BatchProgress = Callable[[float, str], None]


def suggestions_refresh_many(
    *, project: Project, videos: Sequence[Video], progress: BatchProgress | None = None
) -> SuggestionRun:
    """Recompute the suggestions of these videos (all of one project), in batches.

    Each batch replaces its videos' suggestions in one transaction: a refresh that
    stops half way leaves every video with a whole set, old or new.
    """
    tags = {tag.path: tag for tag in Tag.objects.filter(project=project, active=True)}
    video_list = list(videos)
    if not tags or not video_list:
        return SuggestionRun(len(video_list), 0, promoted_version(project))
    scorer = scorer_for(project)
    version = scorer.version
    total = confirmed = audited = 0
    for start in range(0, len(video_list), BATCH):
        if progress is not None:
            progress(start / len(video_list), f"{start} of {len(video_list)} videos")
        batch = video_list[start : start + BATCH]
        rankings = scorer.ranked(
            examples_for_videos(batch, with_tags=False),
            single=project.is_single_label,
            extra=settings.SUGGESTIONS_EXTRA,
        )
        total += _store(batch, rankings, tags, version)
        run = videos_auto_confirm(
            project=project, videos=batch, rankings=rankings, version=version, tags=tags
        )
        confirmed += run.confirmed
        audited += run.audited
    return SuggestionRun(len(video_list), total, version, confirmed, audited)


def _store(
    videos: list[Video],
    rankings: list[list[ScoredTag]],
    tags: dict[str, Tag],
    version: ModelVersion | None,
) -> int:
    kept = {
        video.pk: [s for s in ranking if s.tag in tags and s.score > 0]
        for video, ranking in zip(videos, rankings, strict=True)
    }
    with transaction.atomic():
        # Locked in id order: a video deleted meanwhile (a prediction's, not kept) is
        # skipped, and one being deleted waits for these rows and takes them with it.
        present = set(
            Video.objects.select_for_update()
            .filter(pk__in=list(kept))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        videos = [video for video in videos if video.pk in present]
        rows = [
            Suggestion(
                video=video,
                tag=tags[scored.tag],
                model_version=version,
                score=round(scored.score, 4),
                rank=rank,
                above_threshold=scored.above_threshold,
            )
            for video in videos
            # A zero score means "no evidence at all": not worth an annotator's glance.
            for rank, scored in enumerate(kept[video.pk], start=1)
        ]
        Suggestion.objects.filter(video__in=videos).delete()
        Suggestion.objects.bulk_create(rows)
        uncertainties_store({video.pk: uncertainty(kept[video.pk]) for video in videos})
    return len(rows)


def suggestions_refresh(*, video: Video) -> SuggestionRun:
    return suggestions_refresh_many(project=video.project, videos=[video])


def suggestions_refresh_project(
    *, project: Project, progress: BatchProgress | None = None
) -> SuggestionRun:
    """After a promotion: every video of the project that has no confirmed labels yet,
    and the gold videos, which crowd workers label as if they had none: suggestions from
    an older model would tell them apart."""
    ready = Video.objects.filter(project=project).ready()
    videos = (ready.unlabeled() | ready.filter(gold__isnull=False)).select_related("project")
    return suggestions_refresh_many(
        project=project, videos=list(videos.order_by("id")), progress=progress
    )


def suggestions_job_run(job: Job, run: JobRun) -> str:
    """The refresh after a promotion, as a job: its progress shows on the models page."""
    project = job_object(job, Project.objects.all(), "project")
    run.progress(0.0, stage="reading the videos")
    made = suggestions_refresh_project(
        project=project, progress=lambda fraction, stage: run.progress(fraction, stage=stage)
    )
    version = made.model_version
    result = {
        "videos": made.videos,
        "suggestions": made.suggestions,
        "model_version": version.number if version else None,
    }
    message = f"{made.videos} videos: {made.describe()}"
    with run.complete(message, result=result):
        pass
    return message
