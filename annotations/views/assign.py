"""Assigning videos to people: pick who, which videos (by filter), and how many each."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods

from annotations.models import Membership, Project, ProjectRole, VideoStatus
from annotations.roles import P_MANAGE_PROJECTS
from annotations.selectors import VideoFilters, get_project_for_user, videos_filtered
from annotations.services.labeling.assignment import assignments_distribute
from annotations.views.requests import AuthenticatedHttpRequest, require_perm

REFUSAL = gettext_lazy("Only admins can assign videos.")
MODES = [
    ("each", gettext_lazy("The same number of videos each")),
    ("share", gettext_lazy("A random share of the matching videos each")),
    ("all", gettext_lazy("Every matching video, up to the overlap")),
]


class AssignForm(forms.Form):
    annotators = forms.TypedMultipleChoiceField(
        label=gettext_lazy("People"), coerce=int, widget=forms.CheckboxSelectMultiple
    )
    status = forms.ChoiceField(
        label=gettext_lazy("Processing status"),
        required=False,
        choices=[("", gettext_lazy("Any status")), *VideoStatus.choices],
    )
    tag = forms.TypedChoiceField(
        label=gettext_lazy("Tag (confirmed or chosen)"),
        required=False,
        coerce=int,
        empty_value=None,
    )
    q = forms.CharField(
        label=gettext_lazy("Text in the title, description or transcript"),
        required=False,
        max_length=200,
    )
    mode = forms.ChoiceField(
        label=gettext_lazy("Each person gets"),
        choices=MODES,
        widget=forms.RadioSelect,
        initial="each",
    )
    count = forms.IntegerField(
        label=gettext_lazy("Videos each"),
        required=False,
        min_value=1,
        max_value=100_000,
        initial=20,
    )
    share = forms.FloatField(
        label=gettext_lazy("Share of the matching videos (%)"),
        required=False,
        min_value=1,
        max_value=100,
        initial=50,
    )
    seed = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, project: Project, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        members = Membership.objects.filter(project=project, user__is_active=True).select_related(
            "user"
        )
        names = dict(ProjectRole.choices)
        people = self.fields["annotators"]
        assert isinstance(people, forms.ChoiceField)
        people.choices = [
            (m.user_id, f"{m.user.get_username()} ({names[m.role]})")
            for m in members.order_by("role", "user__username")
        ]
        tag = self.fields["tag"]
        assert isinstance(tag, forms.ChoiceField)
        tag.choices = [
            ("", _("Any tag")),
            *project.tags.active().order_by("path").values_list("pk", "path"),
        ]

    def filters(self) -> VideoFilters:
        # Videos whose tags are confirmed are never assigned (the result says how many
        # matched): there is no filter to offer on them.
        data = self.cleaned_data
        return VideoFilters(
            status=data.get("status") or "",
            tag_id=data.get("tag"),
            query=(data.get("q") or "").strip(),
        )


@login_required
@require_http_methods(["GET", "POST"])
def assign(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    require_perm(request, P_MANAGE_PROJECTS, str(REFUSAL))
    project = get_project_for_user(request.user, project_id)
    if request.method == "GET" and request.GET:
        # "Count the matching videos" comes back with what was chosen, not yet validated.
        chosen: dict[str, object] = {key: request.GET.get(key) for key in request.GET}
        chosen["annotators"] = request.GET.getlist("annotators")
        form = AssignForm(initial=chosen, project=project)
    else:
        form = AssignForm(request.POST or None, project=project)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                done = _assign(request, project, form)
            except ValidationError as invalid:
                form.add_error(None, invalid)
            else:
                return done
        status = 422
    matching = None
    if request.method == "GET" and request.GET:
        preview = AssignForm(request.GET, project=project)
        preview.is_valid()
        matching = videos_filtered(request.user, project, preview.filters()).count()
    return render(
        request,
        "annotations/assign.html",
        {"project": project, "form": form, "matching": matching},
        status=status,
    )


def _assign(request: AuthenticatedHttpRequest, project: Project, form: AssignForm) -> HttpResponse:
    data = form.cleaned_data
    annotators = list(User.objects.filter(pk__in=data["annotators"]).order_by("username"))
    videos = videos_filtered(request.user, project, form.filters())
    result = assignments_distribute(
        project=project,
        annotators=annotators,
        videos=videos,
        mode=data["mode"],
        count=data.get("count"),
        share=data.get("share"),
        seed=data.get("seed"),
    )
    given = ", ".join(
        f"{user.get_username()} {result.per_annotator.get(user.pk, 0)}" for user in annotators
    )
    messages.success(
        request,
        ngettext(
            "Assigned %(n)d video (%(given)s).",
            "Assigned %(n)d videos (%(given)s).",
            result.created,
        )
        % {"n": result.created, "given": given},
    )
    if result.full:
        messages.info(
            request,
            ngettext(
                "%(n)d matching video already has as many annotators as the project asks "
                "(%(overlap)d) and got nobody more.",
                "%(n)d matching videos already have as many annotators as the project asks "
                "(%(overlap)d) and got nobody more.",
                result.full,
            )
            % {"n": result.full, "overlap": project.annotators_per_video},
        )
    gold = sum(result.gold.values())
    if gold:
        messages.info(
            request,
            ngettext(
                "%(n)d gold video went with them to crowd workers, as the project's gold "
                "share asks.",
                "%(n)d gold videos went with them to crowd workers, as the project's gold "
                "share asks.",
                gold,
            )
            % {"n": gold},
        )
    if result.confirmed:
        messages.info(
            request,
            ngettext(
                "%(n)d matching video was skipped: its tags are already confirmed, so nobody "
                "needs to label it.",
                "%(n)d matching videos were skipped: their tags are already confirmed, so "
                "nobody needs to label them.",
                result.confirmed,
            )
            % {"n": result.confirmed},
        )
    return redirect("people", project_id=project.pk)
