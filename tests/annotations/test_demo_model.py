"""The demo's first model, trained on the demo's labeled texts as `make demo` imports them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pytest_django.fixtures import Settings

from annotations.demo.catalog import DEMO_VIDEOS
from annotations.management.commands.setup_demo import DEMO_TAXONOMY, UNLABELED_EVERY
from annotations.models import ModelVersion, Project, Suggestion, Tag, VideoStatus
from annotations.services.learning.examples import examples_for_videos
from annotations.services.learning.model_store import model_for
from annotations.services.learning.suggestions import suggestions_refresh_project
from annotations.services.learning.training import training_request
from annotations.services.projects import default_guidelines
from annotations.services.taxonomy import taxonomy_import_text
from ml.evaluate import expand_tags
from tests.annotations.labeling_fixtures import imported_label
from tests.factories import make_video


def test_the_demos_first_model_is_calibrated_and_its_gate_note_has_an_interval(
    project: Project,
    settings: Settings,
    tmp_path: Path,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    # The defaults of a fresh clone, but for an embedding model that cannot load here.
    settings.MODEL_DIR = tmp_path / "models"
    settings.EMBEDDING_MODEL = str(tmp_path / "no-embedding-model")
    project.guidelines = default_guidelines()
    project.save()
    taxonomy_import_text(project=project, text=DEMO_TAXONOMY.read_text("utf-8"), fmt="json")
    tags = {tag.path: tag for tag in Tag.objects.filter(project=project)}
    unlabeled = []
    for n, demo in enumerate(DEMO_VIDEOS, start=1):
        transcript = " ".join(text for _, _, text in demo.narration)
        video = make_video(
            project,
            title=demo.title,
            description=demo.description,
            summary=transcript,
            status=VideoStatus.READY,
        )
        if n % UNLABELED_EVERY == 0:
            unlabeled.append((video, demo))
        else:
            for path in demo.tags:
                imported_label(video, tags[path])

    with django_capture_on_commit_callbacks(execute=True):
        version = training_request(project=project)
    version.refresh_from_db()

    # Compared with the zero-shot suggestions on the same held-out videos, with the
    # interval of the difference; promoted only if it is better.
    gate = version.metrics["gate"]
    assert gate["against"] == "zero-shot"
    assert "(zero-shot: " in version.note and "95% CI" in version.note
    promoted = gate["difference"] > 0
    assert version.state == (
        ModelVersion.State.PROMOTED if promoted else ModelVersion.State.CANDIDATE
    )
    model = model_for(version)
    assert model.calibrated
    calibration = version.metrics["decision"]["calibration"]
    assert calibration["after"]["ece"] < calibration["before"]["ece"]
    # No "1.00" on a wrong tag: the probabilities of tags the unlabeled videos lack.
    examples = examples_for_videos([video for video, _ in unlabeled], with_tags=False)
    probabilities = model.predict_scores(examples)
    wrong = [
        probabilities[i, j]
        for i, (_, demo) in enumerate(unlabeled)
        for j, tag in enumerate(model.tags)
        if tag not in expand_tags(demo.tags)
    ]
    assert max(wrong) < 0.9
    # Every video left for the annotators has suggestions, from whichever scorer won.
    suggestions_refresh_project(project=project)
    for video, demo in unlabeled:
        assert Suggestion.objects.filter(video=video).exists(), demo.video_id
