from __future__ import annotations

from django.urls import path, re_path, register_converter

from annotations.api import annotations as annotation_views
from annotations.api import (
    auth,
    exports,
    jobs,
    models,
    predict,
    projects,
    reviews,
    videos,
)
from annotations.api.exceptions import api_not_found


class IdConverter:
    """A database id: at most 18 digits, so it always fits a 64-bit column.

    A longer number matches no endpoint (a JSON 404) instead of overflowing the query.
    """

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "id")

urlpatterns = [
    path("auth/token/", auth.TokenApi.as_view(), name="api_token"),
    path("auth/me/", auth.MeApi.as_view(), name="api_me"),
    path("projects/", projects.ProjectListApi.as_view(), name="api_projects"),
    path("projects/<id:project_id>/", projects.ProjectDetailApi.as_view(), name="api_project"),
    path("projects/<id:project_id>/tags/", projects.TagListApi.as_view(), name="api_tags"),
    path(
        "projects/<id:project_id>/videos/",
        videos.ProjectVideosApi.as_view(),
        name="api_project_videos",
    ),
    path(
        "projects/<id:project_id>/videos/bulk/",
        videos.VideoBulkApi.as_view(),
        name="api_videos_bulk",
    ),
    path("videos/<id:video_id>/", videos.VideoDetailApi.as_view(), name="api_video"),
    path(
        "videos/<id:video_id>/annotations/",
        annotation_views.VideoAnnotationsApi.as_view(),
        name="api_video_annotations",
    ),
    path(
        "videos/<id:video_id>/annotations/mine/",
        annotation_views.MyAnnotationApi.as_view(),
        name="api_my_annotation",
    ),
    path(
        "projects/<id:project_id>/annotations/",
        annotation_views.ProjectAnnotationsApi.as_view(),
        name="api_project_annotations",
    ),
    path(
        "projects/<id:project_id>/reviews/",
        reviews.ReviewQueueApi.as_view(),
        name="api_review_queue",
    ),
    path("videos/<id:video_id>/review/", reviews.VideoReviewApi.as_view(), name="api_review"),
    path(
        "projects/<id:project_id>/models/",
        models.ProjectModelsApi.as_view(),
        name="api_models",
    ),
    path(
        "projects/<id:project_id>/models/retrain/",
        models.ProjectRetrainApi.as_view(),
        name="api_model_retrain",
    ),
    path(
        "projects/<id:project_id>/models/rollback/",
        models.ProjectRollbackApi.as_view(),
        name="api_model_rollback",
    ),
    path("models/<id:version_id>/", models.ModelDetailApi.as_view(), name="api_model"),
    path(
        "models/<id:version_id>/promote/",
        models.ModelPromoteApi.as_view(),
        name="api_model_promote",
    ),
    path(
        "projects/<id:project_id>/exports/",
        exports.ProjectExportsApi.as_view(),
        name="api_exports",
    ),
    path("exports/<id:export_id>/", exports.ExportDetailApi.as_view(), name="api_export"),
    path(
        "exports/<id:export_id>/download/",
        exports.ExportDownloadApi.as_view(),
        name="api_export_download",
    ),
    path(
        "projects/<id:project_id>/labelstudio-config/",
        exports.LabelStudioConfigApi.as_view(),
        name="api_labelstudio_config",
    ),
    path(
        "projects/<id:project_id>/dataset-imports/",
        exports.DatasetImportApi.as_view(),
        name="api_dataset_import",
    ),
    path("jobs/", jobs.JobListApi.as_view(), name="api_jobs"),
    path("jobs/<str:job_id>/", jobs.JobDetailApi.as_view(), name="api_job"),
    path("jobs/<str:job_id>/retry/", jobs.JobRetryApi.as_view(), name="api_job_retry"),
    path("jobs/<str:job_id>/cancel/", jobs.JobCancelApi.as_view(), name="api_job_cancel"),
    path("predict/", predict.PredictApi.as_view(), name="api_predict"),
    path("predict", predict.PredictNoSlashApi.as_view(), name="api_predict_no_slash"),
    re_path(r"^(?P<unmatched>.*)$", api_not_found, name="api_not_found"),
]
