from __future__ import annotations

from django.urls import URLPattern, path, re_path, register_converter
from rest_framework.views import APIView

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


def _under(prefix: str, *routes: tuple[str, type[APIView], str]) -> list[URLPattern]:
    """``routes`` (route, view, name) below ``prefix``, each a pattern of its own with its
    whole path, so that ``urlpatterns`` stays one flat list of endpoints."""
    return [path(prefix + route, view.as_view(), name=name) for route, view, name in routes]


urlpatterns = [
    path("auth/token/", auth.TokenApi.as_view(), name="api_token"),
    path("auth/me/", auth.MeApi.as_view(), name="api_me"),
    path("projects/", projects.ProjectListApi.as_view(), name="api_projects"),
    *_under(
        "projects/<id:project_id>/",
        ("", projects.ProjectDetailApi, "api_project"),
        ("tags/", projects.TagListApi, "api_tags"),
        ("videos/", videos.ProjectVideosApi, "api_project_videos"),
        ("videos/bulk/", videos.VideoBulkApi, "api_videos_bulk"),
        ("annotations/", annotation_views.ProjectAnnotationsApi, "api_project_annotations"),
        ("reviews/", reviews.ReviewQueueApi, "api_review_queue"),
        ("models/", models.ProjectModelsApi, "api_models"),
        ("models/retrain/", models.ProjectRetrainApi, "api_model_retrain"),
        ("models/rollback/", models.ProjectRollbackApi, "api_model_rollback"),
        ("exports/", exports.ProjectExportsApi, "api_exports"),
        ("labelstudio-config/", exports.LabelStudioConfigApi, "api_labelstudio_config"),
        ("dataset-imports/", exports.DatasetImportApi, "api_dataset_import"),
    ),
    *_under(
        "videos/<id:video_id>/",
        ("", videos.VideoDetailApi, "api_video"),
        ("annotations/", annotation_views.VideoAnnotationsApi, "api_video_annotations"),
        ("annotations/mine/", annotation_views.MyAnnotationApi, "api_my_annotation"),
        ("review/", reviews.VideoReviewApi, "api_review"),
    ),
    path("models/<id:version_id>/", models.ModelDetailApi.as_view(), name="api_model"),
    path(
        "models/<id:version_id>/promote/",
        models.ModelPromoteApi.as_view(),
        name="api_model_promote",
    ),
    path("exports/<id:export_id>/", exports.ExportDetailApi.as_view(), name="api_export"),
    path(
        "exports/<id:export_id>/download/",
        exports.ExportDownloadApi.as_view(),
        name="api_export_download",
    ),
    path("jobs/", jobs.JobListApi.as_view(), name="api_jobs"),
    *_under(
        "jobs/<str:job_id>/",
        ("", jobs.JobDetailApi, "api_job"),
        ("retry/", jobs.JobRetryApi, "api_job_retry"),
        ("cancel/", jobs.JobCancelApi, "api_job_cancel"),
    ),
    path("predict/", predict.PredictApi.as_view(), name="api_predict"),
    path("predict", predict.PredictNoSlashApi.as_view(), name="api_predict_no_slash"),
    re_path(r"^(?P<unmatched>.*)$", api_not_found, name="api_not_found"),
]
