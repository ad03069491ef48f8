"""Small builders for test data; each returns a saved object with sensible defaults."""

from __future__ import annotations

import itertools
from typing import Any

from django.contrib.auth.models import Group, User
from django.test import Client

from annotations.models import Assignment, Project, Tag, Video
from annotations.roles import Role
from ml.taxonomy import PATH_SEPARATOR

_counter = itertools.count(1)

PASSWORD = "correct-horse-battery-staple"


def make_user(role: Role | None, username: str | None = None, **fields: Any) -> User:
    user = User.objects.create_user(
        username=username or f"user{next(_counter)}", password=PASSWORD, **fields
    )
    if role is not None:
        user.groups.add(Group.objects.get(name=role.value))
    return user


def make_project(name: str | None = None, **fields: Any) -> Project:
    return Project.objects.create(name=name or f"Project {next(_counter)}", **fields)


def make_tag(project: Project, path: str, **fields: Any) -> Tag:
    """The tag at ``path``, creating its missing parents too."""
    parent = None
    parts = path.split(PATH_SEPARATOR)
    for depth in range(1, len(parts) + 1):
        sub_path = PATH_SEPARATOR.join(parts[:depth])
        extra = fields if depth == len(parts) else {}
        parent, _ = Tag.objects.get_or_create(
            project=project,
            path=sub_path,
            defaults={"name": parts[depth - 1], "parent": parent, "depth": depth, **extra},
        )
    assert parent is not None
    return parent


def make_video(project: Project, **fields: Any) -> Video:
    n = next(_counter)
    fields.setdefault("title", f"Video {n}")
    return Video.objects.create(project=project, **fields)


def assign(video: Video, user: User) -> Assignment:
    return Assignment.objects.create(video=video, annotator=user)


def client_for(user: User | None) -> Client:
    """A test client logged in as ``user`` (anonymous for None)."""
    client = Client()
    if user is not None:
        client.force_login(user)
    return client
