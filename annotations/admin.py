from __future__ import annotations

from django.contrib import admin

from annotations.models import (
    Assignment,
    ConfirmedLabel,
    ExportSnapshot,
    ModelVersion,
    Project,
    Tag,
    Video,
)


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "labeling_mode", "annotators_per_video", "created_at"]
    search_fields = ["name"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["path", "project", "active", "hotkey"]
    list_filter = ["project", "active", "depth"]
    search_fields = ["path"]
    raw_id_fields = ["parent"]


@admin.register(Video)
class VideoAdmin(admin.ModelAdmin):
    list_display = ["title", "project", "external_id", "status", "created_at"]
    list_filter = ["project", "status"]
    search_fields = ["title", "external_id", "sha256"]
    readonly_fields = ["sha256", "size_bytes", "duration_seconds", "fps", "width", "height"]


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["video", "annotator", "assigned_at", "lease_expires_at"]
    raw_id_fields = ["video"]


@admin.register(ConfirmedLabel)
class ConfirmedLabelAdmin(admin.ModelAdmin):
    list_display = ["video", "tag", "source", "confirmed_by", "confirmed_at"]
    raw_id_fields = ["video", "tag"]


admin.site.register(ModelVersion)
admin.site.register(ExportSnapshot)
