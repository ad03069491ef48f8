"""The taxonomy editor: every change to a tag, its history, and what a merge or a
deprecation does to labels, decisions, suggestions, exports and the model's label space."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from annotations.models import (
    Annotation,
    ConfirmedLabel,
    Decision,
    LabelChange,
    LabelSource,
    ModelVersion,
    Project,
    Suggestion,
    Tag,
    TagDecision,
    TaxonomyChange,
)
from annotations.selectors import label_tag_matches
from annotations.selectors.audit import label_store_audit
from annotations.services.export import ExportFilters, export_rows
from annotations.services.labeling.annotation import decision_set
from annotations.services.labeling.review import video_confirm_by_model
from annotations.services.learning.examples import examples_for_videos, labeled_videos
from annotations.services.taxonomy_edit import (
    tag_add,
    tag_deprecate,
    tag_merge,
    tag_move,
    tag_rename,
    tag_restore,
)
from tests.annotations.labeling_fixtures import imported_label, ready_video, submitted, suggest
from tests.factories import assign, client_for, make_project, make_tag


def _paths(project: Project, *, active: bool | None = None) -> list[str]:
    tags = project.tags.all() if active is None else project.tags.filter(active=active)
    return sorted(tags.values_list("path", flat=True))


def _audit_command_output() -> str:
    """What ``manage.py audit_labels`` prints about every project."""
    out = io.StringIO()
    call_command("audit_labels", stdout=out)
    return out.getvalue()


def test_add_rename_and_move_carry_the_tags_below_and_are_kept_in_the_history(
    project: Project, admin_user: User
) -> None:
    sport = tag_add(project=project, name="Спорт", by=admin_user)
    football = tag_add(project=project, name="Футбол", parent=sport, hotkey="1", by=admin_user)
    tag_add(project=project, name="Мини", parent=football, by=admin_user)
    hobbies = tag_add(project=project, name="Хобби", by=admin_user)

    tag_rename(tag=football, name="Соккер", by=admin_user)
    assert _paths(project) == ["Спорт", "Спорт: Соккер", "Спорт: Соккер: Мини", "Хобби"]
    tag_move(tag=football, parent=hobbies, by=admin_user)
    assert _paths(project) == ["Спорт", "Хобби", "Хобби: Соккер", "Хобби: Соккер: Мини"]
    assert Tag.objects.get(path="Хобби: Соккер: Мини").depth == 3
    history = list(TaxonomyChange.objects.order_by("id").values_list("action", "before", "after"))
    assert history[-2:] == [
        ("renamed", "Спорт: Футбол", "Спорт: Соккер"),
        ("moved", "Спорт: Соккер", "Хобби: Соккер"),
    ]
    assert TaxonomyChange.objects.filter(action="added").count() == 4


def test_merge_moves_labels_decisions_and_suggestions_and_writes_the_label_history(
    project: Project, admin_user: User, crowd: User, other_crowd: User
) -> None:
    soccer = make_tag(project, "Спорт: Соккер")
    football = make_tag(project, "Спорт: Футбол")
    only_soccer, both = ready_video(project), ready_video(project)
    imported_label(only_soccer, soccer)
    imported_label(both, soccer)
    imported_label(both, football)
    chose_soccer = submitted(only_soccer, crowd, [soccer])
    chose_both = submitted(both, other_crowd, [soccer, football])
    suggest(only_soccer, soccer, 0.8)
    suggest(both, soccer, 0.7)
    suggest(both, football, 0.9, rank=2)

    result = tag_merge(source=soccer, target=football, by=admin_user)

    assert (result.labels_moved, result.labels_already_there) == (1, 1)
    assert set(ConfirmedLabel.objects.values_list("video", "tag")) == {
        (only_soccer.pk, football.pk),
        (both.pk, football.pk),
    }
    assert set(chose_soccer.decisions.values_list("tag", "decision")) == {(football.pk, "add")}
    assert set(chose_both.decisions.values_list("tag", flat=True)) == {football.pk}
    assert set(Suggestion.objects.values_list("video", "tag")) == {
        (only_soccer.pk, football.pk),
        (both.pk, football.pk),
    }
    removed = LabelChange.objects.filter(tag=soccer, action="removed")
    assert removed.count() == 2 and all("Спорт: Футбол" in change.reason for change in removed)
    assert LabelChange.objects.filter(tag=football, video=only_soccer, action="added").exists()
    soccer.refresh_from_db()
    assert (soccer.active, soccer.merged_into) == (False, football)
    assert TaxonomyChange.objects.get(action="merged").details["labels_moved"] == 1
    assert "consistent" in _audit_command_output()


def test_a_merge_keeps_an_agreed_label_backed_by_the_moved_answers(
    project: Project, admin_user: User, crowd: User, other_crowd: User
) -> None:
    soccer, football = make_tag(project, "Соккер"), make_tag(project, "Футбол")
    video = ready_video(project)
    submitted(video, crowd, [soccer])
    submitted(video, other_crowd, [soccer])
    LabelChange.objects.create(video=video, tag=soccer, action="added", source="agreement")
    ConfirmedLabel.objects.create(video=video, tag=soccer, source=LabelSource.AGREEMENT)
    tag_merge(source=soccer, target=football, by=admin_user)
    assert ConfirmedLabel.objects.get(video=video).source == LabelSource.AGREEMENT
    assert "consistent" in _audit_command_output()


def test_a_merge_keeps_a_label_the_model_confirmed_with_its_version(
    project: Project, admin_user: User
) -> None:
    music, football = make_tag(project, "Музыка"), make_tag(project, "Спорт: Футбол")
    version = ModelVersion.objects.create(project=project, number=1, state="promoted")
    video = ready_video(project)
    video_confirm_by_model(video=video, tag_ids=[music.pk], version=version)
    tag_merge(source=music, target=football, by=admin_user)
    label = ConfirmedLabel.objects.get(video=video)
    assert (label.tag, label.source, label.model_version) == (football, "model", version)
    added = LabelChange.objects.get(video=video, tag=football)
    assert (added.action, added.source, added.model_version) == ("added", "model", version)
    assert label_store_audit(project) == []
    assert "consistent" in _audit_command_output()


def test_a_merge_takes_the_sub_tags_along_and_merges_namesakes(
    project: Project, admin_user: User
) -> None:
    make_tag(project, "Авто: Ремонт")
    make_tag(project, "Авто: Тюнинг")
    make_tag(project, "Транспорт: Ремонт")
    transport = Tag.objects.get(path="Транспорт")
    tag_merge(source=Tag.objects.get(path="Авто"), target=transport, by=admin_user)
    assert _paths(project, active=True) == [
        "Транспорт",
        "Транспорт: Ремонт",
        "Транспорт: Тюнинг",
    ]
    assert _paths(project, active=False) == ["Авто", "Авто: Ремонт"]


def test_deprecated_tags_stay_on_labels_and_exports_but_are_not_offered_nor_learned(
    project: Project, admin_user: User
) -> None:
    old = make_tag(project, "Старое: Подтег")
    kept = make_tag(project, "Новое")
    video = ready_video(project)
    imported_label(video, old)
    imported_label(video, kept)
    only_old = ready_video(project)
    imported_label(only_old, old)

    assert tag_deprecate(tag=Tag.objects.get(path="Старое"), by=admin_user) == 2

    assert set(video.confirmed_labels.values_list("tag__path", flat=True)) == {
        "Старое: Подтег",
        "Новое",
    }
    rows = {row.video_id: row.tags for row in export_rows(project, ExportFilters())}
    assert "Старое: Подтег" in rows[video.pk]
    assert label_tag_matches(project, "Подтег", scores={}, limit=5) == []
    examples = examples_for_videos([video], with_tags=True)
    assert examples[0].tags == ("Новое",)
    assert list(labeled_videos(project.pk)) == [video]

    assert tag_restore(tag=old, by=admin_user) == 2
    assert _paths(project, active=False) == []


def test_the_editor_refuses_bad_changes_with_422_and_changes_nothing(
    project: Project, admin_user: User
) -> None:
    football = make_tag(project, "Спорт: Футбол")
    make_tag(project, "Спорт: Хоккей")
    client = client_for(admin_user)
    base = f"/projects/{project.pk}/taxonomy/tags/"
    cases = [
        (f"{base}{football.pk}/rename/", {"name": "Хоккей"}, "already a tag"),
        (f"{base}{football.pk}/rename/", {"name": "Спорт: Регби"}, "“:”"),
        (f"{base}{football.pk}/move/", {"parent": str(football.pk)}, "under itself"),
        (f"{base}{football.pk}/merge/", {"target": ""}, "merge into"),
        (base, {"name": "", "parent": ""}, "needs a name"),
        (f"{base}{football.pk}/explode/", {}, "Unknown change"),
    ]
    before = _paths(project)
    for url, data, reason in cases:
        response = client.post(url, data)
        assert response.status_code == 422, url
        assert reason in response.content.decode(), reason
    assert _paths(project) == before


@pytest.mark.parametrize("who", ["expert", "crowd"])
def test_only_admins_edit_the_taxonomy(
    request: pytest.FixtureRequest, project: Project, who: str
) -> None:
    user = request.getfixturevalue(who)
    tag = make_tag(project, "Спорт")
    client = client_for(user)
    assert client.post(f"/projects/{project.pk}/taxonomy/tags/", {"name": "X"}).status_code in (
        403,
        404,
    )
    response = client.post(f"/projects/{project.pk}/taxonomy/tags/{tag.pk}/deprecate/")
    assert response.status_code in (403, 404)
    assert Tag.objects.get(pk=tag.pk).active


def test_the_editor_page_adds_and_merges_through_forms(project: Project, admin_user: User) -> None:
    client = client_for(admin_user)
    response = client.post(
        f"/projects/{project.pk}/taxonomy/tags/", {"name": "Спорт", "parent": "", "hotkey": "s"}
    )
    sport = Tag.objects.get(path="Спорт")
    assert response.status_code == 302 and response["Location"].endswith(f"?tag={sport.pk}")
    client.post(f"/projects/{project.pk}/taxonomy/tags/", {"name": "Футбол", "parent": sport.pk})
    client.post(f"/projects/{project.pk}/taxonomy/tags/", {"name": "Soccer", "parent": sport.pk})
    soccer = Tag.objects.get(path="Спорт: Soccer")
    football = Tag.objects.get(path="Спорт: Футбол")
    page = client.get(f"/projects/{project.pk}/taxonomy/?tag={soccer.pk}").content.decode()
    assert 'id="tag-panel"' in page and "Merge into" in page
    client.post(f"/projects/{project.pk}/taxonomy/tags/{soccer.pk}/merge/", {"target": football.pk})
    assert Tag.objects.get(pk=soccer.pk).merged_into == football
    history = client.get(f"/projects/{project.pk}/taxonomy/history/").content.decode()
    assert "Спорт: Soccer" in history and "Merged" in history


def test_the_history_shows_how_many_labels_a_merge_moved_only_to_those_who_see_labels(
    project: Project, admin_user: User, expert: User, crowd: User
) -> None:
    soccer = make_tag(project, "Спорт: Соккер")
    football = make_tag(project, "Спорт: Футбол")
    video = ready_video(project)
    imported_label(video, soccer)
    assign(video, crowd)
    submitted(video, crowd, [soccer])
    tag_merge(source=soccer, target=football, by=admin_user)
    counts = "1 labels, 1 decisions moved"
    for user, shown in ((admin_user, True), (expert, True), (crowd, False)):
        history = client_for(user).get(f"/projects/{project.pk}/taxonomy/history/")
        assert history.status_code == 200
        page = history.content.decode()
        assert "Спорт: Соккер" in page and "Merged" in page, user.username
        assert (counts in page) is shown, user.username
    editor = client_for(admin_user).get(f"/projects/{project.pk}/taxonomy/").content.decode()
    assert counts in editor


@pytest.mark.parametrize("fmt", ["csv", "lines", "json"])
def test_a_downloaded_taxonomy_uploads_into_another_project_unchanged(
    project: Project, admin_user: User, fmt: str
) -> None:
    make_tag(project, "Спорт: Футбол", hotkey="1")
    make_tag(project, "Спорт: Хоккей")
    make_tag(project, "Еда и напитки, вино: Кулинария")
    make_tag(project, "Устаревшее", active=False)
    client = client_for(admin_user)
    download = client.get(f"/projects/{project.pk}/taxonomy/download/?format={fmt}")
    assert download.status_code == 200
    assert "attachment" in download["Content-Disposition"]
    other = make_project("Копия")
    upload = SimpleUploadedFile(f"taxonomy.{fmt}", download.content)
    client.post(f"/projects/{other.pk}/taxonomy/import/", {"file": upload, "format": fmt})
    assert _paths(other) == _paths(project, active=True)
    if fmt == "json":
        assert other.tags.get(path="Спорт: Футбол").hotkey == "1"
    assert TaxonomyChange.objects.get(project=other).action == "imported"


def test_an_unknown_download_format_is_a_400_naming_the_formats(
    project: Project, admin_user: User
) -> None:
    response = client_for(admin_user).get(f"/projects/{project.pk}/taxonomy/download/?format=xml")
    assert response.status_code == 400
    assert "csv, lines or json" in response.content.decode()


def test_a_deprecated_tag_cannot_be_chosen_any_more_but_answers_keep_it(
    project: Project, crowd: User, other_crowd: User, admin_user: User
) -> None:
    old = make_tag(project, "Старое")
    video = ready_video(project)
    given = Annotation.objects.create(video=video, annotator=crowd)
    TagDecision.objects.create(annotation=given, tag=old, decision=Decision.ADD)
    tag_deprecate(tag=old, by=admin_user)
    assert given.decisions.get().tag == old
    fresh = Annotation.objects.create(video=video, annotator=other_crowd)
    with pytest.raises(ValidationError, match="no longer in use"):
        decision_set(annotation=fresh, tag=Tag.objects.get(pk=old.pk), decision="add", revision=1)
