"""The tags suggested to annotators: from the promoted model, or zero-shot before one exists.

Suggestions are replaced whole for a video. Those above the model's threshold come
first, ranked by score, followed by a few below-threshold candidates (SUGGESTIONS_EXTRA)
so a near miss is one key away.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import transaction

from annotations.models import Job, ModelVersion, Project, Suggestion, Tag, Video
from annotations.services.jobs.lifecycle import JobFailed, JobRun
from annotations.services.learning.examples import examples_for_videos
from annotations.services.learning.model_store import model_for, promoted_version
from ml.taxonomy import PATH_SEPARATOR, ancestors

# Zero-shot similarities are not calibrated probabilities; only clearly similar tags
# are marked as confident.
ZERO_SHOT_THRESHOLD = 0.5
BATCH = 256


@dataclass(frozen=True)
class SuggestionRun:
    videos: int
    suggestions: int
    model_version: ModelVersion | None

    def describe(self) -> str:
        source = f"model v{self.model_version.number}" if self.model_version else "zero-shot"
        return f"{self.suggestions} suggestions ({source})"


@dataclass(frozen=True)
class ScoredTag:
    path: str
    score: float
    above_threshold: bool


def rank_scores(
    paths: Sequence[str], scores: np.ndarray, thresholds: np.ndarray, *, shown: int, extra: int
) -> list[ScoredTag]:
    """Tags above their threshold by score, then the best ``extra`` below it.

    A parent whose child is also above its threshold is left out: choosing the child
    implies it. On equal scores the more specific tag comes first.
    """
    order = sorted(range(len(paths)), key=lambda i: (-scores[i], -paths[i].count(PATH_SEPARATOR)))
    confident = [i for i in order if scores[i] >= thresholds[i]]
    implied = {ancestor for i in confident for ancestor in ancestors(paths[i])[:-1]}
    above = [i for i in confident if paths[i] not in implied][:shown]
    below = [i for i in order if scores[i] < thresholds[i] and paths[i] not in implied][:extra]
    return [ScoredTag(paths[i], float(scores[i]), True) for i in above] + [
        ScoredTag(paths[i], float(scores[i]), False) for i in below
    ]


def _model_rankings(version: ModelVersion, videos: list[Video]) -> list[list[ScoredTag]]:
    model = model_for(version)
    examples = examples_for_videos(videos, with_tags=False)
    scores = model.predict_scores(examples)
    thresholds = np.asarray([model.thresholds[tag] for tag in model.tags], dtype=float)
    rankings = []
    for row in scores:
        if version.project.is_single_label:
            best = int(np.argmax(row))
            thresholds_row = np.full_like(row, np.inf)
            thresholds_row[best] = -np.inf
            rankings.append(
                rank_scores(
                    model.tags, row, thresholds_row, shown=1, extra=settings.SUGGESTIONS_EXTRA
                )
            )
        else:
            rankings.append(
                rank_scores(
                    model.tags,
                    row,
                    thresholds,
                    shown=settings.SUGGESTIONS_SHOWN,
                    extra=settings.SUGGESTIONS_EXTRA,
                )
            )
    return rankings


def _zero_shot_rankings(
    project: Project, videos: list[Video], paths: list[str]
) -> list[list[ScoredTag]]:
    from ml.zero_shot import zero_shot_scores

    examples = examples_for_videos(videos, with_tags=False)
    texts = [
        " ".join(filter(None, (e.title, e.description, e.summary or e.transcript[:2000])))
        for e in examples
    ]
    scores = zero_shot_scores(texts, paths, model_name=settings.EMBEDDING_MODEL)
    thresholds = np.full(len(paths), ZERO_SHOT_THRESHOLD)
    shown = 1 if project.is_single_label else settings.SUGGESTIONS_SHOWN
    return [
        rank_scores(paths, row, thresholds, shown=shown, extra=settings.SUGGESTIONS_EXTRA)
        for row in scores
    ]


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
    version = promoted_version(project)
    total = 0
    video_list = list(videos)
    for start in range(0, len(video_list), BATCH):
        if progress is not None:
            progress(start / len(video_list), f"{start} of {len(video_list)} videos")
        batch = video_list[start : start + BATCH]
        if not tags:
            rankings: list[list[ScoredTag]] = [[] for _ in batch]
        elif version is not None:
            rankings = _model_rankings(version, batch)
        else:
            rankings = _zero_shot_rankings(project, batch, sorted(tags))
        total += _store(batch, rankings, tags, version)
    return SuggestionRun(len(video_list), total, version)


def _store(
    videos: list[Video],
    rankings: list[list[ScoredTag]],
    tags: dict[str, Tag],
    version: ModelVersion | None,
) -> int:
    rows = [
        Suggestion(
            video=video,
            tag=tags[scored.path],
            model_version=version,
            score=round(scored.score, 4),
            rank=rank,
            above_threshold=scored.above_threshold,
        )
        for video, ranking in zip(videos, rankings, strict=True)
        # A zero score means "no evidence at all": not worth an annotator's glance.
        for rank, scored in enumerate(
            (s for s in ranking if s.path in tags and s.score > 0), start=1
        )
    ]
    with transaction.atomic():
        Suggestion.objects.filter(video__in=videos).delete()
        Suggestion.objects.bulk_create(rows)
    return len(rows)


def suggestions_refresh(*, video: Video) -> SuggestionRun:
    return suggestions_refresh_many(project=video.project, videos=[video])


def suggestions_refresh_project(
    *, project: Project, progress: BatchProgress | None = None
) -> SuggestionRun:
    """After a promotion: every video of the project that has no confirmed labels yet."""
    videos = Video.objects.filter(project=project).ready().unlabeled().select_related("project")
    return suggestions_refresh_many(
        project=project, videos=list(videos.order_by("id")), progress=progress
    )


def suggestions_job_run(job: Job, run: JobRun) -> str:
    """The refresh after a promotion, as a job: its progress shows on the models page."""
    project = Project.objects.filter(pk=job.object_pk).first()
    if project is None:
        raise JobFailed("the project was deleted")
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
