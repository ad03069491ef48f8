"""Settings of a training run; every field is JSON-ready, so it is stored with the model."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from ml.text import TextMode
from ml.train.params import (
    ClassifierKind,
    ClassifierParams,
    ClassWeight,
    Solver,
    classifier_problems,
)

__all__ = ["DEFAULT_EMBEDDING_MODEL", "SEARCH_METRICS", "DecisionKind", "SearchKind", "TrainConfig"]

# The content is Russian: the production default is a multilingual model.
DEFAULT_EMBEDDING_MODEL = "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2"

SearchKind = Literal["none", "grid", "random"]
DecisionKind = Literal["auto", "thresholds", "expected_iou"]
SEARCH_METRICS = frozenset(
    {
        "hierarchical_iou",
        "f1_micro",
        "f1_macro",
        "f1_samples",
        "precision_at_1",
        "precision_at_3",
        "precision_at_5",
        "roc_auc_micro",
        "roc_auc_macro",
    }
)


@dataclass
class TrainConfig:
    # Any number of tags per video (one-vs-rest), or exactly one (multinomial).
    multi_label: bool = True
    classifier: ClassifierKind = "logreg"
    class_weight: ClassWeight = "balanced"
    # The regularisation strength used when there is no search, and the search's first try.
    C: float = 8.0
    # "liblinear" suits most sizes; "saga" can be faster on very many videos.
    solver: Solver = "liblinear"
    max_iter: int = 200
    embedding_model: str | None = None
    search: SearchKind = "random"
    # How many parameter sets the search tries (each costs `cv_folds` fits).
    search_budget: int = 8
    search_metric: str = "hierarchical_iou"
    cv_folds: int = 3
    # Share of videos kept out of training for the held-out figures (0: none).
    test_size: float = 0.2
    seed: int = 0
    # Tags with fewer videos than this (after adding parents) are not learned.
    min_tag_examples: int = 2
    text_mode: TextMode = "lemma"
    title_repeat: int = 2
    use_char_ngrams: bool = True
    word_max_features: int | None = 200_000
    char_max_features: int | None = 100_000
    feature_weights: dict[str, float] = field(
        default_factory=lambda: {"word": 1.0, "char": 1.0, "embedding": 1.0, "media": 0.5}
    )
    # Train on tag sets with every parent added, and predict parents of predicted tags.
    hierarchy: bool = True
    # The lowest decision threshold a tag may get when tuned.
    threshold_floor: float = 0.1
    # Scale all tuned thresholds together to the multiplier that best serves search_metric.
    tune_threshold_scale: bool = False
    # At least this many tags are predicted for a video even below their thresholds.
    min_predicted_tags: int = 1
    # After evaluation, train the final model on all videos, held-out ones included.
    refit_full: bool = False
    # Calibrate scores into probabilities on out-of-fold scores (needs cv_folds >= 2).
    calibrate: bool = True
    # How tags are chosen from scores: per-tag thresholds, the set with the highest
    # expected hierarchical IoU from calibrated probabilities, or ("auto") whichever of
    # the two did better on out-of-fold scores.
    decision: DecisionKind = "auto"
    # Points of the learning curve (shares of the training videos, cross-validated);
    # 0 for none.
    learning_curve_points: int = 3
    # Above this many videos the curve is skipped: it keeps every fold's features in memory.
    learning_curve_max_videos: int = 20_000
    # One-vs-rest classifiers fitted at once, each in a process of its own; the model is
    # the same whatever the number.
    n_jobs: int = 1

    def __post_init__(self) -> None:
        problems = classifier_problems(**self._classifier_settings())
        if self.search not in ("none", "grid", "random"):
            problems.append(f"search must be 'none', 'grid' or 'random', not {self.search!r}")
        if self.text_mode not in ("lemma", "stem", "none"):
            problems.append("text_mode must be 'lemma', 'stem' or 'none'")
        if not 0.0 <= self.test_size < 1.0:
            problems.append("test_size must be at least 0 and below 1")
        if self.search_metric not in SEARCH_METRICS:
            problems.append(f"search_metric must be one of {', '.join(sorted(SEARCH_METRICS))}")
        if self.search_budget < 1:
            problems.append("search_budget must be at least 1")
        if self.cv_folds < 0 or self.cv_folds == 1:
            problems.append("cv_folds must be 0 (no cross-validation) or at least 2")
        if self.min_tag_examples < 1:
            problems.append("min_tag_examples must be at least 1")
        if not 0.0 <= self.threshold_floor < 1.0:
            problems.append("threshold_floor must be in [0, 1)")
        if self.search != "none" and self.cv_folds < 2:
            problems.append("a hyperparameter search needs cv_folds of at least 2")
        if self.decision not in ("auto", "thresholds", "expected_iou"):
            problems.append(
                f"decision must be 'auto', 'thresholds' or 'expected_iou', not {self.decision!r}"
            )
        if not 0 <= self.learning_curve_points <= 10:
            problems.append("learning_curve_points must be between 0 and 10")
        if isinstance(self.n_jobs, bool) or not isinstance(self.n_jobs, int) or self.n_jobs < 1:
            problems.append(f"n_jobs must be a whole number of at least 1, not {self.n_jobs!r}")
        if problems:
            raise ValueError("; ".join(problems))

    def classifier_params(self) -> ClassifierParams:
        """The classifier settings as configured, before any search changes them."""
        return ClassifierParams(**self._classifier_settings())

    def _classifier_settings(self) -> dict[str, Any]:
        """This config's values of the fields ``ClassifierParams`` has."""
        return {item.name: getattr(self, item.name) for item in fields(ClassifierParams)}

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """A config from stored settings; unknown keys (from other versions) are ignored."""
        names = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in names})
