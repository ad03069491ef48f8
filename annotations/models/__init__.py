"""The data of the workbench, one module per area.

projects: Project and its Tag taxonomy. videos: Video and what the media
pipeline derives from it. labels: assignments, annotations, per-tag decisions,
confirmed labels and their history. learning: model versions, suggestions and
export snapshots. jobs: the background jobs of every kind, and prediction requests.
limits: the shared request counts of the rate limits. quality: auto-confirmation trust,
gold videos and review requests. search: the documents of the video list's text search.
"""

from annotations.models.jobs import Job, PredictionJob
from annotations.models.labels import (
    HUMAN_SOURCES,
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
from annotations.models.limits import RateCount
from annotations.models.projects import (
    Invitation,
    LabelingMode,
    Membership,
    Project,
    ProjectRole,
    QueueOrder,
    Tag,
    TaxonomyChange,
)
from annotations.models.quality import GoldVideo, ProjectQuality, ReviewRequest, TagTrust
from annotations.models.search import PendingSearchDocument, SearchDocument
from annotations.models.videos import (
    Keyframe,
    ProcessingStep,
    TranscriptSegment,
    Video,
    VideoFeatures,
    VideoStatus,
    count_per_video,
)

__all__ = [
    "HUMAN_SOURCES",
    "POSITIVE_DECISIONS",
    "SUGGESTIONS_MODEL_KEY",
    "Annotation",
    "Assignment",
    "ConfirmedLabel",
    "Decision",
    "ExportSnapshot",
    "GoldVideo",
    "Invitation",
    "Job",
    "Keyframe",
    "LabelChange",
    "LabelSource",
    "LabelingMode",
    "Membership",
    "ModelEvent",
    "ModelVersion",
    "PendingSearchDocument",
    "PredictionJob",
    "ProcessingStep",
    "Project",
    "ProjectQuality",
    "ProjectRole",
    "QueueOrder",
    "RateCount",
    "ReviewRequest",
    "SearchDocument",
    "Suggestion",
    "Tag",
    "TagDecision",
    "TagTrust",
    "TaxonomyChange",
    "TranscriptSegment",
    "Video",
    "VideoFeatures",
    "VideoStatus",
    "count_per_video",
]
