"""Importing a taxonomy into a project: by the service, the command and the upload form.

A file is applied whole or not at all, and importing it again changes nothing.
"""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client

from annotations.models import Project, Tag
from annotations.services.taxonomy import taxonomy_import_text
from annotations.services.taxonomy_edit import tag_deprecate
from ml.taxonomy import TaxonomyFormatError
from tests.factories import client_for, make_project, make_tag
from tests.taxonomy_samples import IAB_CSV, IAB_PATHS

pytestmark = pytest.mark.django_db

# The fifth line leaves level 2 empty while level 3 is filled.
BROKEN_CSV = "\n".join(
    [
        "Tier 1,Tier 2,Tier 3",
        "Наука,,",
        "Наука,Физика,",
        "Наука,Химия,",
        "Наука,,Биология",
        "Кино,,",
        "",
    ]
)


def _snapshot(project: Project) -> list[tuple[int, str, int | None, int, str]]:
    return list(
        Tag.objects.filter(project=project)
        .order_by("id")
        .values_list("id", "path", "parent_id", "depth", "hotkey")
    )


def _messages(response: object) -> list[str]:
    return [str(message) for message in response.context["messages"]]  # type: ignore[attr-defined]


# --- the service ------------------------------------------------------------------------


def test_import_creates_tags_with_parents_paths_and_depths(project: Project) -> None:
    result = taxonomy_import_text(project=project, text=IAB_CSV, fmt="csv")

    assert result.created == len(IAB_PATHS)
    assert result.unchanged == 0
    tags = {tag.path: tag for tag in Tag.objects.filter(project=project)}
    assert set(tags) == IAB_PATHS
    league = tags["Спорт: Футбол: Премьер-лига"]
    assert league.name == "Премьер-лига"
    assert league.depth == 3
    assert league.parent == tags["Спорт: Футбол"]
    assert league.parent is not None and league.parent.parent == tags["Спорт"]
    assert tags["Спорт"].parent is None
    assert tags["Спорт"].depth == 1


def test_importing_the_same_file_twice_changes_nothing(project: Project) -> None:
    taxonomy_import_text(project=project, text=IAB_CSV, fmt="csv")
    before = _snapshot(project)

    again = taxonomy_import_text(project=project, text=IAB_CSV, fmt="csv")

    assert again.created == 0
    assert again.unchanged == len(IAB_PATHS)
    assert _snapshot(project) == before


def test_import_keeps_existing_tags_and_adds_only_new_ones(project: Project) -> None:
    football = make_tag(project, "Спорт: Футбол")

    result = taxonomy_import_text(project=project, text=IAB_CSV, fmt="csv")

    assert result.created == len(IAB_PATHS) - 2
    assert Tag.objects.get(project=project, path="Спорт: Футбол").pk == football.pk
    assert Tag.objects.get(project=project, path="Спорт: Футбол: Премьер-лига").parent == football


def test_import_sets_hotkeys_from_a_json_tree(project: Project) -> None:
    text = '[{"name": "Спорт", "hotkey": "s", "children": [{"name": "Футбол", "hotkey": "f"}]}]'

    result = taxonomy_import_text(project=project, text=text, fmt="json")

    assert result.hotkeys_set == 2
    assert Tag.objects.get(project=project, path="Спорт: Футбол").hotkey == "f"


def test_taxonomies_of_two_projects_are_separate(project: Project) -> None:
    other = make_project("Other")
    taxonomy_import_text(project=other, text="Музыка\n", fmt="lines")

    taxonomy_import_text(project=project, text="Музыка\n", fmt="lines")

    assert Tag.objects.filter(path="Музыка").count() == 2


def test_malformed_line_in_the_middle_leaves_the_taxonomy_as_it_was(project: Project) -> None:
    make_tag(project, "Наука: Физика")
    before = _snapshot(project)

    with pytest.raises(TaxonomyFormatError) as caught:
        taxonomy_import_text(project=project, text=BROKEN_CSV, fmt="csv")

    assert caught.value.line == 5
    assert _snapshot(project) == before


def test_error_found_while_writing_rolls_back_tags_already_created(project: Project) -> None:
    # "Музыка" already holds hotkey "m"; the file's deepest tag asks for it too. The
    # file parses, so the conflict is only found after the shallower tags are created.
    make_tag(project, "Музыка", hotkey="m")
    before = _snapshot(project)
    text = (
        '[{"name": "Спорт", "children": [{"name": "Футбол", "children": '
        '[{"name": "Премьер-лига", "hotkey": "m"}]}]}]'
    )

    with pytest.raises(TaxonomyFormatError, match="already used by 'Музыка'"):
        taxonomy_import_text(project=project, text=text, fmt="json")

    assert _snapshot(project) == before


def test_new_tags_under_a_deprecated_tag_are_refused_naming_each_and_nothing_is_imported(
    project: Project,
) -> None:
    make_tag(project, "Спорт: Футбол")
    tag_deprecate(tag=Tag.objects.get(project=project, path="Спорт"), by=None)
    before = _snapshot(project)
    text = "Кино\nСпорт\nСпорт: Футбол\nСпорт: Хоккей\nСпорт: Футбол: Премьер-лига\n"

    with pytest.raises(TaxonomyFormatError) as refused:
        taxonomy_import_text(project=project, text=text, fmt="lines")

    assert str(refused.value) == (
        "new tags under a deprecated tag (restore it first, or leave them out): "
        "'Спорт: Хоккей', 'Спорт: Футбол: Премьер-лига'"
    )
    assert _snapshot(project) == before
    # The deprecated tags themselves are already there: naming them changes nothing.
    again = taxonomy_import_text(project=project, text="Кино\nСпорт\nСпорт: Футбол\n", fmt="lines")
    assert (again.created, again.unchanged) == (1, 2)
    assert not Tag.objects.filter(project=project, path__startswith="Спорт", active=True).exists()


def test_a_deprecated_tag_gets_no_hotkey_from_a_file(project: Project) -> None:
    tag_deprecate(tag=make_tag(project, "Спорт"), by=None)
    text = '[{"name": "Спорт", "hotkey": "s"}, {"name": "Кино", "hotkey": "k"}]'

    result = taxonomy_import_text(project=project, text=text, fmt="json")

    assert result.hotkeys_set == 1
    hotkeys = dict(Tag.objects.filter(project=project).values_list("path", "hotkey"))
    assert hotkeys == {"Спорт": "", "Кино": "k"}


def test_file_with_no_tags_is_refused(project: Project) -> None:
    with pytest.raises(TaxonomyFormatError, match="no tags"):
        taxonomy_import_text(project=project, text="# only a comment\n\n", fmt="lines")


# --- the command ------------------------------------------------------------------------


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_command_imports_a_file_and_says_how_many(project: Project, tmp_path: Path) -> None:
    out = StringIO()

    call_command(
        "import_taxonomy",
        "--project",
        project.name,
        _write(tmp_path, "iab.csv", IAB_CSV),
        stdout=out,
    )

    assert set(Tag.objects.filter(project=project).values_list("path", flat=True)) == IAB_PATHS
    assert f"{len(IAB_PATHS)} tags created" in out.getvalue()


def test_command_run_twice_creates_nothing_the_second_time(
    project: Project, tmp_path: Path
) -> None:
    path = _write(tmp_path, "iab.csv", IAB_CSV)
    call_command("import_taxonomy", "--project", project.name, path, stdout=StringIO())
    before = _snapshot(project)
    out = StringIO()

    call_command("import_taxonomy", "--project", project.name, path, stdout=out)

    assert "0 tags created" in out.getvalue()
    assert _snapshot(project) == before


def test_command_with_a_malformed_line_names_it_and_changes_nothing(
    project: Project, tmp_path: Path
) -> None:
    make_tag(project, "Наука")
    before = _snapshot(project)

    with pytest.raises(CommandError, match="line 5") as caught:
        call_command(
            "import_taxonomy", "--project", project.name, _write(tmp_path, "bad.csv", BROKEN_CSV)
        )

    assert "Nothing was imported" in str(caught.value)
    assert _snapshot(project) == before


def test_command_failing_for_a_new_project_does_not_leave_it_behind(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="line 5"):
        call_command(
            "import_taxonomy", "--project", "Brand new", _write(tmp_path, "bad.csv", BROKEN_CSV)
        )

    assert not Project.objects.filter(name="Brand new").exists()


def test_command_creates_a_missing_project(tmp_path: Path) -> None:
    call_command(
        "import_taxonomy",
        "--project",
        "Brand new",
        _write(tmp_path, "iab.csv", IAB_CSV),
        stdout=StringIO(),
    )

    project = Project.objects.get(name="Brand new")
    assert project.taxonomy_name == "iab"
    assert project.tags.count() == len(IAB_PATHS)


def test_command_refuses_a_file_that_is_not_utf8(project: Project, tmp_path: Path) -> None:
    path = tmp_path / "cp1251.txt"
    path.write_bytes("Спорт: Футбол\n".encode("cp1251"))

    with pytest.raises(CommandError, match="not UTF-8"):
        call_command("import_taxonomy", "--project", project.name, path)

    assert not project.tags.exists()


def test_command_reports_a_missing_file(project: Project, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="file not found"):
        call_command("import_taxonomy", "--project", project.name, tmp_path / "nope.csv")


# --- the upload form --------------------------------------------------------------------


def _upload(
    client: Client, project: Project, name: str, content: bytes, fmt: str = "auto"
) -> object:
    return client.post(
        f"/projects/{project.pk}/taxonomy/import/",
        {"file": SimpleUploadedFile(name, content), "format": fmt},
        follow=True,
    )


def test_admin_uploads_a_csv_and_sees_how_many_tags_were_created(
    admin_user: User, project: Project
) -> None:
    response = _upload(client_for(admin_user), project, "iab.csv", IAB_CSV.encode())

    assert response.status_code == 200  # type: ignore[attr-defined]
    assert response.redirect_chain == [(f"/projects/{project.pk}/taxonomy/", 302)]  # type: ignore[attr-defined]
    assert set(project.tags.values_list("path", flat=True)) == IAB_PATHS
    assert _messages(response) == [
        f"Taxonomy imported: {len(IAB_PATHS)} new tags, 0 already present."
    ]


def test_admin_uploading_the_same_file_again_creates_nothing(
    admin_user: User, project: Project
) -> None:
    client = client_for(admin_user)
    _upload(client, project, "iab.csv", IAB_CSV.encode())
    before = _snapshot(project)

    response = _upload(client, project, "iab.csv", IAB_CSV.encode())

    assert _messages(response) == [
        f"Taxonomy imported: 0 new tags, {len(IAB_PATHS)} already present."
    ]
    assert _snapshot(project) == before


@pytest.mark.parametrize("role", ["expert", "crowd"])
def test_only_admins_may_upload_a_taxonomy(
    role: str, request: pytest.FixtureRequest, project: Project
) -> None:
    user: User = request.getfixturevalue(role)
    make_tag(project, "Музыка")
    before = _snapshot(project)

    answer = client_for(user).post(
        f"/projects/{project.pk}/taxonomy/import/",
        {"file": SimpleUploadedFile("iab.csv", IAB_CSV.encode()), "format": "csv"},
    )

    assert answer.status_code == 403
    assert _snapshot(project) == before


def test_anonymous_upload_is_sent_to_the_login_page(project: Project) -> None:
    answer = Client().post(
        f"/projects/{project.pk}/taxonomy/import/",
        {"file": SimpleUploadedFile("iab.csv", IAB_CSV.encode())},
    )

    assert answer.status_code == 302
    assert "login" in answer["Location"]
    assert not project.tags.exists()


def test_malformed_upload_shows_the_line_and_creates_nothing(
    admin_user: User, project: Project
) -> None:
    response = _upload(client_for(admin_user), project, "bad.csv", BROKEN_CSV.encode())

    messages = _messages(response)
    assert len(messages) == 1
    assert messages[0].startswith("Nothing was imported: line 5")
    assert not project.tags.exists()


def test_non_utf8_upload_is_refused_with_a_clear_message(
    admin_user: User, project: Project
) -> None:
    response = _upload(
        client_for(admin_user), project, "tags.txt", "Спорт: Футбол\n".encode("cp1251")
    )

    assert _messages(response) == ["Nothing was imported: The file is not UTF-8 text."]
    assert not project.tags.exists()


def test_upload_without_a_file_is_refused(admin_user: User, project: Project) -> None:
    response = client_for(admin_user).post(
        f"/projects/{project.pk}/taxonomy/import/", {"format": "auto"}, follow=True
    )

    assert len(_messages(response)) == 1
    assert not project.tags.exists()


def test_taxonomy_page_shows_the_upload_form_to_admins_only(
    admin_user: User, expert: User, project: Project
) -> None:
    action = f"/projects/{project.pk}/taxonomy/import/"

    assert (
        action in client_for(admin_user).get(f"/projects/{project.pk}/taxonomy/").content.decode()
    )
    assert (
        action not in client_for(expert).get(f"/projects/{project.pk}/taxonomy/").content.decode()
    )
