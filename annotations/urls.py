from __future__ import annotations

from django.urls import path

from annotations.views import pages

urlpatterns = [
    path("", pages.home, name="home"),
    path("projects/<int:project_id>/", pages.project_detail, name="project_detail"),
    path("projects/<int:project_id>/taxonomy/", pages.taxonomy, name="taxonomy"),
    path(
        "projects/<int:project_id>/taxonomy/import/", pages.taxonomy_upload, name="taxonomy_upload"
    ),
    path("projects/<int:project_id>/videos/new/", pages.video_upload, name="video_upload"),
    path("videos/<int:video_id>/", pages.video_detail, name="video_detail"),
    path("videos/<int:video_id>/file/", pages.video_file, name="video_file"),
]
