from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from annotations.models import (
    Assignment,
    ConfirmedLabel,
    ExportSnapshot,
    Job,
    LabelChange,
    ModelEvent,
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


class RecordAdmin(admin.ModelAdmin):
    """Viewed here, changed only through the app: its services write the history.

    An edit in the admin would change confirmed labels or the promoted model
    without the record of who did it and why.
    """

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ConfirmedLabel)
class ConfirmedLabelAdmin(RecordAdmin):
    list_display = ["video", "tag", "source", "confirmed_by", "confirmed_at"]
    list_filter = ["source"]
    raw_id_fields = ["video", "tag"]


@admin.register(LabelChange)
class LabelChangeAdmin(RecordAdmin):
    list_display = ["video", "tag", "action", "source", "changed_by", "changed_at", "reason"]
    list_filter = ["action", "source"]


@admin.register(ModelVersion)
class ModelVersionAdmin(RecordAdmin):
    list_display = ["project", "number", "state", "created_at", "promoted_at"]
    list_filter = ["project", "state"]


@admin.register(ModelEvent)
class ModelEventAdmin(RecordAdmin):
    list_display = ["project", "action", "version", "previous", "by", "at", "reason"]


admin.site.register(ExportSnapshot)


@admin.register(Job)
class JobAdmin(RecordAdmin):
    """Read here; retried or cancelled from the video page, the models page or the API."""

    list_display = ["kind", "object_id", "project", "state", "stage", "attempts", "heartbeat_at"]
    list_filter = ["kind", "state", "project"]
    search_fields = ["message", "worker"]
