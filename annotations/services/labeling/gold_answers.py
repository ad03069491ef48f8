"""When an answer on a gold video locks: when the annotator's answers on other videos do.

An answer can be changed, and is then submitted again, until the video's labels are
confirmed on it; from then on it is locked, and the labeling page and the API say so. A
gold video's labels were confirmed before anyone answered and are never confirmed on an
answer, so left alone its answers would stay open for good while every other answer
locks: the page would tell gold apart. A gold answer therefore locks at a moment a
regular answer of the same annotator would:

- as it is submitted, where the agreement rule would confirm a regular video on the
  answer being submitted: the project confirms agreement by itself and asks one
  annotator per video, or the annotator's latest answer on another video locked (they
  are answering after the video's other annotators);
- otherwise with the annotator's other work: the next time one of their answers on
  another video locks (agreement, a review, the model), their open gold answers lock
  with it.

Until it locks, a gold answer is changed and submitted again like any other
(``submit_count`` counts it), and accuracy (``selectors.quality``) is measured on it as
last submitted, as a regular video's labels are confirmed on its answers as last
submitted; once locked, it is the answer for good. A crowd worker never sees gold labels,
so the time to change an answer teaches them nothing about them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from django.utils import timezone

from annotations.models import Annotation, Video


def gold_answers_settle(*, video: Video) -> None:
    """Lock the open submitted answers on gold ``video`` that a regular video would have
    locked as they were submitted (see the module)."""
    project = video.project
    if not project.auto_confirm_agreement:
        return
    open_answers = video.annotations.submitted().filter(locked_at__isnull=True)
    if project.annotators_per_video > 1:
        settled = []
        for annotation in open_answers:
            latest = (
                Annotation.objects.submitted()
                .filter(
                    annotator=annotation.annotator_id,
                    video__project=project,
                    video__gold__isnull=True,
                )
                .order_by("-submitted_at", "-pk")
                .first()
            )
            if latest is not None and latest.is_locked:
                settled.append(annotation.pk)
        open_answers = open_answers.filter(pk__in=settled)
    open_answers.update(locked_at=timezone.now())


def gold_answers_lock(*, project_id: int, annotator_ids: Collection[int], now: dt.datetime) -> None:
    """Lock the open gold answers of these annotators, whose answers on another video of
    the project were just locked."""
    if annotator_ids:
        Annotation.objects.submitted().filter(
            video__project_id=project_id,
            video__gold__isnull=False,
            annotator_id__in=annotator_ids,
            locked_at__isnull=True,
        ).update(locked_at=now)
