"""Label Studio's import of the same manifest, timed through its HTTP API in the same run.

The figure users compare us with depends on the machine as much as on the code, so
`bench.imports --label-studio URL` measures a running Label Studio here, beside our
import, instead of quoting a number from elsewhere. Each run creates a project with one
single-choice question over the manifest's tags, times one
``POST /api/projects/<id>/import`` of every row as a task (the call returns once the
tasks are stored), checks the task count through the API and deletes the project.
Label Studio's API token comes from the ``LABEL_STUDIO_TOKEN`` environment variable
(a legacy token, sent as ``Authorization: Token ...``).

Only the standard library: the bench must not need Label Studio's packages.
"""

from __future__ import annotations

import csv
import json
import os
import statistics
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr


class LabelStudioError(Exception):
    pass


@dataclass
class LabelStudioRuns:
    version: str
    rows: int
    with_predictions: bool
    seconds: list[float] = field(default_factory=list)

    def per_second(self) -> list[float]:
        return [self.rows / s for s in self.seconds]

    def median_per_second(self) -> float:
        return statistics.median(self.per_second())


class _Client:
    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url.rstrip("/"), token

    def call(self, method: str, path: str, body: bytes | None = None) -> Any:
        request = urllib.request.Request(self.url + path, data=body, method=method)  # noqa: S310
        request.add_header("Authorization", f"Token {self.token}")
        if body is not None:
            request.add_header("Content-Type", "application/json; charset=utf-8")
        try:
            with urllib.request.urlopen(request, timeout=3600) as response:  # noqa: S310
                payload = response.read()
        except (urllib.error.URLError, OSError) as exc:
            detail = exc.read()[:500].decode(errors="replace") if hasattr(exc, "read") else ""
            raise LabelStudioError(f"{method} {path}: {exc} {detail}".strip()) from None
        return json.loads(payload) if payload else None


def _label_config(tags: list[str]) -> str:
    choices = "\n".join(f"    <Choice value={quoteattr(tag)}/>" for tag in tags)
    return (
        '<View>\n  <Header value="$title"/>\n  <Text name="text" value="$description"/>\n'
        '  <Choices name="tag" toName="text" choice="single">\n'
        f"{choices}\n  </Choices>\n</View>"
    )


def _task(row: dict[str, str], *, prediction: bool) -> dict[str, Any]:
    task: dict[str, Any] = {"data": {"title": row["title"], "description": row["description"]}}
    if prediction:
        choice = {"choices": [row["tags"]]}
        result = {"from_name": "tag", "to_name": "text", "type": "choices", "value": choice}
        task["predictions"] = [{"model_version": "v1", "score": 0.5, "result": [result]}]
    return task


def label_studio_import(url: str, manifest: Path, runs: int) -> list[LabelStudioRuns]:
    """Time ``runs`` imports of the manifest's rows into fresh Label Studio projects.

    Twice: tasks alone, then each with a prediction of its row's tag (as our rows bring
    their tag, which we store as a confirmed label with its history entry).
    """
    token = os.environ.get("LABEL_STUDIO_TOKEN", "")
    if not token:
        raise LabelStudioError("set LABEL_STUDIO_TOKEN to the Label Studio user's API token")
    with manifest.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    config = _label_config(sorted({row["tags"] for row in rows}))
    client = _Client(url, token)
    version = str((client.call("GET", "/api/version") or {}).get("release", "?"))
    # An untimed import of a hundred tasks first loads the server's lazy modules.
    _import(client, config, [_task(row, prediction=True) for row in rows[:100]])
    measured = []
    for prediction in (False, True):
        tasks = [_task(row, prediction=prediction) for row in rows]
        result = LabelStudioRuns(version, len(rows), prediction)
        result.seconds = [_import(client, config, tasks) for _ in range(runs)]
        measured.append(result)
    return measured


def _import(client: _Client, config: str, tasks: list[dict[str, Any]]) -> float:
    """Seconds one import of ``tasks`` into a new project took; the project is deleted."""
    body = json.dumps(tasks, ensure_ascii=False).encode()
    settings = {"title": f"bench-import {time.strftime('%H%M%S')}", "label_config": config}
    project = client.call("POST", "/api/projects", json.dumps(settings).encode())
    started = time.perf_counter()
    client.call("POST", f"/api/projects/{project['id']}/import", body)
    seconds = time.perf_counter() - started
    stored = client.call("GET", f"/api/projects/{project['id']}").get("task_number")
    client.call("DELETE", f"/api/projects/{project['id']}")
    if stored != len(tasks):
        raise LabelStudioError(f"Label Studio stored {stored} of {len(tasks)} tasks")
    return seconds
