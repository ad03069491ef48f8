from __future__ import annotations

from django.urls import path

from annotations.views import (
    assign,
    audit,
    keyframes,
    labeling,
    lists,
    media,
    models,
    pages,
    people,
    processing,
    projects,
    review,
    taxonomy,
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
    path("projects/new/", projects.project_new, name="project_new"),
    path("projects/guidelines/preview/", projects.guidelines_preview, name="guidelines_preview"),
    path("projects/<int:project_id>/settings/", projects.project_settings, name="project_settings"),
    path(
        "projects/<int:project_id>/archive/", projects.project_archive_view, name="project_archive"
    ),
    path("projects/<int:project_id>/", pages.project_detail, name="project_detail"),
    path("projects/<int:project_id>/taxonomy/", taxonomy.taxonomy, name="taxonomy"),
    path(
        "projects/<int:project_id>/taxonomy/import/",
        taxonomy.taxonomy_upload,
        name="taxonomy_upload",
    ),
    path(
        "projects/<int:project_id>/taxonomy/download/",
        taxonomy.taxonomy_download,
        name="taxonomy_download",
    ),
    path(
        "projects/<int:project_id>/taxonomy/history/",
        taxonomy.taxonomy_history,
        name="taxonomy_history",
    ),
    path("projects/<int:project_id>/taxonomy/tags/", taxonomy.tag_create, name="tag_create"),
    path(
        "projects/<int:project_id>/taxonomy/tags/<int:tag_id>/<slug:action>/",
        taxonomy.tag_edit,
        name="tag_edit",
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
    path("projects/<int:project_id>/people/", people.people, name="people"),
    path("projects/<int:project_id>/people/add/", people.member_add, name="member_add"),
    path("projects/<int:project_id>/people/new/", people.member_create, name="member_create"),
    path(
        "projects/<int:project_id>/people/<int:user_id>/",
        people.person_queue_view,
        name="person_queue",
    ),
    path(
        "projects/<int:project_id>/people/<int:user_id>/role/",
        people.member_role,
        name="member_role",
    ),
    path(
        "projects/<int:project_id>/people/<int:user_id>/remove/",
        people.member_remove,
        name="member_remove",
    ),
    path(
        "projects/<int:project_id>/people/<int:user_id>/reassign/",
        people.member_reassign,
        name="member_reassign",
    ),
    path("projects/<int:project_id>/invitations/", people.invitation_new, name="invitation_new"),
    path(
        "projects/<int:project_id>/invitations/<int:invitation_id>/withdraw/",
        people.invitation_delete,
        name="invitation_delete",
    ),
    path("join/<str:token>/", people.join, name="join"),
    path("projects/<int:project_id>/assign/", assign.assign, name="assign"),
    path("projects/<int:project_id>/audit/", audit.label_audit, name="label_audit"),
    path("projects/<int:project_id>/videos/", lists.video_list, name="video_list"),
]
