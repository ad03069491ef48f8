"""How far the promoted model can be trusted on each tag, measured against people's labels.

The evidence for a tag is what the promoted version itself proposed (chose on its merits:
"likely", with at least the project's ``min_score``) on videos whose tags people confirmed
(imported, reviewed, agreed; an audit of a video the version confirmed makes it such a
video), from two sources:
- its held-out videos: the labeled videos its training kept out were scored by the trained
  model, and what it proposed there is stored with the version (``training_data
  ["holdout_likely"]``, with the probabilities: ``min_score`` is a project setting, applied
  when read). The model kept is the one trained without them, so these are predictions on
  videos it never saw, as telling as suggestions people checked: a newly promoted version
  starts with this evidence of its own rather than none;
- its suggestions on videos people labeled since.
A proposal was right when the video's human tags include it (or a child of it). Other
versions' evidence does not count: a newly promoted version has only its own, whatever its
predecessor earned (rolling back to a version brings back what that version earned).
Suggestions the version made on a video it trained on are left out (they would flatter
it), and so are videos with labels only the model confirmed (it cannot vouch for itself);
a held-out video it has a suggestion on since counts once, by that suggestion. Versions
trained before held-out proposals were stored have only their suggestions.
A tag is trusted while the Wilson lower 95 % bound of its precision is at least the
project's target; when new evidence (an audit above all) pulls the bound below the
target, trust stops by itself and the page says since when and why.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
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
from annotations.services.learning.model_store import current_paths, promoted_version
from ml.taxonomy import ancestors
from ml.trust import Evidence, tally


def quality_for(project: Project) -> ProjectQuality:
    """The project's quality settings (their defaults until an admin saves them)."""
    found = ProjectQuality.objects.filter(project=project).first()
    return found if found is not None else ProjectQuality(project=project)


def trust_evidence(
    project: Project, *, min_score: float, version: ModelVersion | None
) -> dict[int, Evidence]:
    """Per tag id, ``version``'s own evidence: its proposals on its held-out videos and its
    suggestions people checked since, and how many of them were right."""
    if version is None:
        return {}
    labels = ConfirmedLabel.objects.filter(video=OuterRef("pk"))
    people_videos = Video.objects.filter(project=project).filter(
        Exists(labels.human()), ~Exists(labels.by_model())
    )
    trained = {str(v) for v in version.training_data.get("split", {}).get("train", [])}
    rows = {
        (video_id, tag_id, path)
        for video_id, path, tag_id in Suggestion.objects.filter(
            video__in=people_videos,
            model_version=version,
            above_threshold=True,
            score__gte=min_score,
        ).values_list("video_id", "tag__path", "tag_id")
        if str(video_id) not in trained
    }
    rows |= _held_out_rows(project, version, min_score=min_score, people_videos=people_videos)
    if not rows:
        return {}
    truth: dict[int, set[str]] = {}
    for video_id, path in (
        ConfirmedLabel.objects.filter(video_id__in={video_id for video_id, _, _ in rows})
        .human()
        .values_list("video_id", "tag__path")
    ):
        truth.setdefault(video_id, set()).update(ancestors(path))
    return tally((tag_id, path in truth.get(video_id, set())) for video_id, tag_id, path in rows)


def _held_out_rows(
    project: Project, version: ModelVersion, *, min_score: float, people_videos: QuerySet[Video]
) -> set[tuple[int, int, str]]:
    """(video id, tag id, today's path) of what ``version`` proposed with at least
    ``min_score`` on its held-out videos when it was trained, on those people labeled.
    A video it has a suggestion on since is left out: that suggestion is the evidence."""
    stored: dict[str, list[list[Any]]] = version.training_data.get("holdout_likely") or {}
    ids = {int(pk) for pk in stored}
    if not ids:
        return set()
    counted = set(people_videos.filter(pk__in=ids).values_list("pk", flat=True)) - set(
        Suggestion.objects.filter(model_version=version, video_id__in=ids).values_list(
            "video_id", flat=True
        )
    )
    # Named as the version's suggestions are today: a renamed tag by its new path, a merged
    # one as the tag it went into, a deprecated one not at all.
    paths = current_paths(
        project, version, sorted({tag for row in stored.values() for tag, _ in row})
    )
    tag_ids = dict(
        Tag.objects.filter(project=project, path__in=set(paths.values())).values_list("path", "pk")
    )
    return {
        (int(pk), tag_ids[paths[tag]], paths[tag])
        for pk, row in stored.items()
        if int(pk) in counted
        for tag, score in row
        if score >= min_score and tag in paths
    }


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
