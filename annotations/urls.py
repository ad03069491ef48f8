from __future__ import annotations

from django.urls import include, path

from annotations.views import (
    assign,
    audit,
    dashboard,
    exports,
    jobs,
    keyframes,
    labeling,
    lists,
    media,
    models,
    pages,
    people,
    processing,
    projects,
    quality,
    review,
    taxonomy,
    team,
)

# The pages of one project, under projects/<project_id>/.
project_patterns = [
    path("", pages.project_detail, name="project_detail"),
    path("settings/", projects.project_settings, name="project_settings"),
    path("archive/", projects.project_archive_view, name="project_archive"),
    path("quality/", quality.quality_settings, name="quality_settings"),
    path("models/", models.model_list, name="model_list"),
    path("models/retrain/", models.model_retrain, name="model_retrain"),
    path("models/rollback/", models.model_rollback_view, name="model_rollback"),
    path("taxonomy/", taxonomy.taxonomy, name="taxonomy"),
    path("taxonomy/import/", taxonomy.taxonomy_upload, name="taxonomy_upload"),
    path("taxonomy/download/", taxonomy.taxonomy_download, name="taxonomy_download"),
    path("taxonomy/history/", taxonomy.taxonomy_history, name="taxonomy_history"),
    path("taxonomy/tags/", taxonomy.tag_create, name="tag_create"),
    path("taxonomy/tags/<int:tag_id>/<slug:action>/", taxonomy.tag_edit, name="tag_edit"),
    path("videos/", lists.video_list, name="video_list"),
    path("videos/new/", pages.video_upload, name="video_upload"),
    path("label/", labeling.queue_next, name="queue_next"),
    path("review/", review.review_list, name="review_list"),
    path("review/next/", review.review_next, name="review_next"),
    path("team/", team.team, name="team"),
    path("team/<int:user_id>/to-review/", quality.annotator_to_review, name="annotator_to_review"),
    path("people/", people.people, name="people"),
    path("people/add/", people.member_add, name="member_add"),
    path("people/new/", people.member_create, name="member_create"),
    path("people/<int:user_id>/", people.person_queue_view, name="person_queue"),
    path("people/<int:user_id>/role/", people.member_role, name="member_role"),
    path("people/<int:user_id>/remove/", people.member_remove, name="member_remove"),
    path("people/<int:user_id>/reassign/", people.member_reassign, name="member_reassign"),
    path("invitations/", people.invitation_new, name="invitation_new"),
    path(
        "invitations/<int:invitation_id>/withdraw/",
        people.invitation_delete,
        name="invitation_delete",
    ),
    path("assign/", assign.assign, name="assign"),
    path("exports/", exports.exports, name="exports"),
    path("dashboard/", dashboard.project_dashboard, name="project_dashboard"),
    path("audit/", audit.label_audit, name="label_audit"),
]

# The pages of one video, under videos/<video_id>/.
video_patterns = [
    path("", pages.video_detail, name="video_detail"),
    path("gold/", quality.video_gold, name="video_gold"),
    path("processing/", processing.video_processing, name="video_processing"),
    path("reprocess/", processing.video_reprocess, name="video_reprocess"),
    path("keyframes/<int:keyframe_id>.jpg", keyframes.keyframe_image, name="keyframe_image"),
    path("file/", media.video_file, name="video_file"),
    path("label/", labeling.label_video, name="label_video"),
    path("label/tags/", labeling.tag_search, name="tag_search"),
    path("label/remaining/", labeling.remaining, name="queue_remaining"),
    path("review/", review.review_video, name="review_video"),
]

# What the labeling page sends about one annotation, under annotations/<annotation_id>/.
annotation_patterns = [
    path("decisions/", labeling.decision_save, name="decision_save"),
    path("submit/", labeling.submit, name="annotation_submit"),
    path("skip/", labeling.skip, name="annotation_skip"),
    path("activity/", labeling.activity, name="annotation_activity"),
]

urlpatterns = [
    path("", pages.home, name="home"),
    path("projects/new/", projects.project_new, name="project_new"),
    path("projects/guidelines/preview/", projects.guidelines_preview, name="guidelines_preview"),
    path("projects/<int:project_id>/", include(project_patterns)),
    path("videos/<int:video_id>/", include(video_patterns)),
    path("annotations/<int:annotation_id>/", include(annotation_patterns)),
    path("models/<int:version_id>/", models.model_detail, name="model_detail"),
    path("models/<int:version_id>/promote/", models.model_promote_view, name="model_promote"),
    path("join/<str:token>/", people.join, name="join"),
    path("jobs/<str:job_id>/cancel/", jobs.job_cancel_view, name="job_cancel"),
    path("jobs/<str:job_id>/retry/", jobs.job_retry_view, name="job_retry"),
]
