"""The settings of one classifier fit, checked once when they are made.

Saved models keep these as a plain JSON object (`as_dict`, plus the feature weights the
search chose) in the model and its manifest; `from_dict` reads such an object back,
whichever version of this code wrote it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal, get_args

__all__ = [
    "ClassWeight",
    "ClassifierKind",
    "ClassifierParams",
    "Solver",
    "classifier_problems",
]

ClassifierKind = Literal["logreg", "linear_svm"]
ClassWeight = Literal["balanced"] | None
Solver = Literal["liblinear", "saga"]

# liblinear and scikit-learn take the seed as an unsigned 32-bit number.
_MAX_SEED = 2**32 - 1


@dataclass(frozen=True)
class ClassifierParams:
    classifier: ClassifierKind = "logreg"
    # Inverse regularisation strength: larger C fits the training videos more closely.
    C: float = 8.0
    class_weight: ClassWeight = "balanced"
    # Logistic regression only; the SVM is always liblinear's.
    solver: Solver = "liblinear"
    max_iter: int = 200
    seed: int = 0

    def __post_init__(self) -> None:
        problems = classifier_problems(**self.as_dict())
        if problems:
            raise ValueError("; ".join(problems))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClassifierParams:
        """Settings from a stored object; other keys (the feature weights, keys of other
        versions) are ignored, missing ones take their defaults."""
        names = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in names})


def classifier_problems(
    *, classifier: Any, C: Any, class_weight: Any, solver: Any, max_iter: Any, seed: Any
) -> list[str]:
    """What is wrong with these classifier settings, in words; empty when they can be used.
    Apart from the dataclass, so that a training config lists these with its own problems."""
    problems = []
    if classifier not in get_args(ClassifierKind):
        problems.append(f"classifier must be 'logreg' or 'linear_svm', not {classifier!r}")
    if class_weight not in ("balanced", None):
        problems.append(f"class_weight must be 'balanced' or None, not {class_weight!r}")
    if solver not in get_args(Solver):
        problems.append(f"solver must be 'liblinear' or 'saga', not {solver!r}")
    # bool is an int to Python, and True as C or max_iter is a mistake, not a value.
    if isinstance(C, bool) or not isinstance(C, int | float) or not math.isfinite(C) or C <= 0:
        problems.append(f"C must be a positive number, not {C!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, int):
        problems.append(f"max_iter must be a whole number, not {max_iter!r}")
    elif max_iter < 1:
        problems.append(f"max_iter must be at least 1, not {max_iter}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        problems.append(f"seed must be a whole number, not {seed!r}")
    elif not 0 <= seed <= _MAX_SEED:
        problems.append(f"seed must be between 0 and {_MAX_SEED}, not {seed}")
    return problems
