"""Training tag models: `train` turns tagged videos into a `TagModel` with its figures."""

from __future__ import annotations

from ml.train.baseline import BaselineModel
from ml.train.config import DEFAULT_EMBEDDING_MODEL, TrainConfig
from ml.train.model import Suggestion, TagModel
from ml.train.pipeline import Progress, TrainingError, TrainResult, train

__all__ = [
    "DEFAULT_EMBEDDING_MODEL",
    "BaselineModel",
    "Progress",
    "Suggestion",
    "TagModel",
    "TrainConfig",
    "TrainResult",
    "TrainingError",
    "train",
]
