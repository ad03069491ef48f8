"""The data of the workbench, one module per area.

projects: Project and its Tag taxonomy. videos: Video and what the media
pipeline derives from it. labels: assignments, annotations, per-tag decisions,
confirmed labels and their history. learning: model versions, suggestions and
export snapshots. jobs: the background jobs of every kind, and prediction requests.
"""

from annotations.models.jobs import Job, PredictionJob
from annotations.models.labels import (
    POSITIVE_DECISIONS,
    Annotation,
    Assignment,
    ConfirmedLabel,
    Decision,
    LabelChange,
    LabelSource,
    TagDecision,
)
from annotations.models.learning import (
    SUGGESTIONS_MODEL_KEY,
    ExportSnapshot,
    ModelEvent,
    ModelVersion,
    Suggestion,
)
from annotations.models.projects import LabelingMode, Project, QueueOrder, Tag
from annotations.models.videos import (
    Keyframe,
    ProcessingStep,
    TranscriptSegment,
    Video,
    VideoFeatures,
    VideoStatus,
)

__all__ = [
    "POSITIVE_DECISIONS",
    "SUGGESTIONS_MODEL_KEY",
    "Annotation",
    "Assignment",
    "ConfirmedLabel",
    "Decision",
    "ExportSnapshot",
    "Job",
    "Keyframe",
    "LabelChange",
    "LabelSource",
    "LabelingMode",
    "ModelEvent",
    "ModelVersion",
    "PredictionJob",
    "ProcessingStep",
    "Project",
    "QueueOrder",
    "Suggestion",
    "Tag",
    "TagDecision",
    "TranscriptSegment",
    "Video",
    "VideoFeatures",
    "VideoStatus",
]
