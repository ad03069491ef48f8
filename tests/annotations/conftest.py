"""Tags the labeling, gold and audit tests label videos with."""

from __future__ import annotations

import pytest

from annotations.models import Project, Tag
from tests.factories import make_tag


@pytest.fixture
def football(project: Project) -> Tag:
    """The project's football tag, on hotkey 1 of the labeling page."""
    return make_tag(project, "Спорт: Футбол", hotkey="1")


@pytest.fixture
def hockey(project: Project) -> Tag:
    return make_tag(project, "Спорт: Хоккей")


@pytest.fixture
def cooking(project: Project) -> Tag:
    return make_tag(project, "Еда и напитки: Кулинария")
