"""Quality control from the browser: auto-confirmation settings, gold videos, and sending a
flagged annotator's work to review."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from annotations.models import Project, ProjectQuality
from annotations.roles import P_RETRAIN
from annotations.selectors import get_video_for_user
from annotations.selectors.access import may
from annotations.selectors.quality import annotator_accuracy, tag_trust_overview
from annotations.services.labeling.gold import (
    annotator_work_to_review,
    gold_mark,
    gold_unmark,
)
from annotations.services.learning.trust import quality_for
from annotations.views.requests import (
    AuthenticatedHttpRequest,
    in_project_for_perm,
    project_for_perm,
)


class QualityForm(forms.ModelForm):
    class Meta:
        model = ProjectQuality
        fields = [
            "auto_confirm",
            "target_precision",
            "min_score",
            "audit_share",
            "gold_share",
            "gold_min_accuracy",
            "gold_min_checks",
        ]


def auto_confirm_context(request: AuthenticatedHttpRequest, project: Project) -> dict[str, object]:
    """What the models page shows of auto-confirmation."""
    quality = quality_for(project)
    return {
        "quality": quality,
        "quality_form": (
            QualityForm(instance=quality) if may(request.user, project, P_RETRAIN) else None
        ),
        "trust": tag_trust_overview(project),
    }


def team_quality_context(project: Project) -> dict[str, object]:
    """What the team page shows of gold checks."""
    quality = quality_for(project)
    return {
        "quality": quality,
        "accuracy": annotator_accuracy(
            project,
            min_accuracy=quality.gold_min_accuracy,
            min_checks=quality.gold_min_checks,
        ),
    }


@login_required
@require_POST
def quality_settings(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    project = project_for_perm(
        request, project_id, P_RETRAIN, _("Only admins can change quality control.")
    )
    form = QualityForm(request.POST, instance=quality_for(project))
    if form.is_valid():
        form.save()
        messages.success(request, _("Quality control settings saved."))
    else:
        problems = "; ".join(f"{f}: {' '.join(str(m) for m in e)}" for f, e in form.errors.items())
        messages.error(request, _("Not saved: %(problems)s") % {"problems": problems})
    return redirect("model_list", project_id=project.pk)


@login_required
@require_POST
def video_gold(request: AuthenticatedHttpRequest, video_id: int) -> HttpResponse:
    video = in_project_for_perm(
        request, get_video_for_user, video_id, P_RETRAIN, _("Only admins can mark gold videos.")
    )
    if request.POST.get("gold") == "1":
        try:
            gold_mark(video=video, user=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("This video is now gold."))
    else:
        gold_unmark(video=video)
        messages.success(request, _("This video is no longer gold."))
    return redirect("video_detail", video_id=video.pk)


@login_required
@require_POST
def annotator_to_review(
    request: AuthenticatedHttpRequest, project_id: int, user_id: int
) -> HttpResponse:
    project = project_for_perm(
        request, project_id, P_RETRAIN, _("Only admins can send work to review.")
    )
    annotator = get_object_or_404(
        User.objects.filter(annotations__video__project=project).distinct(), pk=user_id
    )
    sent = annotator_work_to_review(project=project, annotator=annotator, by=request.user)
    messages.success(
        request,
        ngettext(
            "%(n)d video of %(user)s sent to review.",
            "%(n)d videos of %(user)s sent to review.",
            sent,
        )
        % {"n": sent, "user": annotator.get_username()},
    )
    return redirect("team", project_id=project.pk)
