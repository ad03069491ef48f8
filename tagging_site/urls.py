from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from annotations.api.docs import RedocDocsView, SwaggerDocsView

urlpatterns = [
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("api/docs/", SwaggerDocsView.as_view(url_name="api_schema"), name="api_docs"),
    path("api/redoc/", RedocDocsView.as_view(url_name="api_schema"), name="api_redoc"),
    path("api/v1/", include("annotations.api.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("annotations.urls")),
]
