"""People and assignments from the browser: accounts, invitation links, roles per project,
assigning videos with the project's overlap, and moving the open work of someone who left."""

from __future__ import annotations

from collections import Counter

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.test import Client

from annotations.models import (
    Annotation,
    Assignment,
    Invitation,
    Membership,
    Project,
    ProjectRole,
)
from annotations.roles import Role, role_of
from annotations.services.labeling.assignment import (
    AssignResult,
    assignments_distribute,
    work_reassign,
)
from annotations.services.labeling.queue import next_video_for
from annotations.services.people import invitation_create
from tests.annotations.labeling_fixtures import imported_label, ready_video, submitted
from tests.factories import (
    PASSWORD,
    assign,
    client_for,
    make_member,
    make_tag,
    make_user,
)


def _crowd(project: Project, *names: str) -> list[User]:
    users = [make_user(Role.CROWD, name) for name in names]
    for user in users:
        make_member(project, user)
    return users


def test_an_admin_creates_a_crowd_worker_who_then_sees_only_this_project(
    project: Project, admin_user: User
) -> None:
    response = client_for(admin_user).post(
        f"/projects/{project.pk}/people/new/",
        {"username": "nina", "password": PASSWORD, "role": "crowd", "email": ""},
    )
    assert response.status_code == 302
    nina = User.objects.get(username="nina")
    assert role_of(nina) is Role.CROWD
    assert Membership.objects.get(user=nina).role == ProjectRole.CROWD
    client = Client()
    signed_in = client.post("/accounts/login/", {"username": "nina", "password": PASSWORD})
    assert signed_in.status_code == 302, "the password the admin set signs her in"
    assert client.get(f"/projects/{project.pk}/").status_code == 200


@pytest.mark.parametrize(
    ("username", "password", "reason"),
    [
        ("carl_crowd", PASSWORD, "taken"),
        ("new_person", "123", "too short"),
        ("bad name!", PASSWORD, "Enter a valid username"),
    ],
)
def test_a_refused_account_answers_422_with_the_reason(
    project: Project, admin_user: User, crowd: User, username: str, password: str, reason: str
) -> None:
    before = User.objects.count()
    response = client_for(admin_user).post(
        f"/projects/{project.pk}/people/new/",
        {"username": username, "password": password, "role": "crowd"},
    )
    assert response.status_code == 422
    assert reason in response.content.decode()
    assert User.objects.count() == before


def test_an_invitation_link_makes_one_account_and_stores_only_its_hash(
    project: Project, admin_user: User
) -> None:
    client = client_for(admin_user)
    client.post(f"/projects/{project.pk}/invitations/", {"role": "expert", "days": "7"})
    page = client.get(f"/projects/{project.pk}/people/").content.decode()
    link = page.split('id="invitation-link">')[1].split("<")[0]
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert token not in str(list(Invitation.objects.values()))
    assert (
        'id="invitation-link"' not in client.get(f"/projects/{project.pk}/people/").content.decode()
    )

    newcomer = Client()
    assert newcomer.get(f"/join/{token}/").status_code == 200
    mismatch = {"username": "vera", "password": PASSWORD, "password_again": "other"}
    assert newcomer.post(f"/join/{token}/", mismatch).status_code == 422
    joined = newcomer.post(
        f"/join/{token}/", {"username": "vera", "password": PASSWORD, "password_again": PASSWORD}
    )
    assert joined.status_code == 302 and joined["Location"] == f"/projects/{project.pk}/"
    vera = User.objects.get(username="vera")
    assert (role_of(vera), Membership.objects.get(user=vera).role) == (Role.EXPERT, "expert")
    assert newcomer.get(f"/projects/{project.pk}/review/").status_code == 200
    assert Client().get(f"/join/{token}/").status_code == 404  # used up


def test_a_withdrawn_or_expired_link_does_not_work(project: Project, admin_user: User) -> None:
    made = invitation_create(project=project, role="crowd", by=admin_user, days=1)
    Invitation.objects.filter(pk=made.invitation.pk).update(expires_at="2000-01-01T00:00Z")
    assert Client().get(f"/join/{made.token}/").status_code == 404
    other = invitation_create(project=project, role="crowd", by=admin_user)
    client_for(admin_user).post(
        f"/projects/{project.pk}/invitations/{other.invitation.pk}/withdraw/"
    )
    assert Client().get(f"/join/{other.token}/").status_code == 404


def test_a_role_changed_on_the_people_page_applies_at_once(
    project: Project, admin_user: User
) -> None:
    (worker,) = _crowd(project, "pavel")
    response = client_for(admin_user).post(
        f"/projects/{project.pk}/people/{worker.pk}/role/", {"role": "expert"}
    )
    assert response.status_code == 302
    assert client_for(worker).get(f"/projects/{project.pk}/review/").status_code == 200
    refused = client_for(admin_user).post(
        f"/projects/{project.pk}/people/{worker.pk}/role/", {"role": "owner"}
    )
    assert refused.status_code == 422 and "Unknown role" in refused.content.decode()


@pytest.mark.parametrize("who", ["expert", "crowd"])
def test_people_pages_are_for_admins(
    request: pytest.FixtureRequest, project: Project, who: str
) -> None:
    client = client_for(request.getfixturevalue(who))
    for url in (f"/projects/{project.pk}/people/", f"/projects/{project.pk}/assign/"):
        assert client.get(url).status_code == 403, url
    response = client.post(
        f"/projects/{project.pk}/people/new/",
        {"username": "sneaky", "password": PASSWORD, "role": "admin"},
    )
    assert response.status_code == 403
    assert not User.objects.filter(username="sneaky").exists()


def test_n_each_never_puts_more_people_on_a_video_than_the_overlap(
    roles: None, project: Project
) -> None:
    project.annotators_per_video = 2
    project.save()
    videos = [ready_video(project) for _ in range(4)]
    people = _crowd(project, "a1", "a2", "a3")
    result = assignments_distribute(
        project=project,
        annotators=people,
        videos=project.videos.all(),
        mode="each",
        count=3,
    )
    per_video = Counter(Assignment.objects.values_list("video_id", flat=True))
    per_person = Counter(Assignment.objects.values_list("annotator_id", flat=True))
    assert result.created == 8 == sum(per_video.values())
    assert result.full == 0  # the videos this assignment filled were open before it
    assert set(per_video.values()) == {2} and set(per_video) == {v.pk for v in videos}
    assert max(per_person.values()) == 3
    again = assignments_distribute(
        project=project, annotators=people, videos=project.videos.all(), mode="all"
    )
    assert (again.created, again.full) == (0, 4)


def test_assigning_again_keeps_what_the_others_chosen_alongside_already_hold(
    roles: None, project: Project
) -> None:
    # The demo's case: a1 holds the first video, a2 the second; both are chosen for a
    # second round, which fills each video's other slot with the other person.
    project.annotators_per_video = 2
    project.save()
    first, second = ready_video(project), ready_video(project)
    a1, a2 = _crowd(project, "a1", "a2")
    assign(first, a1)
    assign(second, a2)
    result = assignments_distribute(
        project=project, annotators=[a1, a2], videos=project.videos.all(), mode="all"
    )
    assert result.per_annotator == {a1.pk: 1, a2.pk: 1}
    held = set(Assignment.objects.values_list("video", "annotator"))
    assert held == {(first.pk, a1.pk), (first.pk, a2.pk), (second.pk, a1.pk), (second.pk, a2.pk)}


def test_a_share_is_drawn_at_random_and_the_draw_can_be_repeated(
    roles: None, project: Project
) -> None:
    for _ in range(10):
        ready_video(project)
    (worker,) = _crowd(project, "s1")

    def draw_30_percent_with_seed_7() -> AssignResult:
        return assignments_distribute(
            project=project,
            annotators=[worker],
            videos=project.videos.all(),
            mode="share",
            share=30,
            seed=7,
        )

    first = draw_30_percent_with_seed_7()
    drawn = set(Assignment.objects.values_list("video_id", flat=True))
    Assignment.objects.all().delete()
    draw_30_percent_with_seed_7()
    assert first.created == 3
    assert set(Assignment.objects.values_list("video_id", flat=True)) == drawn


def test_the_assign_page_assigns_the_videos_a_filter_matches(
    project: Project, admin_user: User
) -> None:
    match = ready_video(project, title="Финал кубка")
    ready_video(project, title="Рецепт")
    first, second = _crowd(project, "f1", "f2")
    client = client_for(admin_user)
    preview = client.get(f"/projects/{project.pk}/assign/?q=кубка").content.decode()
    assert 'id="matching"' in preview and "1 video matches" in preview
    response = client.post(
        f"/projects/{project.pk}/assign/",
        {"annotators": [first.pk, second.pk], "q": "кубка", "mode": "all"},
    )
    assert response.status_code == 302
    assert set(Assignment.objects.values_list("video_id", "annotator_id")) == {
        (match.pk, first.pk)
    }  # the project's overlap is one person per video
    assert next_video_for(first, project) == match


def test_assigning_skips_the_videos_whose_tags_are_confirmed_and_says_how_many(
    project: Project, admin_user: User
) -> None:
    football = make_tag(project, "Спорт: Футбол")
    imported = [ready_video(project) for _ in range(2)]
    for video in imported:
        imported_label(video, football)
    still_open = ready_video(project)
    (worker,) = _crowd(project, "b1")
    page = client_for(admin_user).post(
        f"/projects/{project.pk}/assign/",
        {"annotators": [worker.pk], "mode": "all"},
        follow=True,
    )
    assert list(Assignment.objects.values_list("video_id", flat=True)) == [still_open.pk]
    html = page.content.decode()
    assert "Assigned 1 video (b1 1)." in html
    assert "2 matching videos were skipped: their tags are already confirmed" in html
    again = assignments_distribute(
        project=project, annotators=[worker], videos=project.videos.all(), mode="all"
    )
    assert (again.created, again.full, again.confirmed) == (0, 1, 2)


def test_assigning_to_nobody_or_to_a_non_member_is_refused(
    project: Project, admin_user: User, crowd: User
) -> None:
    ready_video(project)
    client = client_for(admin_user)
    nobody = client.post(f"/projects/{project.pk}/assign/", {"mode": "all"})
    assert nobody.status_code == 422
    outsider = make_user(Role.CROWD, "outsider")
    with pytest.raises(ValidationError, match="Not members"):
        assignments_distribute(
            project=project, annotators=[outsider], videos=project.videos.all(), mode="all"
        )
    assert not Assignment.objects.exists()


def test_the_open_work_of_someone_who_left_goes_to_the_others(
    project: Project, admin_user: User
) -> None:
    football = make_tag(project, "Спорт: Футбол")
    leaver, stayer = _crowd(project, "leaver", "stayer")
    done, started, untouched = (ready_video(project) for _ in range(3))
    for video in (done, started, untouched):
        assign(video, leaver)
    submitted(done, leaver, [football])
    Annotation.objects.create(video=started, annotator=leaver)
    response = client_for(admin_user).post(
        f"/projects/{project.pk}/people/{leaver.pk}/remove/", {"to": [stayer.pk]}
    )
    assert response.status_code == 302
    assert set(Assignment.objects.filter(annotator=stayer).values_list("video", flat=True)) == {
        started.pk,
        untouched.pk,
    }
    assert list(Assignment.objects.filter(annotator=leaver).values_list("video", flat=True)) == [
        done.pk
    ]
    assert Annotation.objects.get(video=done, annotator=leaver).state == "submitted"
    assert next_video_for(stayer, project) in {started, untouched}
    assert not Membership.objects.filter(user=leaver).exists()


def test_moving_open_work_keeps_what_the_people_it_goes_to_already_hold(
    roles: None, project: Project
) -> None:
    project.annotators_per_video = 2
    project.save()
    leaver, first, second = _crowd(project, "leaver", "first", "second")
    video = ready_video(project)
    assign(video, leaver)
    assign(video, second)
    assert work_reassign(project=project, from_user=leaver, to_users=[first, second]) == (1, 0)
    assert set(Assignment.objects.values_list("annotator", flat=True)) == {first.pk, second.pk}


def test_the_work_of_someone_who_left_leaves_behind_videos_whose_tags_were_confirmed(
    roles: None, project: Project
) -> None:
    football = make_tag(project, "Спорт: Футбол")
    leaver, stayer = _crowd(project, "leaver", "stayer")
    known, untouched = ready_video(project), ready_video(project)
    for video in (known, untouched):
        assign(video, leaver)
    imported_label(known, football)
    assert work_reassign(project=project, from_user=leaver, to_users=[stayer]) == (1, 0)
    assert list(Assignment.objects.values_list("video", "annotator")) == [(untouched.pk, stayer.pk)]


def test_reassigning_refuses_to_give_the_work_to_its_owner(roles: None, project: Project) -> None:
    (worker,) = _crowd(project, "w")
    with pytest.raises(ValidationError, match="other people"):
        work_reassign(project=project, from_user=worker, to_users=[worker])


def test_a_person_queue_page_shows_how_far_each_video_is(
    project: Project, admin_user: User
) -> None:
    football = make_tag(project, "Спорт: Футбол")
    (worker,) = _crowd(project, "q")
    done, todo = ready_video(project, title="Сделано"), ready_video(project, title="Ждёт")
    assign(done, worker)
    assign(todo, worker)
    submitted(done, worker, [football])
    page = client_for(admin_user).get(f"/projects/{project.pk}/people/{worker.pk}/")
    html = page.content.decode()
    assert html.index("Ждёт") < html.index("Сделано")  # unfinished first
    assert 'data-state="submitted"' in html and 'data-state="todo"' in html
    imported_label(todo, football)  # confirmed before they got to it: no longer asked
    later = client_for(admin_user).get(f"/projects/{project.pk}/people/{worker.pk}/")
    assert 'data-state="todo"' not in later.content.decode()
    assert "Tags confirmed: not needed" in later.content.decode()
    people = client_for(admin_user).get(f"/projects/{project.pk}/people/").content.decode()
    assert 'data-user="q"' in people
