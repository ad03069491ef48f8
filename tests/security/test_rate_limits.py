"""The shared rate limits: exact counts, no burst across a window's edge, honest
Retry-After, in the database and in Redis, and retraining limited per project."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.core.cache import caches
from django.test import Client
from pytest_django.fixtures import Settings

from annotations.models import ModelVersion, Project, RateCount
from annotations.services.learning.retraining import RetrainingLimited, retraining_request
from annotations.services.learning.training import TrainingAlreadyRunning
from annotations.services.limits import limit_release, limit_take
from tests.api.conftest import token_client

pytestmark = pytest.mark.django_db

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/6")
# A moment well inside a window of 60 s (window 10**7 started at T0 - 10 s).
T0 = 60.0 * 10**7 + 10


def _redis_reachable() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture(params=["database", "redis"])
def store(request: pytest.FixtureRequest, settings: Settings) -> Iterator[str]:
    settings.RATE_LIMIT_STORE = request.param
    if request.param == "redis":
        if not _redis_reachable():
            pytest.skip(f"no Redis at {TEST_REDIS_URL} (set TEST_REDIS_URL)")
        settings.CACHES = {
            **settings.CACHES,
            "limits": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": TEST_REDIS_URL,
                "KEY_PREFIX": f"test-limits-{os.getpid()}",
            },
        }
        caches["limits"].clear()
    yield request.param
    if request.param == "redis":
        caches["limits"].clear()


def _take(now: float, limit: int = 5) -> bool:
    return limit_take(action="t", caller="c", limit=limit, period=60, now=now).allowed


def test_exactly_the_limit_is_admitted_within_a_period(store: str) -> None:
    admitted = [_take(T0 + n * 0.1) for n in range(12)]
    assert admitted == [True] * 5 + [False] * 7


def test_a_full_window_leaves_no_second_burst_just_after_its_edge(store: str) -> None:
    assert all(_take(T0 + 49 + n * 0.1) for n in range(5))  # at the end of one window
    # One second into the next window the five requests of the last second still count.
    assert not _take(T0 + 51)
    # Once they have slid out of the last minute, the full rate is back.
    assert [_take(T0 + 110 + n * 0.1) for n in range(6)] == [True] * 5 + [False]


def test_retry_after_is_when_one_more_request_gets_in(store: str) -> None:
    for n in range(5):
        _take(T0 + n)
    refused = limit_take(action="t", caller="c", limit=5, period=60, now=T0 + 10)
    assert not refused.allowed and refused.retry_after > 0
    wait = refused.retry_after
    # Refused requests are not counted, so asking early changes nothing...
    assert not _take(T0 + 10 + wait - 1)
    assert _take(T0 + 10 + wait)  # ...and at the time given one more is admitted.


def test_callers_and_actions_are_counted_apart(store: str) -> None:
    for _ in range(3):
        assert limit_take(action="a", caller="x", limit=3, period=60, now=T0).allowed
    assert not limit_take(action="a", caller="x", limit=3, period=60, now=T0).allowed
    assert limit_take(action="a", caller="y", limit=3, period=60, now=T0).allowed
    assert limit_take(action="b", caller="x", limit=3, period=60, now=T0).allowed


def test_a_released_request_frees_its_place(store: str) -> None:
    taken = [limit_take(action="t", caller="c", limit=2, period=60, now=T0) for _ in range(2)]
    assert not _take(T0, limit=2)
    limit_release(taken[0])
    assert _take(T0, limit=2)


def test_rows_of_windows_long_past_are_deleted(settings: Settings) -> None:
    settings.RATE_LIMIT_STORE = "database"
    _take(T0)
    _take(T0 + 3600)  # an hour later: a new window's row clears the old ones
    assert RateCount.objects.count() == 1


def test_a_throttled_api_call_says_when_to_retry_and_reads_stay_open(
    project: Project, admin_user: User, settings: Settings
) -> None:
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "exports": "2/min"}
    client = token_client(admin_user)
    url = f"/api/v1/projects/{project.pk}/exports/"
    codes = [client.post(url, {"format": "csv"}, format="json").status_code for _ in range(3)]
    assert codes == [202, 202, 429]
    refused = client.post(url, {"format": "csv"}, format="json")
    # At most two periods: the window's count fades out over the next one.
    assert 0 < int(refused["Retry-After"]) <= 120
    assert client.get(url).status_code == 200


# Retraining --------------------------------------------------------------------------


def test_a_retrain_request_while_one_trains_is_refused_without_being_counted(
    project: Project, admin_user: User, settings: Settings
) -> None:
    settings.RETRAIN_REQUESTS_PER_HOUR = 1
    running = ModelVersion.objects.create(project=project, number=1, state="training")
    for _ in range(3):
        with pytest.raises(TrainingAlreadyRunning):
            retraining_request(project=project, user=admin_user)
    running.state = ModelVersion.State.FAILED
    running.save()
    # The refused requests used none of the hour's one training.
    assert retraining_request(project=project, user=admin_user).number == 2


def _finish_trainings() -> None:
    """The queued trainings end (as they would with too few labels, at once)."""
    ModelVersion.objects.filter(state="training").update(state="failed")


def test_retraining_is_limited_per_project_and_hour(
    project: Project, admin_user: User, settings: Settings
) -> None:
    settings.RETRAIN_REQUESTS_PER_HOUR = 3
    other = Project.objects.create(name="Другой")
    for _ in range(3):
        retraining_request(project=project, user=admin_user)
        _finish_trainings()
    with pytest.raises(RetrainingLimited) as limited:
        retraining_request(project=project, user=admin_user)
    assert 0 < limited.value.retry_after <= 2 * 3600
    assert project.model_versions.count() == 3
    assert retraining_request(project=other, user=admin_user).project == other


def test_the_retrain_api_and_page_answer_429_over_the_limit(
    project: Project, admin_user: User, settings: Settings
) -> None:
    settings.RETRAIN_REQUESTS_PER_HOUR = 1
    api = token_client(admin_user)
    url = f"/api/v1/projects/{project.pk}/models/retrain/"
    assert api.post(url).status_code == 202
    _finish_trainings()
    refused = api.post(url)
    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled"
    assert int(refused["Retry-After"]) > 0

    page = Client()
    page.force_login(admin_user)
    answer = page.post(f"/projects/{project.pk}/models/retrain/")
    assert answer.status_code == 429
    assert "within the last hour" in answer.content.decode()
    assert project.model_versions.count() == 1


def test_the_retrain_api_still_says_409_while_one_trains(
    project: Project, admin_user: User
) -> None:
    ModelVersion.objects.create(project=project, number=1, state="training")
    response = token_client(admin_user).post(f"/api/v1/projects/{project.pk}/models/retrain/")
    assert response.status_code == 409


def test_retrying_a_training_counts_against_the_retraining_limit(
    project: Project, admin_user: User, settings: Settings
) -> None:
    settings.RETRAIN_REQUESTS_PER_HOUR = 2
    api = token_client(admin_user)
    started = api.post(f"/api/v1/projects/{project.pk}/models/retrain/")
    assert started.status_code == 202
    job_url = f"/api/v1/jobs/{started.json()['job']}/"
    assert api.post(f"{job_url}cancel/").json()["state"] == "cancelled"
    assert api.post(f"{job_url}retry/").json()["state"] == "queued"  # the hour's second
    assert api.post(f"{job_url}cancel/").status_code == 200

    refused = api.post(f"{job_url}retry/")

    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled"
    assert "try again in about" in refused.json()["detail"]
    assert int(refused["Retry-After"]) > 0
    assert api.get(job_url).json()["state"] == "cancelled"
    assert project.model_versions.get().state == ModelVersion.State.FAILED
    page = Client()
    page.force_login(admin_user)
    answer = page.post(f"/jobs/training-{project.model_versions.get().pk}/retry/")
    assert answer.status_code == 429
    assert "within the last hour" in answer.content.decode()


def test_a_training_retry_refused_for_another_reason_uses_none_of_the_limit(
    project: Project, admin_user: User, settings: Settings
) -> None:
    settings.RETRAIN_REQUESTS_PER_HOUR = 3
    api = token_client(admin_user)
    first = retraining_request(project=project, user=admin_user)
    assert api.post(f"/api/v1/jobs/training-{first.pk}/cancel/").status_code == 200
    retraining_request(project=project, user=admin_user)  # the hour's second
    for _ in range(3):  # another version trains: refused, and not counted
        assert api.post(f"/api/v1/jobs/training-{first.pk}/retry/").status_code == 409
    _finish_trainings()
    assert retraining_request(project=project, user=admin_user).number == 3
    _finish_trainings()
    with pytest.raises(RetrainingLimited):
        retraining_request(project=project, user=admin_user)
