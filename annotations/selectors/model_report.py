"""A model version's stored figures shaped for its page: named metrics, the gate's evidence,
calibration, what training left out and why, and the data of its charts.

The charts are {type, labels, datasets, options} objects for `static/js/charts.js`, which
draws them with the vendored Chart.js from the page's json_script blocks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from annotations.models import ModelVersion

# The names people read for the metrics' ids, in the order the pages list them.
METRIC_NAMES: dict[str, Promise] = {
    "hierarchical_iou": gettext_lazy("Hierarchical IoU (the Rutube challenge's score)"),
    "f1_micro": gettext_lazy("F1 over all tags (micro)"),
    "f1_macro": gettext_lazy("F1 averaged over tags (macro)"),
    "f1_samples": gettext_lazy("F1 averaged over videos"),
    "precision_micro": gettext_lazy("Precision (micro)"),
    "recall_micro": gettext_lazy("Recall (micro)"),
    "precision_at_1": gettext_lazy("First suggestion right (precision@1)"),
    "precision_at_3": gettext_lazy("Right among the first three (precision@3)"),
    "precision_at_5": gettext_lazy("Right among the first five (precision@5)"),
    "roc_auc_micro": gettext_lazy("Ranking quality, ROC-AUC (micro)"),
    "roc_auc_macro": gettext_lazy("Ranking quality, ROC-AUC (macro)"),
    "calibration_error": gettext_lazy("Calibration error (ECE, lower is better)"),
    "mean_predicted_tags": gettext_lazy("Tags chosen per video"),
}
HEADLINE = ("hierarchical_iou", "f1_micro", "f1_macro", "precision_at_1", "precision_at_3")
PER_TAG_SHOWN = 30
_PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c")


def metric_name(metric: str) -> str:
    return str(METRIC_NAMES.get(metric, metric))


@dataclass(frozen=True)
class NamedFigure:
    metric: str
    name: str
    value: float | None
    spread: float | None = None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def headline(version: ModelVersion) -> list[NamedFigure]:
    """The held-out figures people compare versions by."""
    holdout = (version.metrics or {}).get("holdout", {})
    return [NamedFigure(m, metric_name(m), _number(holdout.get(m))) for m in HEADLINE]


def cross_validation(version: ModelVersion) -> tuple[int, list[NamedFigure]]:
    """(folds, mean ± standard deviation over the folds of each named metric)."""
    cv = (version.metrics or {}).get("cv") or {}
    summary = cv.get("summary", {})
    rows = [
        NamedFigure(
            m, metric_name(m), _number(summary[m].get("mean")), _number(summary[m].get("std"))
        )
        for m in METRIC_NAMES
        if m in summary
    ]
    return int(cv.get("folds", 0)), rows


@dataclass(frozen=True)
class Skipped:
    what: str
    why: str
    # The technical reason as the library gave it (a path, a setting), shown as such.
    detail: str = ""


def skipped(version: ModelVersion) -> list[Skipped]:
    """What training left out, and why."""
    metrics = version.metrics or {}
    found = []
    reason = metrics.get("embedding_skipped_reason")
    if reason:
        found.append(
            Skipped(
                _("Sentence embeddings"),
                _("The sentence embedding model could not be loaded; training went on without it."),
                str(reason),
            )
        )
    sizes = _block_sizes(version)
    if sizes and not sizes.get("media"):
        found.append(Skipped(_("Media features"), _("No video had visual or audio features.")))
    dropped = (metrics.get("data") or {}).get("tags_dropped_as_rare") or {}
    if dropped:
        found.append(
            Skipped(
                _("Rare tags"),
                _("%(n)d tags had too few videos to learn: %(tags)s")
                % {"n": len(dropped), "tags": ", ".join(sorted(dropped)[:10])},
            )
        )
    return found


FEATURE_BLOCK_NAMES = {
    "word": gettext_lazy("words (TF-IDF)"),
    "char": gettext_lazy("character n-grams"),
    "embedding": gettext_lazy("sentence embeddings"),
    "media": gettext_lazy("media features"),
}


def _block_sizes(version: ModelVersion) -> dict[str, int]:
    return ((version.metrics or {}).get("features") or {}).get("block_sizes") or {}


def features_used(version: ModelVersion) -> list[str]:
    sizes = _block_sizes(version)
    return [str(FEATURE_BLOCK_NAMES.get(block, block)) for block, size in sizes.items() if size]


# The classifier's settings (ml.train.params.ClassifierParams, and the block weights the
# search chose) by the names people read; a key of another version shows as it is stored.
PARAMETER_NAMES = {
    "classifier": gettext_lazy("Classifier"),
    "C": gettext_lazy("Regularisation (C: larger fits the training videos more closely)"),
    "class_weight": gettext_lazy("Class weights"),
    "solver": gettext_lazy("Solver"),
    "max_iter": gettext_lazy("Iterations at most"),
    "seed": gettext_lazy("Random seed"),
    "weights": gettext_lazy("Weights of the feature blocks"),
}
PARAMETER_VALUES = {
    "logreg": gettext_lazy("logistic regression"),
    "linear_svm": gettext_lazy("linear SVM, calibrated"),
    "balanced": gettext_lazy("balanced (rare tags weigh more)"),
}


@dataclass(frozen=True)
class Parameter:
    name: str
    value: str
    # A value that is a library's own name (a solver), shown as code.
    literal: bool = False


def parameters_shown(version: ModelVersion) -> list[Parameter]:
    """The version's training settings as the page lists them."""
    shown = []
    sizes = _block_sizes(version)
    for key, value in (version.parameters or {}).items():
        name = str(PARAMETER_NAMES.get(key, key))
        if key == "weights" and isinstance(value, dict):
            # A block the training left out (an embedding model that could not load, no
            # media) has a weight in the settings but no part in the model: not listed.
            text = ", ".join(
                f"{FEATURE_BLOCK_NAMES.get(block, block)} {weight:g}"
                for block, weight in value.items()
                if isinstance(weight, int | float) and (not sizes or sizes.get(block))
            )
            shown.append(Parameter(name, text))
        elif key == "class_weight" and value is None:
            shown.append(Parameter(name, _("equal")))
        elif isinstance(value, str) and value in PARAMETER_VALUES:
            shown.append(Parameter(name, str(PARAMETER_VALUES[value])))
        else:
            shown.append(Parameter(name, str(value), literal=isinstance(value, str)))
    return shown


def _chart(
    kind: str, labels: Sequence[Any], datasets: list[dict[str, Any]], **options: Any
) -> dict[str, Any]:
    return {"type": kind, "labels": list(labels), "datasets": datasets, "options": options}


def _unit_axis(title: str) -> dict[str, Any]:
    return {"min": 0, "max": 1, "title": {"display": True, "text": title}}


def per_tag_chart(version: ModelVersion) -> dict[str, Any] | None:
    """F1 of each tag on the held-out videos, best first (the tags with most videos)."""
    per_tag = ((version.metrics or {}).get("holdout") or {}).get("per_tag") or {}
    rows = sorted(
        ((path, figures) for path, figures in per_tag.items() if figures.get("support")),
        key=lambda row: (-int(row[1].get("support", 0)), row[0]),
    )[:PER_TAG_SHOWN]
    if not rows:
        return None
    rows.sort(key=lambda row: -float(row[1].get("f1") or 0.0))
    return _chart(
        "bar",
        [f"{path} ({figures['support']})" for path, figures in rows],
        [
            {
                "label": _("F1 on held-out videos"),
                "data": [round(float(f.get("f1") or 0.0), 3) for _, f in rows],
                "backgroundColor": _PALETTE[0],
            }
        ],
        indexAxis="y",
        scales={"x": _unit_axis(_("F1"))},
        plugins={"legend": {"display": False}},
    )


def calibration(version: ModelVersion) -> dict[str, Any] | None:
    """Calibration errors before and after, and the decision rule with its figures."""
    decision = (version.metrics or {}).get("decision")
    if not decision:
        return None
    figures = decision.get("calibration", {})
    return {
        "rule": decision.get("rule"),
        "rules": decision.get("rules", {}),
        "ece_before": _number(figures.get("before", {}).get("ece")),
        "ece_after": _number(figures.get("after", {}).get("ece")),
        "top_before": _number(figures.get("top_tag_before")),
        "top_after": _number(figures.get("top_tag_after")),
        "own_maps": figures.get("tags_with_own_map"),
    }


def reliability_chart(version: ModelVersion) -> dict[str, Any] | None:
    """The reliability diagram: share of true tags against the score given, per score bin."""
    figures = ((version.metrics or {}).get("decision") or {}).get("calibration") or {}
    if not figures.get("after"):
        return None

    def points(report: dict[str, Any]) -> list[dict[str, float]]:
        return [
            {"x": round(b["mean_score"], 3), "y": round(b["true_rate"], 3)}
            for b in report.get("bins", [])
        ]

    return _chart(
        "scatter",
        [],
        [
            {
                "label": _("Perfectly calibrated"),
                "data": [{"x": 0, "y": 0}, {"x": 1, "y": 1}],
                "showLine": True,
                "borderColor": "#9ca3af",
                "borderDash": [4, 4],
                "pointRadius": 0,
            },
            {
                "label": _("Classifier scores"),
                "data": points(figures.get("before", {})),
                "showLine": True,
                "borderColor": _PALETTE[1],
                "backgroundColor": _PALETTE[1],
            },
            {
                "label": _("Calibrated probabilities"),
                "data": points(figures["after"]),
                "showLine": True,
                "borderColor": _PALETTE[0],
                "backgroundColor": _PALETTE[0],
            },
        ],
        scales={
            "x": _unit_axis(_("Score given")),
            "y": _unit_axis(_("Share that was right")),
        },
    )


def learning_curve_chart(version: ModelVersion) -> dict[str, Any] | None:
    curve = (version.metrics or {}).get("learning_curve") or []
    if not curve:
        return None
    datasets = []
    for color, metric, label in (
        (_PALETTE[0], "precision_at_1", _("First suggestion right")),
        (_PALETTE[2], "hierarchical_iou", _("Hierarchical IoU of the first tag")),
    ):
        datasets.append(
            {
                "label": label,
                "data": [round(point[metric]["mean"], 3) for point in curve],
                "borderColor": color,
                "backgroundColor": color,
            }
        )
    return _chart(
        "line",
        [point["videos"] for point in curve],
        datasets,
        scales={
            "x": {"title": {"display": True, "text": _("Labeled videos trained on")}},
            "y": _unit_axis(_("Cross-validated quality")),
        },
    )


def versions_chart(versions: Sequence[ModelVersion]) -> dict[str, Any] | None:
    """Held-out quality of each version, oldest first."""
    trained = [
        v for v in sorted(versions, key=lambda v: v.number) if (v.metrics or {}).get("holdout")
    ]
    if len(trained) < 2:
        return None
    datasets = []
    for color, metric in zip(_PALETTE, (*HEADLINE[:3], "precision_at_1"), strict=False):
        datasets.append(
            {
                "label": metric_name(metric),
                "data": [_number(v.metrics["holdout"].get(metric)) for v in trained],
                "borderColor": color,
                "backgroundColor": color,
            }
        )
    return _chart(
        "line",
        [f"v{v.number}" for v in trained],
        datasets,
        scales={"y": _unit_axis(_("Held-out videos"))},
    )
