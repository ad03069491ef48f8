"""The ``--project NAME`` option of the commands that work on one existing project."""

from __future__ import annotations

from django.core.management.base import CommandError, CommandParser

from annotations.models import Project


def add_project_option(
    parser: CommandParser, *, required: bool = True, help: str = "Name of an existing project."
) -> None:
    parser.add_argument("--project", required=required, help=help)


def project_named(name: str, *, hint: str = "") -> Project:
    """The project called ``name``, or a CommandError that says there is none."""
    project = Project.objects.filter(name=name).first()
    if project is None:
        raise CommandError(f"no project named {name!r}" + (f"; {hint}" if hint else ""))
    return project
