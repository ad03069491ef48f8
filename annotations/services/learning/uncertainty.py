"""The priority of "most uncertain first": an uncertainty stored on each video, indexed.

The queue walks the index (project, status, uncertainty, id) and stops at the first video
it may hand out, so what every video stores decides how far it walks. The rule
(``models.queue_uncertainty``): a video whose tags are confirmed stores
UNCERTAINTY_CONFIRMED, after every open video; any other video, and a gold video (which is
confirmed but handed out among the work it checks, in the same order, so that it comes
neither last nor apart), stores the uncertainty of its stored suggestions. Whatever changes
a video's suggestions or confirmed labels calls ``uncertainty_refresh`` (or
``uncertainties_store`` with the suggestions it has just scored) in the same transaction;
an importer inserting new videos stores the rule's value with them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from annotations.models import Suggestion, Video
from annotations.models.videos import UNCERTAINTY_UNKNOWN, queue_uncertainty

if TYPE_CHECKING:
    from ml.train.model import Suggestion as ScoredTag

# Videos read and written per statement: within SQLite's limit on query parameters.
CHUNK = 500


def uncertainty(ranking: Sequence[ScoredTag]) -> float:
    """The gap between the weakest tag the model chooses and the strongest one it holds
    back: a small gap means a small change of score would change the tags, the video the
    model learns most from. Choosing nothing gives a negative gap (most uncertain); no
    suggestion at all, UNCERTAINTY_UNKNOWN (after the others)."""
    return _gap((s.score, s.above_threshold) for s in ranking)


def _gap(scores: Iterable[tuple[float, bool]]) -> float:
    above: list[float] = []
    below: list[float] = []
    for score, chosen in scores:
        (above if chosen else below).append(score)
    if not above and not below:
        return UNCERTAINTY_UNKNOWN
    return round((min(above) if above else 0.0) - (max(below) if below else 0.0), 6)


def uncertainty_refresh(*, video_ids: Sequence[int]) -> None:
    """Store what these videos' uncertainty is now: UNCERTAINTY_CONFIRMED for those whose
    tags are confirmed, the uncertainty of their stored suggestions for the others (a video
    whose confirmed tags were all removed gets its place in the queue back)."""
    ids = list(dict.fromkeys(video_ids))
    for start in range(0, len(ids), CHUNK):
        _write(ids[start : start + CHUNK], scored=None)


def uncertainties_store(scored: Mapping[int, float]) -> None:
    """Store the uncertainty of suggestions just scored (video id -> ``uncertainty``) by
    the rule: a video whose tags are confirmed keeps UNCERTAINTY_CONFIRMED, unless it is
    gold."""
    ids = list(scored)
    for start in range(0, len(ids), CHUNK):
        _write(ids[start : start + CHUNK], scored=scored)


def _write(ids: list[int], *, scored: Mapping[int, float] | None) -> None:
    videos = Video.objects.filter(pk__in=ids)
    confirmed = set(videos.labeled().filter(gold__isnull=True).values_list("pk", flat=True))
    if scored is None:
        scored = _from_suggestions([pk for pk in ids if pk not in confirmed])
    changed = [
        Video(pk=pk, uncertainty=value)
        for pk, stored in videos.values_list("pk", "uncertainty")
        if (
            value := queue_uncertainty(
                confirmed=pk in confirmed, scored=scored.get(pk, UNCERTAINTY_UNKNOWN)
            )
        )
        != stored
    ]
    # Only what changed: a merge of tags on many confirmed videos rewrites none of them.
    Video.objects.bulk_update(changed, ["uncertainty"])


def _from_suggestions(ids: list[int]) -> dict[int, float]:
    rows: dict[int, list[tuple[float, bool]]] = {pk: [] for pk in ids}
    for video_id, score, above in Suggestion.objects.filter(video_id__in=ids).values_list(
        "video_id", "score", "above_threshold"
    ):
        rows[video_id].append((score, above))
    return {pk: _gap(scores) for pk, scores in rows.items()}
