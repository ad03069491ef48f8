"""The model version page: what was measured, named for people, with its charts."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import User

from annotations.models import ModelVersion, Project
from annotations.services.learning.training import training_request
from tests.factories import client_for


def _chart(page: str, chart_id: str) -> dict[str, Any]:
    assert f'data-chart="{chart_id}"' in page
    found = re.search(rf'<script id="{chart_id}" type="application/json">(.*?)</script>', page)
    assert found, chart_id
    return json.loads(found.group(1))


def test_the_version_page_shows_named_figures_cross_validation_charts_and_what_was_left_out(
    promoted_version: ModelVersion, expert: User
) -> None:
    metrics = promoted_version.metrics
    page = client_for(expert).get(f"/models/{promoted_version.pk}/").content.decode()

    assert "Hierarchical IoU (the Rutube challenge&#x27;s score)" in page
    assert ">hierarchical_iou<" not in page
    summary = metrics["cv"]["summary"]["hierarchical_iou"]
    assert f"{summary['mean']:.3f} ± {summary['std']:.3f}" in page
    per_tag = _chart(page, "per-tag-chart")
    f1 = {
        label.rsplit(" (", 1)[0]: value
        for label, value in zip(per_tag["labels"], per_tag["datasets"][0]["data"], strict=True)
    }
    for path, figures in metrics["holdout"]["per_tag"].items():
        if figures["support"]:
            assert f1[path] == round(figures["f1"], 3)
    reliability = _chart(page, "reliability-chart")
    assert [d["label"] for d in reliability["datasets"]][1:] == [
        "Classifier scores",
        "Calibrated probabilities",
    ]
    curve = _chart(page, "learning-curve-chart")
    assert curve["labels"] == [p["videos"] for p in metrics["learning_curve"]]
    # The embedding model could not be loaded: the page says so and why.
    skipped = page[page.index('id="skipped"') :]
    assert "Sentence embeddings" in skipped
    assert metrics["embedding_skipped_reason"][:40] in skipped
    assert "sentence embeddings" not in page[page.index("Features used") :].split("</tr>")[0]
    # Its weight is a setting the model never used: not listed among the weights.
    assert promoted_version.parameters["weights"].get("embedding")
    weights = page[page.index("Weights of the feature blocks") :].split("</tr>")[0]
    assert "words (TF-IDF)" in weights
    assert "sentence embeddings" not in weights
    gate = page[page.index('id="gate"') :]
    assert "compared with the zero-shot suggestions it replaces" in gate
    assert f"{metrics['gate']['low']:.3f} … {metrics['gate']['high']:.3f}" in gate
    # Charts are drawn by the vendored library from json_script: no inline script.
    assert "chart.umd.min.js" in page
    assert "<svg" not in page
    assert not re.search(r"<script(?![^>]*(src=|application/json))", page)


def test_the_models_page_charts_quality_over_versions(
    promoted_version: ModelVersion,
    project: Project,
    admin_user: User,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        second = training_request(project=project)  # after the promoted one
    second.refresh_from_db()

    page = client_for(admin_user).get(f"/projects/{project.pk}/models/").content.decode()

    chart = _chart(page, "versions-chart")
    assert chart["labels"] == ["v1", "v2"]
    iou = chart["datasets"][0]
    assert iou["label"].startswith("Hierarchical IoU")
    first = promoted_version
    assert iou["data"] == [v.metrics["holdout"]["hierarchical_iou"] for v in (first, second)]


def test_the_versions_table_says_the_gates_verdict_in_the_readers_language(
    promoted_version: ModelVersion, project: Project, admin_user: User
) -> None:
    gate = promoted_version.metrics["gate"]
    client = client_for(admin_user)
    url = f"/projects/{project.pk}/models/"

    english = client.get(url).content.decode()
    client.post("/i18n/setlang/", {"language": "ru", "next": "/"})
    russian = client.get(url).content.decode()

    def verdict(page: str) -> str:
        return page[page.index('class="gate-verdict"') :].split("</td>")[0]

    assert "Promoted by the gate" in verdict(english)
    assert f"{gate['low']:.3f} and {gate['high']:.3f}" in verdict(english)
    said = verdict(russian)
    assert "Введена в работу автоматически" in said
    assert f"{gate['candidate']:.3f}".replace(".", ",") in said
    assert "отложенн" in said
    # The stored note is English; the Russian page does not show it.
    assert promoted_version.note not in russian
