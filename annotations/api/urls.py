from __future__ import annotations

from django.urls import path
from rest_framework.authtoken.views import obtain_auth_token

from annotations.api import views

urlpatterns = [
    path("auth/token/", obtain_auth_token, name="api_token"),
    path("projects/", views.ProjectListApi.as_view(), name="api_projects"),
    path(
        "projects/<int:project_id>/videos/",
        views.ProjectVideosApi.as_view(),
        name="api_project_videos",
    ),
    path("videos/<int:video_id>/", views.VideoDetailApi.as_view(), name="api_video"),
]
