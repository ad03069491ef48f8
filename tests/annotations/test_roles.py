from __future__ import annotations

from django.contrib.auth.models import Group

from annotations.roles import ROLE_PERMISSIONS, Role, role_of, roles_bootstrap
from tests.factories import make_user


def test_bootstrap_roles_is_idempotent(db: None) -> None:
    first = roles_bootstrap()
    snapshot = {
        g.name: sorted(g.permissions.values_list("codename", flat=True))
        for g in Group.objects.all()
    }
    second = roles_bootstrap()
    again = {
        g.name: sorted(g.permissions.values_list("codename", flat=True))
        for g in Group.objects.all()
    }
    assert first == second
    assert snapshot == again
    assert Group.objects.count() == 3


def test_bootstrap_roles_repairs_a_group_whose_permissions_were_removed(db: None) -> None:
    roles_bootstrap()
    Group.objects.get(name="expert").permissions.clear()
    roles_bootstrap()
    codenames = set(Group.objects.get(name="expert").permissions.values_list("codename", flat=True))
    assert codenames == {name.split(".")[1] for name in ROLE_PERMISSIONS[Role.EXPERT]}


def test_each_role_holds_exactly_its_permissions(roles: None) -> None:
    crowd = make_user(Role.CROWD)
    expert = make_user(Role.EXPERT)
    admin = make_user(Role.ADMIN)
    assert crowd.has_perm("annotations.label_videos")
    assert not crowd.has_perm("annotations.label_any_video")
    assert not crowd.has_perm("annotations.view_all_annotations")
    assert not crowd.has_perm("annotations.export_dataset")
    assert expert.has_perm("annotations.review_annotations")
    assert not expert.has_perm("annotations.export_dataset")
    assert not expert.has_perm("annotations.retrain_model")
    assert admin.has_perm("annotations.export_dataset")
    assert admin.has_perm("annotations.retrain_model")
    assert admin.has_perm("annotations.change_video")


def test_role_of_prefers_the_most_powerful_group(roles: None) -> None:
    user = make_user(Role.CROWD)
    user.groups.add(Group.objects.get(name="expert"))
    assert role_of(user) is Role.EXPERT
    assert role_of(make_user(None)) is None
