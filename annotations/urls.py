from __future__ import annotations

from django.urls import path

from annotations import views

urlpatterns = [
    path("", views.home, name="home"),
    path("projects/<int:project_id>/", views.project_detail, name="project_detail"),
    path("projects/<int:project_id>/taxonomy/", views.taxonomy, name="taxonomy"),
    path(
        "projects/<int:project_id>/taxonomy/import/", views.taxonomy_upload, name="taxonomy_upload"
    ),
    path("projects/<int:project_id>/videos/new/", views.video_upload, name="video_upload"),
    path("videos/<int:video_id>/", views.video_detail, name="video_detail"),
    path("videos/<int:video_id>/file/", views.video_file, name="video_file"),
]
