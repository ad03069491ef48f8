"""A real S3-compatible server for the tests: moto's standalone server, in a process of its own.

The object storage tests and the scale-out test store media in it through django-storages
(the production backend), exactly as with MinIO or a cloud bucket: nothing of ours is
mocked. Each test gets a bucket of its own (``S3Bucket``), so tests never see each other's
objects.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

REGION = "us-east-1"
# moto takes any credentials; these only have to be the same on both sides.
ACCESS_KEY = "test-access-key"
SECRET_KEY = "test-secret-key"
START_TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2):  # noqa: S310
            return True
    except (urllib.error.URLError, OSError):
        return False


class S3Server:
    """``python -m moto.server`` on a free port of 127.0.0.1; ``stop()`` ends it."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.endpoint = ""

    def start(self) -> S3Server:
        # A port found free may be taken before the server binds it: try another then.
        for _attempt in range(3):
            port = _free_port()
            with self.log.open("ab") as log:
                self.process = subprocess.Popen(
                    [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            self.endpoint = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + START_TIMEOUT
            while self.process.poll() is None and time.monotonic() < deadline:
                if _answers(self.endpoint):
                    return self
                time.sleep(0.2)
            self.stop()
        raise RuntimeError(f"moto's S3 server did not start:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def client(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )

    def new_bucket(self) -> S3Bucket:
        name = f"media-{uuid.uuid4().hex[:16]}"
        client = self.client()
        client.create_bucket(Bucket=name)
        return S3Bucket(self, name, client)


@dataclass(frozen=True)
class S3Bucket:
    server: S3Server
    name: str
    client: Any

    def keys(self, prefix: str = "") -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.name, Prefix=prefix
        )
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def read(self, key: str) -> bytes:
        return bytes(self.client.get_object(Bucket=self.name, Key=key)["Body"].read())

    def storages(self, staticfiles: dict[str, Any]) -> dict[str, Any]:
        """The STORAGES setting that MEDIA_STORAGE=s3 makes for this bucket."""
        return {
            "default": {
                "BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": {
                    "bucket_name": self.name,
                    "endpoint_url": self.server.endpoint,
                    "region_name": REGION,
                    "access_key": ACCESS_KEY,
                    "secret_key": SECRET_KEY,
                    "location": "",
                    "default_acl": None,
                    "file_overwrite": False,
                    "querystring_auth": True,
                },
            },
            "staticfiles": staticfiles,
        }

    def env(self) -> dict[str, str]:
        """The environment that gives another process the same storage (tagging_site.settings)."""
        return {
            "MEDIA_STORAGE": "s3",
            "AWS_STORAGE_BUCKET_NAME": self.name,
            "AWS_S3_ENDPOINT_URL": self.server.endpoint,
            "AWS_S3_REGION_NAME": REGION,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        }


def files_under(folder: Path) -> list[Path]:
    """Every file below ``folder`` (none when it does not exist)."""
    return sorted(path for path in folder.rglob("*") if path.is_file()) if folder.exists() else []


def running_server(log: Path) -> Iterator[S3Server]:
    server = S3Server(log).start()
    try:
        yield server
    finally:
        server.stop()
