"""Reading stored files (videos, subtitles, uploads, exports) wherever the storage keeps them.

The one way every reader takes, so that a worker needs no folder shared with the web
processes: with ``MEDIA_STORAGE=s3`` the files are only in the bucket.

* ``open_stored`` gives a stream that reads the file in chunks. (django-storages' own
  ``S3File`` would first download the whole object into memory.)
* ``local_copy`` gives a local path, for the libraries that need one (PyAV, OpenCV,
  faster-whisper). With local storage it is the file's own path, and nothing is copied.
  With object storage the file is streamed into the temporary folder, which while a job
  runs is the run's scratch folder (``JOB_SCRATCH_DIR``, set by the job lifecycle), and
  deleted as the block ends, failed or not; the scratch folder of a run whose worker died
  goes at the next sweep.
* ``LocalCopies`` keeps the copies of a run of several steps: each file is fetched once.

Every reader names its limit: a file over it is refused with ``StoredFileTooLarge``
before a byte of it is read, so a worker's disk is never filled by one file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Protocol

from django.db.models.fields.files import FieldFile

CHUNK_BYTES = 1024 * 1024


class StoredFileTooLarge(ValueError):
    """A stored file over the size limit of the code that reads it; the message says which."""


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


@dataclass
class OpenedFile:
    """A stored file open for reading in chunks; closed by ``with`` (or by a FileResponse)."""

    stream: Readable
    size: int

    def __enter__(self) -> OpenedFile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stream.close()


def _check_size(name: str, size: int, limit: int, limit_name: str) -> None:
    if size > limit:
        setting = f" ({limit_name})" if limit_name else ""
        raise StoredFileTooLarge(
            f"the stored file {name} is {size} bytes, over the limit of {limit} bytes{setting}; "
            "it was not copied"
        )


def open_stored(
    field_file: FieldFile, *, limit: int | None = None, limit_name: str = ""
) -> OpenedFile:
    """The stored file as a stream; FileNotFoundError if the storage lacks it.

    A download sent as it is read needs no ``limit``; a copy to disk does.
    """
    name = str(field_file.name)
    handle = field_file.storage.open(name, "rb")
    try:
        size = int(handle.size)
        if limit is not None:
            _check_size(name, size, limit, limit_name)
        # An S3File (django-storages) holds the object it asked about: its body is read
        # as it comes, where reading the S3File would download it whole into memory.
        remote = getattr(handle, "obj", None)
        if remote is None:
            return OpenedFile(handle, size)
        body: Readable = remote.get()["Body"]
    except BaseException:
        handle.close()
        raise
    handle.close()
    return OpenedFile(body, size)


def _local_path(field_file: FieldFile) -> Path | None:
    try:
        return Path(field_file.storage.path(str(field_file.name)))
    except NotImplementedError:  # object storage: no local path
        return None


@contextmanager
def local_copy(field_file: FieldFile, *, limit: int, limit_name: str = "") -> Iterator[Path]:
    """A local path to the stored file for the block: its own, or a copy removed afterwards."""
    name = str(field_file.name)
    local = _local_path(field_file)
    if local is not None:
        _check_size(name, local.stat().st_size, limit, limit_name)
        yield local
        return
    opened = open_stored(field_file, limit=limit, limit_name=limit_name)
    path: Path | None = None
    try:
        with opened:
            # mkstemp: in tempfile's folder, which the job lifecycle points at the run's scratch.
            descriptor, temp = tempfile.mkstemp(prefix="stored-", suffix=Path(name).suffix[:10])
            path = Path(temp)
            with os.fdopen(descriptor, "wb") as out:
                copied = 0
                while chunk := opened.stream.read(CHUNK_BYTES):
                    copied += len(chunk)
                    # Checked before; a file replaced since then is refused all the same.
                    _check_size(name, copied, limit, limit_name)
                    out.write(chunk)
        yield path
    finally:
        if path is not None:
            path.unlink(missing_ok=True)


class LocalCopies(ExitStack):
    """Local paths for a run of several steps: each file fetched once, all removed at the end."""

    def __init__(self) -> None:
        super().__init__()
        self._paths: dict[str, Path] = {}

    def path(self, field_file: FieldFile, *, limit: int, limit_name: str = "") -> Path:
        name = str(field_file.name)
        if name not in self._paths:
            self._paths[name] = self.enter_context(
                local_copy(field_file, limit=limit, limit_name=limit_name)
            )
        return self._paths[name]
