"""The OpenAPI schema: generated without warnings, complete, and fuzzed for server errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from pytest_django.fixtures import Settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from schemathesis.core.result import Ok

from annotations.models import Job, ModelVersion
from annotations.services.export import ExportFilters, export_request
from tests.api.conftest import Labeled, schema_of
from tests.factories import run_job_of

# Examples per operation and generation mode: enough to reach every validation
# branch of an endpoint, few enough to keep the run to seconds.
EXAMPLES = 4


def test_the_schema_generates_and_validates_without_warnings(tmp_path: Path) -> None:
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    assert schema["openapi"].startswith("3.")
    assert "tokenAuth" in schema["components"]["securitySchemes"]


def _api_routes() -> set[str]:
    """Every path under /api/v1/ that the URL configuration routes to an endpoint."""
    routes = set()

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern) and pattern.name not in (
                "api_not_found",
                "api_predict_no_slash",
            ):
                routes.add("/" + prefix + str(pattern.pattern))

    walk(get_resolver().url_patterns, "")
    return {route for route in routes if route.startswith("/api/v1/")}


def test_every_endpoint_is_in_the_schema(clients: dict[str, APIClient]) -> None:
    schema = schema_of(clients["anonymous"])
    documented = {path.replace("{", "<").replace("}", ">") for path in schema["paths"]}
    routed = {route.replace("<id:", "<").replace("<str:", "<") for route in _api_routes()}
    assert routed == documented


def test_the_docs_pages_load_without_a_cdn(clients: dict[str, APIClient]) -> None:
    # Swagger UI reads the schema's address from its start-up script, a file of its own.
    for url in ("/api/docs/", "/api/docs/?script=", "/api/redoc/"):
        page = clients["anonymous"].get(url).content.decode()
        assert "cdn." not in page and "jsdelivr" not in page and "googleapis" not in page
        if url != "/api/docs/":
            assert "/api/schema/" in page
    assert (
        clients["anonymous"]
        .get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
        .status_code
        == 200
    )


def _can_be_malformed(definition: dict[str, Any]) -> bool:
    """Whether an operation takes anything a request could get wrong (a body, a number...)."""
    if "requestBody" in definition:
        return True
    return any(
        parameter["in"] == "query" or parameter.get("schema", {}).get("type") != "string"
        for parameter in definition.get("parameters", [])
    )


def _json_error(response: Any) -> bool:
    try:
        return isinstance(response.json().get("detail"), str)
    except ValueError:
        return False


@pytest.fixture
def _keep_test_connection() -> Iterator[None]:
    """Calls straight into the WSGI app fire the request signals, whose handler would close
    the test's database connection (PostgreSQL's, inside the test transaction); Django's test
    client unhooks it the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.mark.django_db(transaction=False)
@pytest.mark.usefixtures("_keep_test_connection")
def test_fuzzing_every_operation_finds_no_server_error(
    labeled: Labeled, admin_user: User, settings: Settings, zero_shot_model: None
) -> None:
    import schemathesis
    from schemathesis import GenerationMode

    from tagging_site.wsgi import application

    settings.API_THROTTLE_RATES = {name: "100000/min" for name in settings.API_THROTTLE_RATES}
    token = Token.objects.create(user=admin_user).key
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
    failures: list[str] = []
    calls = 0
    version = ModelVersion.objects.create(project=labeled.project, number=1, state="candidate")
    snapshot = export_request(
        project=labeled.project, user=admin_user, fmt="csv", filters=ExportFilters()
    )
    run_job_of(Job.Kind.EXPORT, snapshot.pk)
    # Valid bodies go to objects that exist, so they get past the lookups; invalid
    # requests are aimed anywhere.
    real_ids = {
        "project_id": labeled.project.pk,
        "video_id": labeled.assigned.pk,
        "version_id": version.pk,
        "export_id": snapshot.pk,
        "job_id": f"export-{snapshot.pk}",
    }
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()
        pinned = {
            param.name: real_ids[param.name]
            for param in operation.path_parameters
            if param.name in real_ids
        }
        modes: list[tuple[GenerationMode, dict[str, Any] | None]] = [
            (GenerationMode.POSITIVE, pinned)
        ]
        if _can_be_malformed(operation.definition.raw):
            modes.append((GenerationMode.NEGATIVE, None))
        for mode, path_parameters in modes:
            strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)

            @given(case=strategy)
            @hypothesis_settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def call(case: Any) -> None:
                nonlocal calls
                calls += 1
                # DELETE /auth/token/ revokes the token: give it back for the next call.
                Token.objects.get_or_create(key=token, defaults={"user": admin_user})
                response = case.call(headers={"Authorization": f"Token {token}"})
                if response.status_code >= 500:
                    failures.append(f"{case.method} {case.formatted_path}: {response.text[:300]}")
                elif response.status_code >= 400 and not _json_error(response):
                    failures.append(
                        f"{case.method} {case.formatted_path}: {response.status_code} "
                        f"without a JSON error: {response.text[:200]!r}"
                    )

            call()
    assert not failures, "\n".join(failures)
    assert calls > 100
