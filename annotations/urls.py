from __future__ import annotations

from django.urls import path

from annotations.views import (
    audit,
    jobs,
    keyframes,
    labeling,
    lists,
    media,
    models,
    pages,
    processing,
    review,
    team,
)

urlpatterns = [
    path("projects/<int:project_id>/models/", models.model_list, name="model_list"),
    path("projects/<int:project_id>/models/retrain/", models.model_retrain, name="model_retrain"),
    path(
        "projects/<int:project_id>/models/rollback/",
        models.model_rollback_view,
        name="model_rollback",
    ),
    path("models/<int:version_id>/", models.model_detail, name="model_detail"),
    path("models/<int:version_id>/promote/", models.model_promote_view, name="model_promote"),
    path("", pages.home, name="home"),
    path("projects/<int:project_id>/", pages.project_detail, name="project_detail"),
    path("projects/<int:project_id>/taxonomy/", pages.taxonomy, name="taxonomy"),
    path(
        "projects/<int:project_id>/taxonomy/import/", pages.taxonomy_upload, name="taxonomy_upload"
    ),
    path("projects/<int:project_id>/videos/new/", pages.video_upload, name="video_upload"),
    path("videos/<int:video_id>/", pages.video_detail, name="video_detail"),
    path(
        "videos/<int:video_id>/processing/",
        processing.video_processing,
        name="video_processing",
    ),
    path("videos/<int:video_id>/reprocess/", processing.video_reprocess, name="video_reprocess"),
    path(
        "videos/<int:video_id>/keyframes/<int:keyframe_id>.jpg",
        keyframes.keyframe_image,
        name="keyframe_image",
    ),
    path("videos/<int:video_id>/file/", media.video_file, name="video_file"),
    path("projects/<int:project_id>/label/", labeling.queue_next, name="queue_next"),
    path("videos/<int:video_id>/label/", labeling.label_video, name="label_video"),
    path("videos/<int:video_id>/label/tags/", labeling.tag_search, name="tag_search"),
    path("videos/<int:video_id>/label/remaining/", labeling.remaining, name="queue_remaining"),
    path(
        "annotations/<int:annotation_id>/decisions/",
        labeling.decision_save,
        name="decision_save",
    ),
    path("annotations/<int:annotation_id>/submit/", labeling.submit, name="annotation_submit"),
    path("annotations/<int:annotation_id>/skip/", labeling.skip, name="annotation_skip"),
    path(
        "annotations/<int:annotation_id>/activity/",
        labeling.activity,
        name="annotation_activity",
    ),
    path("projects/<int:project_id>/review/", review.review_list, name="review_list"),
    path("projects/<int:project_id>/review/next/", review.review_next, name="review_next"),
    path("videos/<int:video_id>/review/", review.review_video, name="review_video"),
    path("projects/<int:project_id>/team/", team.team, name="team"),
    path("projects/<int:project_id>/audit/", audit.label_audit, name="label_audit"),
    path("projects/<int:project_id>/videos/", lists.video_list, name="video_list"),
    path("jobs/<str:job_id>/cancel/", jobs.job_cancel_view, name="job_cancel"),
    path("jobs/<str:job_id>/retry/", jobs.job_retry_view, name="job_retry"),
]
