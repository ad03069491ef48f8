"""The bulk import API reads bodies as large as its row limit needs.

Django's default limit (2.5 MB) answered 413 to 1,400 rows with short Russian
descriptions; MAX_REQUEST_BODY_BYTES (32 MB by default) covers 5,000 rows.
"""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.contrib.auth.models import User

from annotations.models import Project, Video
from tests.factories import client_for

pytestmark = pytest.mark.django_db

# A 300-character Russian description: 1,800 bytes once json.dumps escapes it.
DESCRIPTION = ("Описание видео про футбол и хоккей, " * 9)[:300]


def test_a_bulk_body_over_djangos_default_limit_is_read_and_imported(
    project: Project, expert: User
) -> None:
    rows = [
        {"video_id": f"b{n}", "title": f"Видео {n}", "description": DESCRIPTION}
        for n in range(2000)
    ]
    body = json.dumps({"rows": rows})
    assert 2.5 * 1024**2 < len(body.encode()) < settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    response = client_for(expert).post(
        f"/api/v1/projects/{project.pk}/videos/bulk/", body, content_type="application/json"
    )

    assert response.status_code == 200, response.content[:300]
    assert response.json()["imported"] == 2000
    assert Video.objects.filter(project=project).count() == 2000
