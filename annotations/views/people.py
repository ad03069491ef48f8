"""People of a project: members and their role there, new accounts, invitation links,
each person's queue, and moving the open work of someone who left."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from annotations.models import Membership, Project, ProjectRole
from annotations.roles import P_MANAGE_PROJECTS, Role
from annotations.selectors import get_project_for_user
from annotations.selectors.people import (
    addable_users,
    open_invitations,
    person_queue,
    project_people,
)
from annotations.services.labeling.assignment import work_reassign
from annotations.services.people import (
    INVITATION_DAYS,
    MAX_INVITATION_DAYS,
    invitation_accept,
    invitation_create,
    invitation_for,
    invitation_withdraw,
    user_create,
)
from annotations.services.projects import membership_remove, membership_set
from annotations.views.errors import refused_with
from annotations.views.requests import AuthenticatedHttpRequest, parse_int, require_perm

REFUSAL = gettext_lazy("Only admins can manage the people of a project.")
ACCOUNT_ROLES = [
    (Role.CROWD.value, gettext_lazy("Crowd worker")),
    (Role.EXPERT.value, gettext_lazy("Expert")),
    (Role.ADMIN.value, gettext_lazy("Admin (every project)")),
]


class NewUserForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("User name"), max_length=150)
    password = forms.CharField(
        label=gettext_lazy("Password"),
        widget=forms.PasswordInput(render_value=True),
        help_text=gettext_lazy("Give it to them yourself; they can change it later."),
    )
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=ACCOUNT_ROLES)
    email = forms.EmailField(label=gettext_lazy("E-mail (optional)"), required=False)


class InvitationForm(forms.Form):
    role = forms.ChoiceField(
        label=gettext_lazy("Role in this project"), choices=ProjectRole.choices
    )
    days = forms.IntegerField(
        label=gettext_lazy("Valid for (days)"),
        min_value=1,
        max_value=MAX_INVITATION_DAYS,
        initial=INVITATION_DAYS,
    )


class JoinForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("User name"), max_length=150)
    password = forms.CharField(label=gettext_lazy("Password"), widget=forms.PasswordInput)
    password_again = forms.CharField(
        label=gettext_lazy("Password again"), widget=forms.PasswordInput
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("password") != data.get("password_again"):
            raise forms.ValidationError(_("The two passwords differ."))
        return data


def _managed(request: AuthenticatedHttpRequest, project_id: int) -> Project:
    require_perm(request, P_MANAGE_PROJECTS, str(REFUSAL))
    return get_project_for_user(request.user, project_id)


def _managed_member(
    request: AuthenticatedHttpRequest, project_id: int, user_id: int
) -> tuple[Project, Membership]:
    """The project the user manages, and the membership in it of the person a page names."""
    project = _managed(request, project_id)
    membership = (
        Membership.objects.filter(project=project, user=user_id).select_related("user").first()
    )
    if membership is None:
        raise ValidationError(_("This person is not a member of the project any more."))
    return project, membership


def _people_page(
    request: AuthenticatedHttpRequest,
    project: Project,
    *,
    new_user: NewUserForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    rows = project_people(project)
    context = {
        "project": project,
        "rows": rows,
        "roles": ProjectRole.choices,
        "addable": addable_users(project),
        "new_user": new_user or NewUserForm(),
        "invite": InvitationForm(),
        "invitations": open_invitations(project),
        "new_link": request.session.pop("invitation_link", ""),
        "error": error,
    }
    return render(request, "annotations/people.html", context, status=status)


def _refused(
    request: AuthenticatedHttpRequest, reason: str, status: int, project_id: int
) -> HttpResponse:
    """The People page with the reason; nothing was changed."""
    return _people_page(request, _managed(request, project_id), error=reason, status=status)


def _person_refused(
    request: AuthenticatedHttpRequest, reason: str, status: int, project_id: int, user_id: int
) -> HttpResponse:
    return _people_page(request, _managed(request, project_id), error=reason, status=status)


@login_required
@require_GET
def people(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    return _people_page(request, _managed(request, project_id))


@login_required
@require_POST
@refused_with(_refused)
def member_add(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    project = _managed(request, project_id)
    user_id = parse_int(request.POST.get("user"))
    user = addable_users(project).filter(pk=user_id).first() if user_id is not None else None
    if user is None:
        raise ValidationError(_("Choose a person who is not a member yet."))
    role = request.POST.get("role", "")
    membership_set(project=project, user=user, role=role, by=request.user)
    messages.success(
        request,
        _("%(user)s joined the project as %(role)s.")
        % {"user": user.get_username(), "role": ProjectRole(role).label},
    )
    return redirect("people", project_id=project.pk)


@login_required
@require_POST
def member_create(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    project = _managed(request, project_id)
    form = NewUserForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            user = user_create(
                username=data["username"],
                password=data["password"],
                account_role=data["role"],
                email=data["email"],
                project=project,
                by=request.user,
            )
        except ValidationError as invalid:
            form.add_error(None, invalid)
        else:
            messages.success(
                request,
                _("Account “%(user)s” created; they can log in now.")
                % {"user": user.get_username()},
            )
            return redirect("people", project_id=project.pk)
    return _people_page(request, project, new_user=form, status=422)


@login_required
@require_POST
@refused_with(_person_refused)
def member_role(request: AuthenticatedHttpRequest, project_id: int, user_id: int) -> HttpResponse:
    project, membership = _managed_member(request, project_id, user_id)
    role = request.POST.get("role", "")
    membership_set(project=project, user=membership.user, role=role, by=request.user)
    messages.success(
        request,
        _("%(user)s is now %(role)s in this project.")
        % {"user": membership.user.get_username(), "role": ProjectRole(role).label},
    )
    return redirect("people", project_id=project.pk)


def _people_named(project: Project, values: list[str]) -> list[User]:
    ids = [pk for value in values if (pk := parse_int(value)) is not None]
    members = Membership.objects.filter(project=project, user__in=ids).values("user")
    return list(User.objects.filter(pk__in=members, is_active=True).order_by("username"))


@login_required
@require_POST
@refused_with(_person_refused)
def member_remove(request: AuthenticatedHttpRequest, project_id: int, user_id: int) -> HttpResponse:
    """Take someone out of the project; their open work goes to the people chosen, or the queue."""
    project, membership = _managed_member(request, project_id, user_id)
    leaving = membership.user
    to_users = _people_named(project, request.POST.getlist("to"))
    moved, returned = work_reassign(project=project, from_user=leaving, to_users=to_users)
    membership_remove(project=project, user=leaving)
    messages.success(
        request,
        ngettext(
            "%(user)s left the project: %(moved)d unfinished video reassigned, %(returned)d "
            "back in the queue; what they submitted stays.",
            "%(user)s left the project: %(moved)d unfinished videos reassigned, %(returned)d "
            "back in the queue; what they submitted stays.",
            moved,
        )
        % {"user": leaving.get_username(), "moved": moved, "returned": returned},
    )
    return redirect("people", project_id=project.pk)


@login_required
@require_POST
@refused_with(_person_refused)
def member_reassign(
    request: AuthenticatedHttpRequest, project_id: int, user_id: int
) -> HttpResponse:
    """Move someone's unfinished videos to others, keeping them in the project."""
    project, membership = _managed_member(request, project_id, user_id)
    to_users = _people_named(project, request.POST.getlist("to"))
    if not to_users:
        raise ValidationError(_("Choose who takes the videos over."))
    moved, returned = work_reassign(project=project, from_user=membership.user, to_users=to_users)
    messages.success(
        request,
        ngettext(
            "%(moved)d unfinished video reassigned, %(returned)d back in the queue.",
            "%(moved)d unfinished videos reassigned, %(returned)d back in the queue.",
            moved,
        )
        % {"moved": moved, "returned": returned},
    )
    return redirect("person_queue", project_id=project.pk, user_id=membership.user_id)


@login_required
@require_GET
def person_queue_view(
    request: AuthenticatedHttpRequest, project_id: int, user_id: int
) -> HttpResponse:
    project = _managed(request, project_id)
    membership = Membership.objects.filter(project=project, user=user_id).select_related("user")
    found = membership.first()
    if found is None:
        return redirect("people", project_id=project.pk)
    items = person_queue(project, found.user)
    others = [row.user for row in project_people(project) if row.user.pk != found.user_id]
    return render(
        request,
        "annotations/person_queue.html",
        {"project": project, "membership": found, "items": items, "others": others},
    )


@login_required
@require_POST
@refused_with(_refused)
def invitation_new(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    project = _managed(request, project_id)
    form = InvitationForm(request.POST)
    if not form.is_valid():
        raise ValidationError([str(e) for errors in form.errors.values() for e in errors])
    made = invitation_create(
        project=project,
        role=form.cleaned_data["role"],
        by=request.user,
        days=form.cleaned_data["days"],
    )
    # Shown once, on the next page: only its hash is stored.
    request.session["invitation_link"] = request.build_absolute_uri(
        reverse("join", args=[made.token])
    )
    return redirect("people", project_id=project.pk)


@login_required
@require_POST
def invitation_delete(
    request: AuthenticatedHttpRequest, project_id: int, invitation_id: int
) -> HttpResponse:
    project = _managed(request, project_id)
    invitation = project.invitations.filter(pk=invitation_id).first()
    if invitation is not None:
        invitation_withdraw(invitation=invitation)
        messages.success(request, _("The link no longer works."))
    return redirect("people", project_id=project.pk)


@require_http_methods(["GET", "POST"])
def join(request: HttpRequest, token: str) -> HttpResponse:
    """Where an invitation link leads: choose a user name and password, and you are in."""
    invitation = invitation_for(token)
    if invitation is None:
        return render(request, "annotations/join.html", {"invalid": True}, status=404)
    form = JoinForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = invitation_accept(
                token=token,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
            )
        except ValidationError as invalid:
            form.add_error(None, invalid)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(
                request,
                _("Welcome! You joined “%(project)s”.") % {"project": invitation.project.name},
            )
            return redirect("project_detail", project_id=invitation.project_id)
    status = 422 if form.errors else 200
    return render(
        request, "annotations/join.html", {"form": form, "invitation": invitation}, status=status
    )
