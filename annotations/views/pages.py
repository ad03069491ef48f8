"""The web pages. Each view reads like a checklist: who may, what to load, what to show."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from annotations.forms import VideoUploadForm
from annotations.models import GoldVideo, Membership, ProjectRole, VideoStatus
from annotations.roles import (
    P_IMPORT_VIDEOS,
    P_RETRAIN,
    P_VIEW_ALL_ANNOTATIONS,
    P_VIEW_SUGGESTIONS,
    role_of,
)
from annotations.selectors import (
    get_project_for_user,
    get_video_for_user,
    projects_for_user,
    shown_metadata,
    status_counts,
    videos_for_user,
)
from annotations.selectors.access import may
from annotations.services.media.video_import import VideoImportError, video_import_upload
from annotations.views.display import import_refusal, import_warning, metadata_rows
from annotations.views.processing import media_feature_rows, processing_context
from annotations.views.requests import (
    AuthenticatedHttpRequest,
    clean_text,
    project_for_perm,
    wants_partial,
)

VIDEOS_PER_PAGE = 50


@login_required
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    if role_of(request.user) is None:
        return render(request, "annotations/no_role.html", status=403)
    projects = projects_for_user(request.user).annotate(
        video_count=Count("videos", distinct=True), tag_count=Count("tags", distinct=True)
    )
    roles = dict(Membership.objects.filter(user=request.user).values_list("project_id", "role"))
    role_names = dict(ProjectRole.choices)
    rows = [(project, role_names.get(roles.get(project.pk, ""), "")) for project in projects]
    return render(
        request,
        "annotations/home.html",
        {
            "rows": [row for row in rows if not row[0].is_archived],
            "archived": [row for row in rows if row[0].is_archived],
        },
    )


@login_required
def project_detail(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    project = get_project_for_user(request.user, project_id)
    videos = videos_for_user(request.user, project)
    counts = status_counts(videos)
    status = request.GET.get("status", "")
    if status in VideoStatus.values:
        videos = videos.filter(status=status)
    query = clean_text(request.GET.get("q"), max_length=200).strip()
    if query:
        videos = videos.filter(
            Q(title__icontains=query) | Q(description__icontains=query) | Q(external_id=query)
        )
    page = Paginator(videos.order_by("created_at", "id"), VIDEOS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "project": project,
        "page": page,
        "status_rows": [(value, label, counts[value]) for value, label in VideoStatus.choices],
        "status": status,
        "query": query,
        "statuses": VideoStatus.choices,
        "tag_count": project.tags.count(),
    }
    if wants_partial(request):
        return render(request, "annotations/partials/video_table.html", context)
    return render(request, "annotations/project_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def video_upload(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    refusal = _("Your role does not allow this.")
    project = project_for_perm(request, project_id, P_IMPORT_VIDEOS, refusal)
    form = VideoUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            video, warnings = video_import_upload(
                project=project,
                upload=form.cleaned_data["file"],
                title=form.cleaned_data["title"],
                description=form.cleaned_data["description"],
                tag_paths=form.tag_paths(),
                user=request.user,
            )
        except VideoImportError as exc:
            form.add_error("file", import_refusal(str(exc)))
        else:
            for warning in warnings:
                messages.warning(request, import_warning(warning))
            messages.success(request, _("Video imported; processing has started."))
            return redirect("video_detail", video_id=video.pk)
    return render(request, "annotations/video_upload.html", {"project": project, "form": form})


@login_required
def video_detail(request: AuthenticatedHttpRequest, video_id: int) -> HttpResponse:
    video = get_video_for_user(request.user, video_id)
    context = {
        **processing_context(request, video),
        "project": video.project,
        "segments": video.transcript_segments.all(),
        "keyframes": video.keyframes.all(),
        "media_features": media_feature_rows(video),
        "metadata": metadata_rows(shown_metadata(request.user, video)),
        "confirmed": (
            video.confirmed_labels.select_related("tag", "model_version")
            if may(request.user, video.project, P_VIEW_ALL_ANNOTATIONS)
            else None
        ),
        # Real suggestions first, then the candidates below the model's threshold, each by score.
        "suggestions": (
            video.suggestions.filter(tag__active=True)
            .select_related("tag", "model_version")
            .order_by("-above_threshold", "-score", "rank")
            if may(request.user, video.project, P_VIEW_SUGGESTIONS)
            else None
        ),
    }
    # Gold is for admins' eyes only: annotators must not tell gold videos apart, not even
    # by what the page is given.
    can_mark_gold = may(request.user, video.project, P_RETRAIN)
    context["can_mark_gold"] = can_mark_gold
    context["is_gold"] = can_mark_gold and GoldVideo.objects.filter(video=video).exists()
    return render(request, "annotations/video_detail.html", context)
