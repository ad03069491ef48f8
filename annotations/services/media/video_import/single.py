"""One video at a time: an upload, a row with a file or a URL, a prediction's upload.

Every source goes the same way: fetch into a local file, probe it with PyAV, hash
it, and only then store it and create the Video in a transaction. A video already in
the project (same external id, same file, or for a text-only row the same title and
description) is refused with VideoImportError.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction

from annotations.models import (
    ConfirmedLabel,
    Job,
    LabelChange,
    LabelSource,
    Project,
    Tag,
    Video,
)
from annotations.models.videos import queue_uncertainty
from annotations.services.jobs.lifecycle import job_request
from annotations.services.media.sources import (
    SourceRejected,
    download_url,
    resolve_import_path,
)
from annotations.services.search import search_documents_requested
from ml.media import MediaError, MediaInfo, probe_media, sha256_of
from ml.subtitles import find_sidecar
from ml.taxonomy import normalize_path

logger = logging.getLogger(__name__)

MEDIA_SUFFIXES = {
    ".mp4",
    ".mkv",
    ".webm",
    ".mov",
    ".avi",
    ".m4v",
    ".mpg",
    ".mpeg",
    ".ts",
    ".flv",
    ".m4a",
    ".mp3",
    ".wav",
    ".ogg",
    ".opus",
}

# A subtitle file is text: anything larger is not subtitles (and is not copied into media).
MAX_SUBTITLE_BYTES = 20 * 1024**2


class VideoImportError(ValueError):
    """A video that cannot be imported; the message says why."""


@dataclass
class LocalMedia:
    path: Path
    info: MediaInfo
    sha256: str
    source_name: str
    subtitles: Path | None = None
    temporary: bool = False

    def discard(self) -> None:
        if self.temporary:
            self.path.unlink(missing_ok=True)


@dataclass(frozen=True)
class ResolvedTags:
    """What a row's tag paths name: the tags to confirm, and the paths left out."""

    tags: tuple[Tag, ...] = ()
    unknown: tuple[str, ...] = ()  # no tag of the project: kept in the video's metadata
    deprecated: tuple[str, ...] = ()  # a deprecated tag: not applied

    @property
    def warnings(self) -> list[str]:
        return [f"unknown tag {path!r} kept in metadata only" for path in self.unknown] + [
            f"tag {path!r} is deprecated; not applied" for path in self.deprecated
        ]


class TagResolver:
    """Finds a project's tags by path, forgiving spacing and letter case.

    A path naming a merged tag stands for the tag it was merged into (followed to the
    end of a chain of merges); a deprecated tag is reported, never confirmed anew.
    """

    # A manifest repeats a few tag lists over and over: each is worked out once (up to
    # this many different lists, so memory stays bounded on a million rows).
    MEMO_SIZE = 10_000

    def __init__(self, project: Project) -> None:
        tags = list(Tag.objects.filter(project=project))
        self._by_pk = {tag.pk: tag for tag in tags}
        self._by_key = {self._key(tag.path): tag for tag in tags}
        self._memo: dict[tuple[str, ...], ResolvedTags] = {}

    @staticmethod
    def _key(path: str) -> str:
        return normalize_path(path).casefold()

    def resolve(self, paths: Iterable[str]) -> ResolvedTags:
        """The tags to confirm (each once), the paths that name none, the deprecated ones."""
        wanted = tuple(paths)
        known = self._memo.get(wanted)
        if known is None:
            known = self._resolve(wanted)
            if len(self._memo) < self.MEMO_SIZE:
                self._memo[wanted] = known
        return known

    def _merged_end(self, tag: Tag) -> Tag:
        """The tag its labels went to: ``tag``, or the last of the merges it went through."""
        seen = {tag.pk}
        while tag.merged_into_id is not None and tag.merged_into_id not in seen:
            following = self._by_pk.get(tag.merged_into_id)
            if following is None:
                break
            seen.add(following.pk)
            tag = following
        return tag

    def _resolve(self, paths: tuple[str, ...]) -> ResolvedTags:
        found: list[Tag] = []
        unknown: list[str] = []
        deprecated: list[str] = []
        for path in paths:
            named = self._by_key.get(self._key(path))
            tag = self._merged_end(named) if named is not None else None
            if tag is None:
                unknown.append(path)
            elif not tag.active:
                deprecated.append(path)
            elif tag not in found:
                found.append(tag)
        return ResolvedTags(tuple(found), tuple(unknown), tuple(deprecated))


def _is_url(source: str) -> bool:
    return "://" in source


def media_prepare(*, source: str, base_dir: Path | None, subtitles: str = "") -> LocalMedia:
    """A local, probed, hashed copy (or the original, for files in an import root)."""
    if _is_url(source):
        path = download_url(
            source,
            max_bytes=settings.MAX_UPLOAD_BYTES,
            timeout=settings.URL_IMPORT_TIMEOUT_SECONDS,
            allowlist=settings.URL_IMPORT_ALLOWLIST,
        )
        temporary = True
    else:
        path = resolve_import_path(source, roots=settings.IMPORT_ROOTS, base=base_dir)
        temporary = False
    try:
        info = probe_media(path, max_bytes=settings.MAX_UPLOAD_BYTES)
        sidecar = (
            resolve_import_path(subtitles, roots=settings.IMPORT_ROOTS, base=base_dir)
            if subtitles
            else (None if temporary else _sidecar_next_to(path))
        )
        if sidecar is not None:
            _check_subtitles_size(sidecar)
        return LocalMedia(path, info, sha256_of(path), source, sidecar, temporary)
    except BaseException:
        if temporary:
            path.unlink(missing_ok=True)
        raise


def _sidecar_next_to(media: Path) -> Path | None:
    """The subtitle file beside the media, held to the same rule: its real path (links
    followed) must lie inside an import root, or the row fails saying so."""
    found = find_sidecar(media)
    if found is None:
        return None
    try:
        return resolve_import_path(str(found), roots=settings.IMPORT_ROOTS)
    except SourceRejected as exc:
        raise SourceRejected(f"the subtitle file next to the media: {exc}") from None


def _check_subtitles_size(path: Path) -> None:
    size = path.stat().st_size
    if size > MAX_SUBTITLE_BYTES:
        raise SourceRejected(
            f"the subtitle file {path.name} is {size} bytes; subtitles over "
            f"{MAX_SUBTITLE_BYTES // 1024**2} MB are not imported"
        )


def _existing_video(
    project: Project, *, external_id: str, sha256: str, title: str = "", description: str = ""
) -> Video | None:
    videos = Video.objects.filter(project=project)
    if external_id:
        found = videos.filter(external_id=external_id).first()
        if found is not None:
            return found
    if sha256:
        return videos.filter(sha256=sha256).first()
    if not external_id:
        # A text-only row with no id has only its text to be recognised by.
        return videos.filter(
            external_id="", sha256="", title=title, description=description
        ).first()
    return None


def without_nul(value: Any) -> Any:
    """The value with NUL characters dropped from every string in it.

    PostgreSQL cannot store NUL in text or JSON; it carries no meaning in a title or a
    metadata value, so dropping it loses nothing a person wrote.
    """
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {without_nul(key): without_nul(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [without_nul(item) for item in value]
    return value


def video_create(
    *,
    project: Project,
    title: str,
    description: str = "",
    external_id: str = "",
    tag_paths: Iterable[str] = (),
    metadata: dict[str, object] | None = None,
    media: LocalMedia | None = None,
    user: User | None = None,
    resolver: TagResolver | None = None,
) -> tuple[Video, list[str]]:
    """Store one video with its imported labels; returns it and any warnings.

    Raises VideoImportError when the project already has it.
    """
    title, description, external_id = (without_nul(t) for t in (title, description, external_id))
    metadata = without_nul(metadata)
    duplicate = _existing_video(
        project,
        external_id=external_id,
        sha256=media.sha256 if media else "",
        title=title,
        description=description,
    )
    if duplicate is not None:
        raise VideoImportError(f"already imported as video #{duplicate.pk} ({duplicate.title})")
    resolved = (resolver or TagResolver(project)).resolve(tag_paths)
    video = Video(
        project=project,
        title=(title or (Path(media.source_name).stem if media else ""))[:500],
        description=description,
        external_id=external_id,
        metadata=dict(metadata or {}),
        uncertainty=queue_uncertainty(confirmed=bool(resolved.tags)),
    )
    if tag_paths:
        video.metadata["original_tags"] = list(tag_paths)
    if resolved.unknown:
        video.metadata["unknown_tags"] = list(resolved.unknown)
    stored: list[str] = []
    try:
        with transaction.atomic():
            if media is not None:
                _attach_media(video, media, stored)
            video.save()
            labels = [
                ConfirmedLabel(video=video, tag=tag, source=LabelSource.IMPORT, confirmed_by=user)
                for tag in resolved.tags
            ]
            ConfirmedLabel.objects.bulk_create(labels)
            LabelChange.objects.bulk_create(label.added_change() for label in labels)
            job_request(kind=Job.Kind.INGEST, project=project, object_id=video.pk, user=user)
            search_documents_requested()
    except IntegrityError:
        # Another import stored the same video between our check and our insert.
        _delete_stored(stored)
        raise VideoImportError("already imported (by a concurrent import)") from None
    except BaseException:
        _delete_stored(stored)
        raise
    return video, resolved.warnings


def _attach_media(video: Video, media: LocalMedia, stored: list[str]) -> None:
    video.sha256 = media.sha256
    video.source_name = media.source_name[:2000]
    video.apply_media_info(media.info)
    with media.path.open("rb") as handle:
        video.source_file.save(media.path.name, File(handle), save=False)
    stored.append(str(video.source_file.name))
    if media.subtitles is not None:
        with media.subtitles.open("rb") as handle:
            video.subtitles_file.save(media.subtitles.name, File(handle), save=False)
        stored.append(str(video.subtitles_file.name))


def _delete_stored(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


def video_import_upload(
    *,
    project: Project,
    upload: UploadedFile,
    title: str = "",
    description: str = "",
    tag_paths: Iterable[str] = (),
    user: User | None = None,
) -> tuple[Video, list[str]]:
    """Import a file uploaded through the browser or the API; raises VideoImportError."""
    if upload.size is not None and upload.size > settings.MAX_UPLOAD_BYTES:
        raise VideoImportError(
            f"the file is {upload.size} bytes, over the limit of {settings.MAX_UPLOAD_BYTES}"
        )
    name = Path(upload.name or "upload").name
    with tempfile.NamedTemporaryFile(delete=False, suffix=Path(name).suffix[:10]) as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    temp = Path(handle.name)
    try:
        try:
            info = probe_media(temp, max_bytes=settings.MAX_UPLOAD_BYTES)
        except MediaError as exc:
            raise VideoImportError(str(exc)) from None
        media = LocalMedia(temp, info, sha256_of(temp), name, None, temporary=True)
        return video_create(
            project=project,
            title=title or Path(name).stem,
            description=description,
            tag_paths=list(tag_paths),
            media=media,
            user=user,
        )
    finally:
        temp.unlink(missing_ok=True)
