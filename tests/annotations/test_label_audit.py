"""The label store audit finds each kind of broken invariant, and only those."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from annotations.models import (
    ConfirmedLabel,
    Decision,
    LabelChange,
    LabelSource,
    ModelVersion,
    Project,
    Suggestion,
    Tag,
    TagDecision,
)
from annotations.selectors.audit import label_store_audit
from annotations.services.labeling.review import video_confirm_by_model
from tests.annotations.labeling_fixtures import confirm_now, imported_label, ready_video, submitted
from tests.factories import client_for, make_project, make_tag


def _rules(project: Project | None = None) -> list[str]:
    return [violation.rule for violation in label_store_audit(project)]


def test_labels_written_by_the_services_pass_the_audit(
    project: Project, football: Tag, crowd: User, expert: User
) -> None:
    video = ready_video(project)
    imported_label(video, make_tag(project, "Спорт: Теннис"))
    submitted(video, crowd, [football])
    confirm_now(video, [football.pk], expert, reason="not tennis")
    assert _rules() == []
    call_command("audit_labels")


def test_a_label_written_without_history_is_reported(project: Project, football: Tag) -> None:
    video = ready_video(project)
    ConfirmedLabel.objects.create(video=video, tag=football, source=LabelSource.IMPORT)
    assert _rules() == ["no history"]


def test_a_label_deleted_without_a_record_is_reported(project: Project, football: Tag) -> None:
    video = ready_video(project)
    imported_label(video, football).delete()
    assert _rules() == ["removed without a record"]


def test_a_label_the_history_says_was_removed_is_reported(project: Project, football: Tag) -> None:
    video = ready_video(project)
    imported_label(video, football)
    LabelChange.objects.create(
        video=video, tag=football, action=LabelChange.Action.REMOVED, source=LabelSource.REVIEW
    )
    assert _rules() == ["history disagrees"]


def test_labels_without_a_human_or_audited_source_are_reported(
    project: Project, football: Tag
) -> None:
    reviewed, agreed = ready_video(project), ready_video(project)
    for video, source in ((reviewed, LabelSource.REVIEW), (agreed, LabelSource.AGREEMENT)):
        LabelChange.objects.create(
            video=video, tag=football, action=LabelChange.Action.ADDED, source=source
        )
        ConfirmedLabel.objects.create(video=video, tag=football, source=source)
    assert sorted(_rules()) == ["agreement without answers", "no reviewer"]


def test_rows_naming_a_tag_of_another_project_are_reported(
    project: Project, football: Tag, crowd: User
) -> None:
    foreign = make_tag(make_project("Other"), "Кино")
    video = ready_video(project)
    answer = submitted(video, crowd, [football])
    TagDecision.objects.create(annotation=answer, tag=foreign, decision=Decision.ADD)
    Suggestion.objects.create(video=video, tag=foreign, score=0.9, rank=1)
    assert _rules() == ["tag of another project", "tag of another project"]
    assert _rules(project) == _rules()
    assert _rules(Project.objects.get(name="Other")) == []


def test_the_command_lists_violations_and_fails(project: Project, football: Tag) -> None:
    ConfirmedLabel.objects.create(
        video=ready_video(project), tag=football, source=LabelSource.IMPORT
    )
    with pytest.raises(CommandError, match="1 violations"):
        call_command("audit_labels", "--project", project.name)
    with pytest.raises(CommandError, match="no project named"):
        call_command("audit_labels", "--project", "nope")


def test_the_admin_site_shows_labels_and_models_but_cannot_change_them(
    project: Project, football: Tag, admin_user: User
) -> None:
    label = imported_label(ready_video(project), football)
    client = client_for(admin_user)
    assert client.get("/admin/annotations/confirmedlabel/").status_code == 200
    assert client.get("/admin/annotations/confirmedlabel/add/").status_code == 403
    deleted = client.post(f"/admin/annotations/confirmedlabel/{label.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 403
    assert ConfirmedLabel.objects.filter(pk=label.pk).exists()
    assert client.get("/admin/annotations/modelversion/add/").status_code == 403


def test_the_audit_page_shows_an_admin_what_is_wrong_and_is_closed_to_experts(
    project: Project, football: Tag, admin_user: User, expert: User
) -> None:
    video = ready_video(project)
    imported_label(video, football)
    page = client_for(admin_user).get(f"/projects/{project.pk}/audit/").content.decode()
    assert 'id="audit-clean"' in page
    ConfirmedLabel.objects.create(
        video=ready_video(project), tag=make_tag(project, "Кино"), source=LabelSource.IMPORT
    )
    page = client_for(admin_user).get(f"/projects/{project.pk}/audit/").content.decode()
    assert 'id="audit-violations"' in page
    assert "No history entry created this confirmed tag" in page
    assert client_for(expert).get(f"/projects/{project.pk}/audit/").status_code == 403


def _version(project: Project, number: int = 1) -> ModelVersion:
    return ModelVersion.objects.create(
        project=project, number=number, state=ModelVersion.State.PROMOTED
    )


def test_labels_the_model_confirmed_with_its_version_pass_the_audit(
    project: Project, football: Tag
) -> None:
    video = ready_video(project)
    video_confirm_by_model(video=video, tag_ids=[football.pk], version=_version(project))

    assert _rules() == []
    label = ConfirmedLabel.objects.get(video=video)
    assert label.source == LabelSource.MODEL and label.model_version is not None
    added = LabelChange.objects.get(video=video)
    assert added.source == LabelSource.MODEL and added.model_version == label.model_version


def test_a_model_label_without_its_version_is_reported(project: Project, football: Tag) -> None:
    video = ready_video(project)
    ConfirmedLabel.objects.create(video=video, tag=football, source=LabelSource.MODEL)
    LabelChange.objects.create(
        video=video, tag=football, action=LabelChange.Action.ADDED, source=LabelSource.MODEL
    )

    assert _rules() == ["model label without a version", "model history without a version"]


def test_a_model_label_naming_another_projects_version_or_a_persons_label_naming_one_is_reported(
    project: Project, football: Tag
) -> None:
    video = ready_video(project)
    elsewhere = _version(make_project("Elsewhere"))
    video_confirm_by_model(video=video, tag_ids=[football.pk], version=elsewhere)
    tennis = make_tag(project, "Спорт: Теннис")
    imported_label(video, tennis)
    ConfirmedLabel.objects.filter(video=video, tag=tennis).update(model_version=elsewhere)

    assert _rules() == ["version of another project", "version on a person's label"]


def test_the_model_never_adds_to_a_video_people_confirmed(project: Project, football: Tag) -> None:
    video = ready_video(project)
    imported_label(video, make_tag(project, "Спорт: Теннис"))

    assert (
        video_confirm_by_model(video=video, tag_ids=[football.pk], version=_version(project)) == []
    )
    assert list(video.confirmed_labels.values_list("source", flat=True)) == [LabelSource.IMPORT]
