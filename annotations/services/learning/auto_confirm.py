"""Auto-confirmation: the model confirms a video's tags itself when it has earned trust
on every one of them (see ``trust``), and a random share of those videos is audited.

Per project and off by default. A video qualifies when nobody has started or confirmed
it, it is not gold, the promoted model proposes at least one tag, and every proposed tag
has at least the project's ``min_score`` and is trusted. Its tags are confirmed with
source "model" and the version, in the label history like any other confirmation; it
then leaves the annotators' queue. ``audit_share`` of them (drawn at random, reproducibly
per video and version) go to an expert's review, whose outcome is new evidence.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from annotations.models import (
    Annotation,
    ConfirmedLabel,
    GoldVideo,
    ModelVersion,
    Project,
    ReviewRequest,
    Tag,
    Video,
)
from annotations.services.labeling.review import video_confirm_by_model
from annotations.services.learning.trust import quality_for, tag_trust_refresh

if TYPE_CHECKING:
    from ml.train.model import Suggestion as ScoredTag


@dataclass(frozen=True)
class AutoConfirmRun:
    confirmed: int
    audited: int


def videos_auto_confirm(
    *,
    project: Project,
    videos: Sequence[Video],
    rankings: Sequence[Sequence[ScoredTag]],
    version: ModelVersion | None,
    tags: dict[str, Tag],
) -> AutoConfirmRun:
    """Confirm the videos of this batch that qualify; returns how many, and how many audited."""
    quality = quality_for(project)
    if version is None or not quality.auto_confirm or not videos:
        return AutoConfirmRun(0, 0)
    trusted = {row.tag_id for row in tag_trust_refresh(project=project).values() if row.trusted}
    if not trusted:
        return AutoConfirmRun(0, 0)
    ids = [video.pk for video in videos]
    busy = (
        set(Annotation.objects.filter(video_id__in=ids).values_list("video_id", flat=True))
        | set(ConfirmedLabel.objects.filter(video_id__in=ids).values_list("video_id", flat=True))
        | set(GoldVideo.objects.filter(video_id__in=ids).values_list("video_id", flat=True))
    )
    confirmed = audited = 0
    for video, ranking in zip(videos, rankings, strict=True):
        proposed = [s for s in ranking if s.above_threshold and s.tag in tags]
        if video.pk in busy or not proposed:
            continue
        if any(s.score < quality.min_score or tags[s.tag].pk not in trusted for s in proposed):
            continue
        if not video_confirm_by_model(
            video=video, tag_ids=[tags[s.tag].pk for s in proposed], version=version
        ):
            continue
        confirmed += 1
        draw = random.Random(f"{version.pk}:{video.pk}").random()  # noqa: S311 - not security
        if draw < quality.audit_share:
            ReviewRequest.objects.get_or_create(
                video=video,
                reason=ReviewRequest.Reason.AUDIT,
                resolved_at=None,
            )
            audited += 1
    return AutoConfirmRun(confirmed, audited)
