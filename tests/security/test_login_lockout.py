"""Login throttling: wrong passwords lock the account and the address, the answer says
until when, the lock holds against the right password, and admins see and lift it.

The same counts guard the login page, the admin login and the API token endpoint.
"""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from annotations.views.login import client_address
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LIMIT = 10


@pytest.fixture(autouse=True)
def _limits(settings: Settings) -> None:
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = dt.timedelta(minutes=15)


def _login(client: Client, username: str, password: str, url: str = "/accounts/login/") -> int:
    return client.post(url, {"username": username, "password": password}).status_code


def _age_failures(minutes: int) -> None:
    """Moves every recorded failure back in time, as if the minutes had passed."""
    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=minutes))


def test_fifty_wrong_passwords_lock_the_account_and_the_page_says_until_when(
    expert: User,
) -> None:
    client = Client()
    before = timezone.now()
    codes = [_login(client, expert.username, f"guess-{n}") for n in range(50)]

    assert codes[: LIMIT - 1] == [200] * (LIMIT - 1)  # the form again, "wrong password"
    assert codes[LIMIT - 1 :] == [429] * (50 - LIMIT + 1)
    page = client.post("/accounts/login/", {"username": expert.username, "password": PASSWORD})
    assert page.status_code == 429  # the right password does not lift the lock
    text = page.content.decode()
    assert "Too many failed logins" in text
    until = dt.datetime.fromisoformat(text.split('data-locked-until="')[1].split('"')[0])
    # The tenth failure locked it: attempts refused during the lock do not extend it.
    assert before + dt.timedelta(minutes=15) <= until <= timezone.now() + dt.timedelta(minutes=15)
    assert timezone.localtime(until).strftime("%H:%M") in text
    assert 0 < int(page["Retry-After"]) <= 15 * 60
    assert "_auth_user_id" not in client.session


def test_the_lock_ends_when_the_failures_are_older_than_the_lockout_time(expert: User) -> None:
    client = Client()
    for n in range(LIMIT):
        _login(client, expert.username, f"guess-{n}")
    assert _login(client, expert.username, PASSWORD) == 429

    _age_failures(16)

    assert _login(client, expert.username, PASSWORD) == 302


def test_wrong_passwords_from_many_addresses_lock_the_account_everywhere(expert: User) -> None:
    for n in range(LIMIT):
        _login(Client(REMOTE_ADDR=f"203.0.113.{n + 1}"), expert.username, "wrong")

    assert _login(Client(REMOTE_ADDR="198.51.100.7"), expert.username, PASSWORD) == 429


def test_guessing_many_accounts_from_one_address_locks_the_address_only(
    expert: User, crowd: User
) -> None:
    guesser = Client(REMOTE_ADDR="203.0.113.9")
    for n in range(LIMIT):
        _login(guesser, f"someone-{n}", "wrong")

    assert _login(guesser, crowd.username, PASSWORD) == 429
    assert _login(Client(REMOTE_ADDR="198.51.100.7"), crowd.username, PASSWORD) == 302


def test_the_admin_login_shares_the_count_and_is_locked_too(admin_user: User) -> None:
    client = Client()
    for n in range(LIMIT - 1):
        _login(client, admin_user.username, f"guess-{n}", "/admin/login/")
    assert _login(client, admin_user.username, "one more", "/accounts/login/") == 429
    locked = client.post("/admin/login/", {"username": admin_user.username, "password": PASSWORD})
    assert locked.status_code == 429
    assert "You can try again after" in locked.content.decode()


def test_the_token_endpoint_locks_out_with_a_json_answer(expert: User) -> None:
    client = APIClient()
    url = "/api/v1/auth/token/"
    codes = [
        client.post(url, {"username": expert.username, "password": "no"}).status_code
        for _ in range(LIMIT + 2)
    ]
    assert codes == [400] * (LIMIT - 1) + [429] * 3
    refused = client.post(url, {"username": expert.username, "password": PASSWORD})
    assert refused.status_code == 429
    body = refused.json()
    assert body["code"] == "locked_out"
    assert dt.datetime.fromisoformat(body["locked_until"]) > timezone.now()
    assert body["locked_until"] in body["detail"]
    assert int(refused["Retry-After"]) > 0
    assert "token" not in body


def test_an_admin_lifts_the_lock_with_axes_reset_username(expert: User) -> None:
    client = Client()
    for n in range(LIMIT):
        _login(client, expert.username, f"guess-{n}")
    assert _login(client, expert.username, PASSWORD) == 429

    call_command("axes_reset_username", expert.username)

    assert _login(client, expert.username, PASSWORD) == 302


def test_failures_and_the_lockout_are_logged_for_admins(
    expert: User, admin_user: User, caplog: pytest.LogCaptureFixture
) -> None:
    client = Client(REMOTE_ADDR="203.0.113.5")
    with caplog.at_level(logging.WARNING):
        for n in range(LIMIT):
            _login(client, expert.username, f"guess-{n}")

    failures = AccessFailureLog.objects.filter(username=expert.username)
    assert failures.count() == LIMIT
    assert failures.filter(locked_out=True, ip_address="203.0.113.5").exists()
    lockout_lines = [r.getMessage() for r in caplog.records if "Locking out" in r.getMessage()]
    assert lockout_lines and expert.username in lockout_lines[0]
    assert "203.0.113.5" in lockout_lines[0]
    admin = Client()
    admin.force_login(admin_user)
    listing = admin.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200
    assert expert.username in listing.content.decode()


def test_a_lock_from_older_and_newer_failures_ends_when_enough_have_aged_out(
    expert: User,
) -> None:
    # Four failures from one address 10 minutes ago, six from another 1 minute ago:
    # the lock lasts until the older four pass the 15 minutes (then six are left).
    now = timezone.now()
    for address, failures, minutes_ago in (("203.0.113.1", 4, 10), ("203.0.113.2", 6, 1)):
        attempt = AccessAttempt.objects.create(
            username=expert.username,
            ip_address=address,
            user_agent="",
            failures_since_start=failures,
        )
        # The time is set on creation; an update writes the one wanted.
        AccessAttempt.objects.filter(pk=attempt.pk).update(
            attempt_time=now - dt.timedelta(minutes=minutes_ago)
        )
    refused = APIClient(REMOTE_ADDR="198.51.100.7").post(
        "/api/v1/auth/token/", {"username": expert.username, "password": PASSWORD}
    )
    until = dt.datetime.fromisoformat(refused.json()["locked_until"])
    assert abs(until - (now + dt.timedelta(minutes=5))) < dt.timedelta(seconds=1)


def test_the_client_address_comes_from_the_proxies_only_when_configured(
    settings: Settings,
) -> None:
    from django.test import RequestFactory

    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7"
    )
    settings.PROXY_COUNT = 0
    assert client_address(request) == "10.0.0.2"  # a client's own header is not believed
    settings.PROXY_COUNT = 1
    assert client_address(request) == "198.51.100.7"  # the address the proxy saw
