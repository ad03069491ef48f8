"""The promoted model follows the taxonomy as it is edited: its tags are found again after a
rename, a move or a merge, and a deprecated tag is neither suggested nor predicted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User

from annotations.models import ModelVersion, Project, Suggestion, Tag, Video, VideoStatus
from annotations.services.labeling.gold import gold_mark
from annotations.services.learning.prediction import predict_for_text
from annotations.services.learning.suggestions import (
    SuggestionRun,
    suggestions_refresh_many,
    suggestions_refresh_project,
)
from annotations.services.learning.training import training_request
from annotations.services.taxonomy_edit import tag_deprecate, tag_merge, tag_move, tag_rename
from tests.annotations.labeling_fixtures import suggest
from tests.factories import (
    PLANTED_TAGS,
    PlantedProject,
    client_for,
    make_planted_project,
    make_tag,
    make_video,
)

FOOTBALL, COOKING, CARS = PLANTED_TAGS

pytestmark = pytest.mark.label_audit


@pytest.fixture
def planted(
    project: Project,
    text_only_training: None,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> PlantedProject:
    planted = make_planted_project(project, per_tag=12, unlabeled_per_tag=2)
    with django_capture_on_commit_callbacks(execute=True):
        version = training_request(project=project)
    version.refresh_from_db()
    assert version.state == ModelVersion.State.PROMOTED, version.note
    return planted


def _suggested(video: Video) -> dict[str, tuple[float, bool]]:
    rows = Suggestion.objects.filter(video=video).values_list(
        "tag__path", "score", "above_threshold"
    )
    return {path: (score, above) for path, score, above in rows}


def _predicted(planted: PlantedProject, tag: str) -> list[str]:
    text = planted.probe(tag)
    found = predict_for_text(
        project=planted.project, title=text.title, description=text.description
    )
    return [path for path, _score in found.tags]


def test_a_renamed_or_moved_tag_is_still_suggested_and_predicted_by_the_model(
    planted: PlantedProject, admin_user: User
) -> None:
    video = planted.unlabeled[COOKING][0]
    suggestions_refresh_many(project=planted.project, videos=[video])
    before = _suggested(video)
    assert before[COOKING][1]  # the model chooses the tag before any edit
    assert _predicted(planted, COOKING)[0] == COOKING

    cooking = Tag.objects.get(project=planted.project, path=COOKING)
    tag_rename(tag=cooking, name="Рецепты", by=admin_user)
    # The parent renamed too: the tag's path changes a second time, through its parent.
    assert cooking.parent is not None
    tag_rename(tag=cooking.parent, name="Кухня", by=admin_user)
    kitchen = Tag.objects.get(project=planted.project, path="Кухня")
    home = make_tag(planted.project, "Дом")
    tag_move(tag=kitchen, parent=home, by=admin_user)
    suggestions_refresh_many(project=planted.project, videos=[video])

    after = _suggested(video)
    assert COOKING not in after
    assert after["Дом: Кухня: Рецепты"] == before[COOKING]
    assert _predicted(planted, COOKING)[0] == "Дом: Кухня: Рецепты"


def test_a_merged_tag_is_suggested_as_the_tag_it_went_into(
    planted: PlantedProject, admin_user: User
) -> None:
    video = planted.unlabeled[COOKING][0]
    recipes = make_tag(planted.project, "Еда и напитки: Рецепты")
    cooking = Tag.objects.get(project=planted.project, path=COOKING)
    tag_merge(source=cooking, target=recipes, by=admin_user)

    suggestions_refresh_many(project=planted.project, videos=[video])

    after = _suggested(video)
    assert COOKING not in after
    assert after["Еда и напитки: Рецепты"][1]
    assert _predicted(planted, COOKING)[0] == "Еда и напитки: Рецепты"


def test_a_deprecated_tag_is_neither_suggested_predicted_nor_listed_by_the_api(
    planted: PlantedProject, admin_user: User
) -> None:
    video = planted.unlabeled[FOOTBALL][0]
    suggestions_refresh_many(project=planted.project, videos=[video])
    assert _suggested(video)[FOOTBALL][1]
    assert FOOTBALL in _predicted(planted, FOOTBALL)

    tag_deprecate(tag=Tag.objects.get(project=planted.project, path=FOOTBALL), by=admin_user)
    listed = client_for(admin_user).get(f"/api/v1/videos/{video.pk}/").json()["suggestions"]
    assert FOOTBALL not in {row["tag"] for row in listed}  # stored before the deprecation
    suggestions_refresh_many(project=planted.project, videos=[video])

    assert FOOTBALL not in _suggested(video)
    assert FOOTBALL not in _predicted(planted, FOOTBALL)


def test_a_version_trained_before_tag_ids_were_kept_finds_its_tags_after_a_rename(
    planted: PlantedProject, admin_user: User
) -> None:
    version = ModelVersion.objects.get(project=planted.project, state=ModelVersion.State.PROMOTED)
    version.training_data = {
        key: value for key, value in version.training_data.items() if key != "tag_ids"
    }
    version.save(update_fields=["training_data"])
    video = planted.unlabeled[CARS][0]

    cars = Tag.objects.get(project=planted.project, path=CARS)
    tag_rename(tag=cars, name="Машины", by=admin_user)
    suggestions_refresh_many(project=planted.project, videos=[video])

    assert _suggested(video)["Транспорт: Машины"][1]


def test_gold_videos_get_the_new_models_suggestions_like_the_videos_left_to_label(
    planted: PlantedProject, admin_user: User
) -> None:
    gold, confirmed = planted.labeled[0], planted.labeled[1]
    gold_mark(video=gold, user=admin_user)
    Suggestion.objects.filter(video__in=[gold, confirmed]).delete()

    suggestions_refresh_project(project=planted.project)

    version = ModelVersion.objects.get(project=planted.project, state=ModelVersion.State.PROMOTED)
    gold_versions = set(
        Suggestion.objects.filter(video=gold).values_list("model_version", flat=True)
    )
    assert gold_versions == {version.pk}
    open_video = planted.unlabeled[CARS][0]
    assert set(
        Suggestion.objects.filter(video=open_video).values_list("model_version", flat=True)
    ) == {version.pk}
    # Other confirmed videos need no suggestions: nobody labels them any more.
    assert not Suggestion.objects.filter(video=confirmed).exists()


def test_a_videos_own_processing_step_does_not_say_the_model_confirmed_it() -> None:
    run = SuggestionRun(videos=1, suggestions=3, model_version=None, auto_confirmed=1, audited=0)

    assert "confirmed" in run.describe()  # the project's refresh job, for admins
    assert "confirmed" not in run.describe(confirmations=False)


def test_a_prediction_names_the_best_guess_when_the_model_finds_no_tag_likely(
    planted: PlantedProject,
) -> None:
    video = make_video(planted.project, title="Настроечная таблица", status=VideoStatus.READY)
    suggestions_refresh_many(project=planted.project, videos=[video])
    assert not any(above for _score, above in _suggested(video).values())

    guess = predict_for_text(project=planted.project, title="Настроечная таблица")

    assert len(guess.tags) == 1
    assert Tag.objects.filter(project=planted.project, path=guess.tags[0][0]).exists()


def test_a_video_marked_gold_after_a_promotion_gets_the_promoted_models_suggestions(
    planted: PlantedProject, admin_user: User
) -> None:
    # Confirmed with the zero-shot suggestions it got when it came in: the refresh after
    # the promotion passed it by.
    video = planted.labeled[0]
    suggest(video, Tag.objects.get(project=planted.project, path=CARS), 0.9)

    client_for(admin_user).post(f"/videos/{video.pk}/gold/", {"gold": "1"})

    version = ModelVersion.objects.get(project=planted.project, state=ModelVersion.State.PROMOTED)
    shown = set(Suggestion.objects.filter(video=video).values_list("model_version", flat=True))
    assert shown == {version.pk}
