"""How far the promoted model can be trusted on each tag, measured against people's labels.

The evidence for a tag is every suggestion of it that the promoted version itself made
with at least the project's ``min_score`` (and chose: "likely") on a video whose tags
people have since confirmed (imported, reviewed, agreed; an audit of a video the version
confirmed makes it such a video). It was right when the video's confirmed tags include it
(or a child of it). Suggestions of other versions do not count: a newly promoted version
starts without trust, whatever its predecessor earned, and auto-confirmation waits for
its own evidence (rolling back to a version brings back what that version earned).
Suggestions the version made on a video it trained on are left out (they would flatter
it), and so are videos with labels only the model confirmed (it cannot vouch for itself).
A tag is trusted while the Wilson lower 95 % bound of its precision is at least the
project's target; when new evidence (an audit above all) pulls the bound below the
target, trust stops by itself and the page says since when and why.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from annotations.models import (
    ConfirmedLabel,
    ModelVersion,
    Project,
    ProjectQuality,
    Suggestion,
    Tag,
    TagTrust,
    Video,
)
from annotations.services.learning.model_store import promoted_version
from ml.compare import wilson_lower_bound
from ml.taxonomy import ancestors


def quality_for(project: Project) -> ProjectQuality:
    """The project's quality settings (their defaults until an admin saves them)."""
    found = ProjectQuality.objects.filter(project=project).first()
    return found if found is not None else ProjectQuality(project=project)


@dataclass(frozen=True)
class Evidence:
    checked: int
    right: int

    @property
    def lower_bound(self) -> float:
        return wilson_lower_bound(self.right, self.checked)


def trust_evidence(
    project: Project, *, min_score: float, version: ModelVersion | None
) -> dict[int, Evidence]:
    """Per tag id, ``version``'s own checked suggestions and how many were right."""
    if version is None:
        return {}
    labels = ConfirmedLabel.objects.filter(video=OuterRef("pk"))
    people_videos = Video.objects.filter(project=project).filter(
        Exists(labels.human()), ~Exists(labels.by_model())
    )
    trained = {str(v) for v in version.training_data.get("split", {}).get("train", [])}
    rows = [
        (video_id, path, tag_id)
        for video_id, path, tag_id in Suggestion.objects.filter(
            video__in=people_videos,
            model_version=version,
            above_threshold=True,
            score__gte=min_score,
        ).values_list("video_id", "tag__path", "tag_id")
        if str(video_id) not in trained
    ]
    if not rows:
        return {}
    truth: dict[int, set[str]] = {}
    for video_id, path in (
        ConfirmedLabel.objects.filter(video_id__in={video_id for video_id, _, _ in rows})
        .human()
        .values_list("video_id", "tag__path")
    ):
        truth.setdefault(video_id, set()).update(ancestors(path))
    checked: Counter[int] = Counter()
    right: Counter[int] = Counter()
    for video_id, path, tag_id in rows:
        checked[tag_id] += 1
        right[tag_id] += path in truth.get(video_id, set())
    return {tag_id: Evidence(checked[tag_id], right[tag_id]) for tag_id in checked}


def tag_trust_refresh(*, project: Project) -> dict[int, TagTrust]:
    """Measure every tag again on the promoted version's own evidence and store whether
    the model may confirm it; by tag id. A row measured on another version starts again
    untrusted, with no "stopped" date: that version's trust is not this one's."""
    quality = quality_for(project)
    version = promoted_version(project)
    evidence = trust_evidence(project, min_score=quality.min_score, version=version)
    now = timezone.now()
    version_id = version.pk if version is not None else None
    with transaction.atomic():
        current = {
            t.tag_id: t for t in TagTrust.objects.select_for_update().filter(project=project)
        }
        for tag_id in Tag.objects.filter(
            project=project, pk__in=set(evidence) | set(current)
        ).values_list("pk", flat=True):
            found = evidence.get(tag_id, Evidence(0, 0))
            bound = found.lower_bound
            trusted = bound >= quality.target_precision
            row = current.get(tag_id) or TagTrust(tag_id=tag_id, project=project)
            if row.model_version_id != version_id:
                row.model_version_id, row.trusted, row.changed_at = version_id, False, None
            if row.trusted != trusted:  # a new row starts untrusted
                row.changed_at = now
            row.checked, row.right, row.lower_bound, row.trusted = (
                found.checked,
                found.right,
                bound,
                trusted,
            )
            row.save()
            current[tag_id] = row
    return current


def trusted_tag_ids(project: Project) -> set[int]:
    return set(
        TagTrust.objects.filter(project=project, trusted=True).values_list("tag_id", flat=True)
    )
