"""Training the suggestion model from confirmed labels, and the promotion gate.

Only confirmed labels are training data: expert-confirmed, agreed by enough
annotators, or imported with the video; never raw crowd answers. Rejected
suggestions are kept as known negatives and recorded with the version.

A candidate is promoted only if, on the same evaluation data (the candidate's
held-out videos), it beats the current model by PROMOTION_METRIC by more than
PROMOTION_MARGIN (a tie stays a candidate); the first model of a project must beat the
zero-shot scorer it replaces the same way. The difference comes with a paired bootstrap
95 % interval, stored with the version for its page; a candidate that loses stays a
candidate and its note says why. One training per project runs at a time: a database
constraint refuses a second ``training`` row, so two clicks on "Retrain" start one job.
The version's training is a job (``Job`` of kind ``training``): a training whose worker
died is started again, or the version fails with the reason, so the project can always
retrain.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from annotations.models import (
    Decision,
    Job,
    ModelVersion,
    Project,
    TagDecision,
    Video,
)
from annotations.services.errors import StateConflict
from annotations.services.jobs.lifecycle import JobFailed, JobRun, job_object, job_request
from annotations.services.learning.examples import (
    examples_for_videos,
    labeled_videos,
    training_labels,
)
from annotations.services.learning.model_store import (
    artifact_directory,
    model_for,
    promoted_version,
    taxonomy_ids,
)
from annotations.services.learning.registry import version_promote_by_gate
from annotations.services.learning.suggestions import shown_limit, zero_shot_model
from ml.compare import Comparison, compare_scorers, gate_videos
from ml.dataset import Example

if TYPE_CHECKING:
    from ml.compare import Scorer
    from ml.train import TrainResult

logger = logging.getLogger(__name__)


class TrainingAlreadyRunning(StateConflict):
    def __init__(self, version: ModelVersion) -> None:
        self.version = version
        self.state = f"Its job is training-{version.pk}."
        super().__init__(f"Version {version.number} of {version.project} is already training.")


class NotEnoughData(ValueError):
    pass


def training_request(*, project: Project, user: User | None = None) -> ModelVersion:
    """Create a version in state ``training`` and queue its job; refuses a second one."""
    try:
        with transaction.atomic():
            number = (project.model_versions.aggregate(n=Max("number"))["n"] or 0) + 1
            version = ModelVersion.objects.create(
                project=project,
                number=number,
                state=ModelVersion.State.TRAINING,
                requested_by=user,
            )
            job_request(kind=Job.Kind.TRAINING, project=project, object_id=version.pk, user=user)
    except IntegrityError:
        running = ModelVersion.objects.filter(project=project).training().first()
        if running is None:
            raise
        raise TrainingAlreadyRunning(running) from None
    return version


def new_labels_since_last_version(project: Project) -> int:
    """Labels training would learn from that arrived since the last version (the model's
    own confirmations count only when training uses them)."""
    last = (
        project.model_versions.exclude(state=ModelVersion.State.FAILED).order_by("-number").first()
    )
    labels = training_labels().filter(video__project=project)
    if last is not None:
        labels = labels.filter(confirmed_at__gt=last.created_at)
    return labels.count()


@dataclass(frozen=True)
class GateDecision:
    promote: bool
    note: str
    candidate_score: float
    current_score: float | None
    comparison: Comparison | None = None
    # "zero-shot" or the current version's number.
    reference: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "promote": self.promote,
            "against": self.reference,
            "margin": settings.PROMOTION_MARGIN,
            **(self.comparison.as_dict() if self.comparison else {}),
        }


def training_job_run(job: Job, run: JobRun) -> str:
    """Train, evaluate and maybe promote the job's version; the note says how it went."""
    version = job_object(job, ModelVersion.objects.select_related("project"), "model version")
    if version.state != ModelVersion.State.TRAINING:
        raise JobFailed(f"version {version.number} is {version.state}, not waiting to be trained")
    try:
        return _train(version, run)
    except NotEnoughData as exc:
        raise JobFailed(str(exc)) from None


def training_job_ended(job: Job, state: str, reason: str) -> None:
    """A failed or cancelled training: the version fails with the reason, its files go."""
    version = ModelVersion.objects.filter(pk=job.object_pk).first()
    if version is None or version.state != ModelVersion.State.TRAINING:
        return
    note = reason if state == Job.State.FAILED else f"cancelled: {reason}"
    ModelVersion.objects.filter(pk=version.pk).update(
        state=ModelVersion.State.FAILED, note=note, finished_at=timezone.now()
    )
    if version.artifact_path:
        shutil.rmtree(version.artifact_path, ignore_errors=True)
    shutil.rmtree(artifact_directory(version.project, version.number), ignore_errors=True)


def training_job_queued(job: Job) -> None:
    """A failed training tried again: its version trains again, if no other one does."""
    version = ModelVersion.objects.select_related("project").get(pk=job.object_pk)
    if version.state == ModelVersion.State.TRAINING:
        return
    if version.state != ModelVersion.State.FAILED:
        raise StateConflict(
            f"Version {version.number} is {version.state}: nothing to train.",
            shown=lambda: (
                _("Version %(n)d is %(state)s: nothing to train.")
                % {"n": version.number, "state": version.get_state_display()}
            ),
        )
    try:
        with transaction.atomic():
            ModelVersion.objects.filter(pk=version.pk).update(
                state=ModelVersion.State.TRAINING, note="", finished_at=None
            )
    except IntegrityError:
        running = ModelVersion.objects.filter(project=version.project).training().first()
        if running is None:
            raise
        raise TrainingAlreadyRunning(running) from None


def _train(version: ModelVersion, run: JobRun) -> str:
    from ml.artifacts import save_model
    from ml.train import TrainConfig, train

    project = version.project
    run.progress(0.0, stage="reading the labeled videos")
    videos = list(labeled_videos(project.pk))
    if len(videos) < settings.MIN_TRAINING_VIDEOS:
        raise NotEnoughData(
            f"only {len(videos)} videos have confirmed labels; at least "
            f"{settings.MIN_TRAINING_VIDEOS} are needed (MIN_TRAINING_VIDEOS)"
        )
    examples = examples_for_videos(
        videos, with_tags=True, human_only=not settings.TRAIN_ON_MODEL_LABELS
    )
    # from_dict: the settings are validated strings, TrainConfig checks them again.
    config = TrainConfig.from_dict(
        {
            "multi_label": not project.is_single_label,
            "classifier": settings.MODEL_CLASSIFIER,
            "embedding_model": settings.EMBEDDING_MODEL or None,
            "search": settings.MODEL_SEARCH,
            "search_budget": settings.MODEL_SEARCH_BUDGET,
            "cv_folds": settings.MODEL_CV_FOLDS,
            "n_jobs": settings.MODEL_N_JOBS,
            "seed": version.number,
            "text_mode": settings.TEXT_MODE,
        }
    )
    # Read with the labels: the version keeps the tags' ids, which a rename leaves alone.
    tag_ids = taxonomy_ids(project)
    taxonomy = list(tag_ids)

    def progress(stage: str, fraction: float) -> None:
        run.progress(fraction, stage=stage)

    result = train(examples, taxonomy_paths=taxonomy, config=config, progress=progress)
    run.progress(1.0, stage="saving the model")
    directory = artifact_directory(project, version.number)
    try:
        # A run killed while saving left a part of its files there.
        shutil.rmtree(directory, ignore_errors=True)
        save_model(
            result.model, directory, metadata={"project": project.name, "version": version.number}
        )
        version.training_data = {"tag_ids": tag_ids}
        return _evaluate_and_keep(version, run, result, videos, examples, Path(directory))
    except BaseException:
        # Failed, stopped or cancelled: a version that is not kept leaves no files.
        shutil.rmtree(directory, ignore_errors=True)
        raise


def _evaluate_and_keep(
    version: ModelVersion,
    run: JobRun,
    result: TrainResult,
    videos: list[Video],
    examples: list[Example],
    directory: Path,
) -> str:
    from ml.artifacts import library_versions

    negatives = TagDecision.objects.filter(
        annotation__video__in=videos, decision=Decision.REJECT
    ).count()
    version.artifact_path = str(directory)
    version.metrics = result.metrics
    version.parameters = result.params
    version.training_data = {
        **version.training_data,
        "videos": [video.pk for video in videos],
        "split": result.split,
        "known_negatives": negatives,
    }
    version.library_versions = library_versions()
    by_id = {example.video_id: example for example in examples}
    held_out = [
        by_id[video_id] for video_id in result.split.get("holdout", []) if video_id in by_id
    ]
    version.training_data["holdout_likely"] = _held_out_likely(version, result, held_out)
    run.progress(1.0, stage="comparing with the promoted model")
    decision = gate(candidate=version, evaluation=held_out)
    version.note = decision.note
    version.metrics = {**version.metrics, "gate": decision.as_dict()}
    version.finished_at = timezone.now()
    version.state = ModelVersion.State.CANDIDATE
    with run.complete(decision.note, result={"version": version.number}):
        version.save()
        if decision.promote:
            version_promote_by_gate(version=version, reason=decision.note)
    return decision.note


def _held_out_likely(
    version: ModelVersion, result: TrainResult, held_out: list[Example]
) -> dict[str, list[tuple[str, float]]]:
    """What the kept model proposes on its held-out videos, as its suggestions would: the
    evidence of its precision it starts with (see ``trust``). Videos the kept model trained
    on too (a refit on all videos) are left out: it would be checked on what it learned."""
    from ml.trust import likely_tags

    trained = set(result.split.get("train", []))
    unseen = [example for example in held_out if example.video_id not in trained]
    return likely_tags(
        result.model, unseen, limit=shown_limit(single=version.project.is_single_label)
    )


def _comparison_note(verdict: str, comparison: Comparison, reference: str, caveat: str = "") -> str:
    return (
        f"{verdict}: {comparison.metric} {comparison.candidate:.3f} ({reference}: "
        f"{comparison.reference:.3f}) on the same {comparison.videos} held-out videos"
        f"{caveat}; difference {comparison.difference:+.3f} "
        f"(95% CI {comparison.low:+.3f} to {comparison.high:+.3f})"
    )


def gate(*, candidate: ModelVersion, evaluation: list[Example]) -> GateDecision:
    """Compare the candidate with the current model (the zero-shot scorer for a first
    model) on the same held-out videos; promote only when it is better by more than the
    margin: a candidate that only equals the current model changes nothing worth a
    promotion (and a refresh of every suggestion)."""
    metric = settings.PROMOTION_METRIC
    margin = settings.PROMOTION_MARGIN
    candidate_score = float(candidate.metrics.get("holdout", candidate.metrics).get(metric, 0.0))
    current = promoted_version(candidate.project)
    if current is not None and current.pk == candidate.pk:
        current = None
    if not evaluation:
        return GateDecision(
            False, "no held-out videos to compare on; promote by hand", candidate_score, None
        )
    caveat = ""
    reference: Scorer
    if current is None:
        # The zero-shot scorer may learn from confirmed videos, but not from these.
        reference = zero_shot_model(
            candidate.project,
            exclude_video_ids=[e.video_id for e in evaluation],
            min_tags=1,
        )
        name = "zero-shot"
    else:
        seen = {str(v) for v in current.training_data.get("split", {}).get("train", [])}
        evaluation, partial = gate_videos(evaluation, seen)
        if partial:
            caveat = f" (v{current.number} had trained on some of them)"
        reference = model_for(current)
        name = f"v{current.number}"
    comparison = compare_scorers(
        evaluation, model_for(candidate), reference, metric=metric, seed=candidate.number
    )
    if comparison.difference > margin:
        note = _comparison_note("promoted", comparison, name, caveat)
        return GateDecision(
            True, note, comparison.candidate, comparison.reference, comparison, name
        )
    note = _comparison_note(
        f"kept as a candidate (not above {name} + margin {margin})", comparison, name, caveat
    )
    return GateDecision(False, note, comparison.candidate, comparison.reference, comparison, name)


def scheduled_retraining() -> str:
    """Start a training for every project with RETRAIN_MIN_NEW_LABELS new confirmed labels."""
    started, waiting = [], []
    for project in Project.objects.all():
        fresh = new_labels_since_last_version(project)
        if fresh < settings.RETRAIN_MIN_NEW_LABELS:
            waiting.append(f"{project.name} ({fresh} new labels)")
            continue
        try:
            training_request(project=project)
        except TrainingAlreadyRunning:
            waiting.append(f"{project.name} (already training)")
        else:
            started.append(project.name)
    return f"started: {', '.join(started) or 'none'}; not needed: {', '.join(waiting) or 'none'}"
