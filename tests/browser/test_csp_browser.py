"""Every page passes the Content-Security-Policy in a real browser, for every role.

The browser reports each blocked script, style, image or connection as a
``securitypolicyviolation`` event (and a console error); a listener installed before
any page script records them. Each role opens each page it may see, the labeling
page is used from the keyboard (htmx swaps included), and the API docs render.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.files import File
from django.utils import timezone
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page
from pytest_django.live_server_helper import LiveServer

from annotations.models import (
    Job,
    ModelVersion,
    Project,
    Tag,
    TranscriptSegment,
    Video,
    VideoStatus,
)
from ml.synthetic_media import write_video
from tests.annotations.labeling_fixtures import ready_video, submitted, suggest
from tests.factories import PASSWORD, assign, make_tag

pytestmark = pytest.mark.django_db(transaction=True)

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"}` +
    ` (${event.sourceFile || ""}:${event.lineNumber || ""} ${event.sample || ""})`
  );
});
"""


@dataclass
class Site:
    project: Project
    tags: dict[str, Tag]
    labeled: Video
    processing: Video
    disputed: Video
    training: ModelVersion
    promoted: ModelVersion


@pytest.fixture
def site(project: Project, crowd: User, other_crowd: User, expert: User, tmp_path: Path) -> Site:
    tags = {
        "football": make_tag(project, "Спорт: Футбол", hotkey="1"),
        "hockey": make_tag(project, "Спорт: Хоккей"),
        "cooking": make_tag(project, "Еда и напитки: Кулинария"),
    }
    promoted = ModelVersion.objects.create(
        project=project,
        number=1,
        state="promoted",
        metrics={
            "holdout": {"hierarchical_iou": 0.61, "f1_micro": 0.7},
            "per_tag": {"Спорт: Футбол": {"f1": 0.8}, "Спорт: Хоккей": {"f1": 0.5}},
        },
    )
    training = ModelVersion.objects.create(project=project, number=2, state="training")
    Job.objects.create(
        kind=Job.Kind.TRAINING,
        object_id=training.pk,
        project=project,
        state=Job.State.RUNNING,
        stage="fitting",
        progress=0.4,
        heartbeat_at=timezone.now(),
    )
    path = write_video(tmp_path / "clip.mp4", seconds=2.0, width=160, height=120, fps=10)
    labeled = ready_video(project, title="Матч недели")
    labeled.sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    with path.open("rb") as handle:
        labeled.source_file.save("clip.mp4", File(handle), save=True)
    TranscriptSegment.objects.create(
        video=labeled, index=0, start_seconds=0, end_seconds=1, text="Гол!", source="asr"
    )
    suggest(labeled, tags["football"], 0.91, model=promoted)
    suggest(labeled, tags["hockey"], 0.35, rank=2, above=False, model=promoted)
    assign(labeled, crowd)
    disputed = ready_video(project, title="Спорный матч")
    submitted(disputed, other_crowd, [tags["hockey"]])
    processing = Video.objects.create(
        project=project, title="Обрабатывается", status=VideoStatus.PROCESSING
    )
    return Site(project, tags, labeled, processing, disputed, training, promoted)


@dataclass
class Visit:
    url: str
    violations: list[str]
    errors: list[str]


class Recorder:
    """A browser context that records CSP violations and console errors per page."""

    def __init__(self, browser: Browser, base_url: str) -> None:
        self.context: BrowserContext = browser.new_context(base_url=base_url, locale="en-US")
        self.context.set_default_timeout(15_000)
        self.context.add_init_script(RECORD_VIOLATIONS)
        self.page: Page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        self.visits: list[Visit] = []

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def log_in(self, username: str) -> None:
        self.page.goto("/accounts/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", PASSWORD)
        self.page.press("#id_password", "Enter")
        self.page.wait_for_url(lambda url: "/accounts/login/" not in url)
        self.record()

    def open(self, url: str, ready: str = "body") -> None:
        self.page.goto(url)
        self.page.wait_for_selector(ready)
        self.record()

    def record(self) -> None:
        # Let deferred scripts and htmx's first requests run before reading the record.
        self.page.wait_for_load_state("load")
        self.page.wait_for_timeout(300)
        violations = self.page.evaluate("window.__cspViolations || []")
        self.visits.append(Visit(self.page.url, list(violations), list(self.errors)))
        self.errors.clear()

    def problems(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for visit in self.visits:
            problems = [v for v in visit.violations if REDOCLY_LOGO not in v]
            problems += [e for e in visit.errors if _counts(e)]
            if problems:
                found.setdefault(visit.url, []).extend(problems)
        return found

    def close(self) -> None:
        self.page.evaluate("window.labeling && window.labeling.takeActiveSeconds()")
        self.context.close()


# Redoc shows Redocly's logo from their CDN; the policy refuses it, as it should (only this
# site's files load), and Redoc leaves it out. The one refusal expected, on /api/redoc/.
REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


# htmx logs a search request that a newer keystroke replaced (hx-sync="this:replace") as
# an error: on a loaded machine typing outruns the answers, and that is how it should work.
# It logs two, "htmx:afterRequest" and "htmx:sendAbort". Every failed request logs the
# first, always beside one that says how it failed (sendError, sendAbort, timeout), and
# only the abort is expected: the others still count.
SUPERSEDED_REQUEST = ("htmx:afterRequest", "htmx:sendAbort")


def _counts(error: str) -> bool:
    """Console errors that matter here: every one, except the browser's note about a
    response that was not a success (a favicon, a 404 page), the refused logo above and
    a superseded search request."""
    benign = ("Failed to load resource", REDOCLY_LOGO, *SUPERSEDED_REQUEST)
    return not any(known in error for known in benign)


@pytest.fixture
def recorder(browser: Browser, live_server: LiveServer) -> Iterator[Recorder]:
    made = Recorder(browser, live_server.url)
    yield made
    made.close()


def _pages_for_everyone(site: Site) -> list[str]:
    p, v = site.project.pk, site.labeled.pk
    return ["/", f"/projects/{p}/", f"/videos/{v}/"]


def test_the_crowd_pages_and_the_labeling_page_pass_the_policy(
    recorder: Recorder, site: Site, crowd: User
) -> None:
    recorder.log_in(crowd.username)
    for url in _pages_for_everyone(site):
        recorder.open(url)
    recorder.open(f"/projects/{site.project.pk}/label/", "#video-title")
    page = recorder.page
    page.keyboard.press("a")
    page.keyboard.press("/")
    page.keyboard.type("кулин")
    page.wait_for_selector("#tag-options [role=option]")
    page.keyboard.press("Enter")
    page.wait_for_selector(f'#decisions .decision-row[data-tag="{site.tags["cooking"].pk}"]')
    page.keyboard.press("Escape")  # leaves the search field
    page.keyboard.press("?")
    page.wait_for_selector("#help-dialog[open]")
    recorder.record()
    page.keyboard.press("?")
    page.locator("#submit-button").click()  # the page after the last video
    page.wait_for_url(lambda url: f"/videos/{site.labeled.pk}/label/" not in url)
    recorder.record()

    assert recorder.problems() == {}
    assert len(recorder.visits) >= 6


def test_the_expert_pages_with_review_and_models_pass_the_policy(
    recorder: Recorder, site: Site, expert: User
) -> None:
    p = site.project.pk
    recorder.log_in(expert.username)
    for url in [
        *_pages_for_everyone(site),
        f"/projects/{p}/videos/",
        f"/projects/{p}/review/",
        f"/projects/{p}/models/",
        f"/models/{site.promoted.pk}/",
        f"/projects/{p}/taxonomy/",
    ]:
        recorder.open(url)
    recorder.open(f"/videos/{site.disputed.pk}/review/", "#review-form")
    recorder.page.locator("#review-form input[name=tag]").first.check()
    recorder.record()

    assert recorder.problems() == {}


def test_the_admin_pages_with_progress_bars_and_the_django_admin_pass_the_policy(
    recorder: Recorder, site: Site, admin_user: User
) -> None:
    p = site.project.pk
    recorder.log_in(admin_user.username)
    recorder.open(f"/projects/{p}/models/", "progress.progress")  # the training's progress
    recorder.open(f"/videos/{site.processing.pk}/", "#processing")
    for url in [
        f"/videos/{site.labeled.pk}/",
        f"/projects/{p}/team/",
        f"/projects/{p}/audit/",
        f"/projects/{p}/videos/new/",
        f"/projects/{p}/taxonomy/",
        "/admin/",
        "/admin/annotations/video/",
        f"/admin/annotations/video/{site.labeled.pk}/change/",
        "/admin/axes/accessattempt/",
        "/admin/auth/user/add/",
    ]:
        recorder.open(url)

    assert recorder.problems() == {}


def test_the_login_lockout_and_the_api_docs_pass_the_policy(
    recorder: Recorder, crowd: User, settings: object
) -> None:
    recorder.open("/accounts/login/")
    recorder.open("/api/docs/", ".swagger-ui .info")
    recorder.open("/api/redoc/", "#redoc-container h1")
    page = recorder.page
    page.goto("/accounts/login/")
    for n in range(10):
        page.fill("#id_username", crowd.username)
        page.fill("#id_password", f"guess-{n}")
        page.press("#id_password", "Enter")
        page.wait_for_load_state("load")
    page.wait_for_selector("#locked-out")
    recorder.record()

    assert recorder.problems() == {}


def test_the_recorder_sees_an_inline_style_and_an_inline_script(
    recorder: Recorder, crowd: User
) -> None:
    """The listener works: what the policy refuses shows up as a problem of the page."""
    recorder.open("/accounts/login/")
    recorder.page.evaluate(
        """() => {
            document.body.setAttribute("style", "color: red");
            const script = document.createElement("script");
            script.textContent = "window.ran = true";
            document.body.append(script);
        }"""
    )
    recorder.record()

    problems = recorder.problems()["http://" + recorder.page.url.split("://", 1)[1]]
    assert any("style-src" in p for p in problems)
    assert any("script-src" in p for p in problems)
    assert recorder.page.evaluate("window.ran") is None
