"""Speech recognition with faster-whisper, and subtitles read from inside a media file.

The Whisper model is loaded once per process and per settings (`load_whisper` is
cached), so a worker pays for loading only on its first video. When no model can be
loaded (no network and nothing in the cache or the configured directory) the loader
raises `ModelUnavailable` with a message that says what to configure.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import av
import av.error

from ml.errors import ModelUnavailable
from ml.media import MediaError, open_container
from ml.subtitles import Segment

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

__all__ = [
    "AsrSettings",
    "Transcript",
    "embedded_subtitles",
    "load_whisper",
    "resolved_compute_type",
    "resolved_device",
    "transcribe",
]

# Language settings that mean "let Whisper detect it".
_DETECT = frozenset({"", "auto", "detect"})
_ASS_OVERRIDES = re.compile(r"\{[^}]*\}")
_MODEL_FILES = ("model.bin", "config.json", "tokenizer.json")


@dataclass(frozen=True)
class AsrSettings:
    model: str = "small"
    device: str = "auto"
    compute_type: str = "auto"
    language: str | None = "ru"
    vad_filter: bool = True
    beam_size: int = 5
    download_root: str | None = None
    local_files_only: bool = False

    @property
    def requested_language(self) -> str | None:
        """The language code to force, or None to let Whisper detect it."""
        if self.language is None or self.language.strip().lower() in _DETECT:
            return None
        return self.language.strip().lower()


@dataclass
class Transcript:
    segments: list[Segment]
    language: str | None
    duration: float
    producer: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return " ".join(segment.text for segment in self.segments)


def resolved_device(settings: AsrSettings) -> str:
    if settings.device != "auto":
        return settings.device
    import ctranslate2

    return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"


def resolved_compute_type(settings: AsrSettings) -> str:
    """The compute type to load with: "auto" means float16 on a GPU and int8 on a CPU."""
    if settings.compute_type != "auto":
        return settings.compute_type
    return "float16" if resolved_device(settings) == "cuda" else "int8"


def _unavailable(settings: AsrSettings, reason: str) -> ModelUnavailable:
    return ModelUnavailable(
        f"The speech recognition model {settings.model!r} cannot be loaded: {reason}. "
        "Set the Whisper model setting to a directory holding a CTranslate2-converted "
        "Whisper model (model.bin, config.json, tokenizer.json, preprocessor_config.json), "
        "or to a model name (such as 'small') that is already in the download folder, or "
        "let this machine download it from the Hugging Face Hub once."
    )


def _offline_errors() -> tuple[type[BaseException], ...]:
    """What faster-whisper, CTranslate2 and huggingface_hub raise when weights are missing."""
    from huggingface_hub.errors import EntryNotFoundError

    errors: list[type[BaseException]] = [OSError, ValueError, RuntimeError, EntryNotFoundError]
    try:
        import httpx

        errors.append(httpx.HTTPError)
    except ImportError:  # pragma: no cover - huggingface_hub brings httpx
        pass
    return tuple(errors)


@functools.lru_cache(maxsize=2)
def load_whisper(settings: AsrSettings) -> WhisperModel:
    """The Whisper model for these settings, loaded once per process."""
    from faster_whisper import WhisperModel

    location = Path(settings.model).expanduser()
    looks_like_path = settings.model.startswith((".", "/", "~")) or location.is_dir()
    if looks_like_path:
        if not location.is_dir():
            raise _unavailable(settings, f"there is no directory {location}")
        missing = [name for name in _MODEL_FILES if not (location / name).is_file()]
        if missing:
            raise _unavailable(settings, f"{location} lacks {', '.join(missing)}")
    try:
        return WhisperModel(
            str(location) if looks_like_path else settings.model,
            device=resolved_device(settings),
            compute_type=resolved_compute_type(settings),
            download_root=settings.download_root,
            local_files_only=settings.local_files_only,
        )
    except _offline_errors() as exc:
        raise _unavailable(settings, _reason(exc, settings)) from exc


def _reason(exc: BaseException, settings: AsrSettings) -> str:
    from huggingface_hub.errors import LocalEntryNotFoundError

    if isinstance(exc, LocalEntryNotFoundError):
        folder = settings.download_root or "the Hugging Face cache"
        return (
            f"it is not in {folder} and cannot be downloaded from here "
            "(no network, or downloads are switched off)"
        )
    lines = str(exc).strip().splitlines()
    return lines[0].rstrip(". ") if lines else type(exc).__name__


def _require_audio(path: Path) -> float:
    """The container's duration in seconds; MediaError if there is no audio to transcribe."""
    with open_container(path) as container:
        if not container.streams.audio:
            raise MediaError("no audio stream")
        return (container.duration or 0) / av.time_base


def transcribe(
    path: Path,
    settings: AsrSettings,
    *,
    progress: Callable[[float], None] | None = None,
) -> Transcript:
    """Transcribe the audio of `path`; `progress` gets the fraction of the audio covered.

    Raises ModelUnavailable when the model cannot be loaded and MediaError for a file
    without audio or that cannot be decoded.
    """
    _require_audio(path)
    model = load_whisper(settings)
    try:
        pieces, info = model.transcribe(
            str(path),
            language=settings.requested_language,
            vad_filter=settings.vad_filter,
            beam_size=settings.beam_size,
        )
        duration = float(info.duration)
        segments: list[Segment] = []
        for piece in pieces:
            start = min(max(0.0, float(piece.start)), duration)
            end = min(max(start, float(piece.end)), duration)
            text = " ".join(piece.text.split())
            if text:
                segments.append(Segment(round(start, 3), round(end, 3), text))
            if progress is not None and duration > 0:
                progress(min(1.0, end / duration))
    except (av.error.FFmpegError, IndexError) as exc:
        raise MediaError(f"the audio could not be decoded: {exc}") from None
    if progress is not None:
        progress(1.0)
    import faster_whisper

    return Transcript(
        segments=segments,
        language=info.language,
        duration=duration,
        producer={
            "engine": "faster-whisper",
            "engine_version": faster_whisper.__version__,
            "model": settings.model,
            "device": resolved_device(settings),
            "compute_type": resolved_compute_type(settings),
            "language": settings.requested_language,
            "detected_language": info.language,
            "language_probability": round(float(info.language_probability), 4),
            "vad_filter": settings.vad_filter,
            "beam_size": settings.beam_size,
        },
    )


def _subtitle_text(raw: bytes | str) -> str:
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    text = _ASS_OVERRIDES.sub("", text).replace("\\N", " ").replace("\\n", " ")
    return " ".join(text.split())


def _stream_segments(
    container: av.container.InputContainer, stream: av.stream.Stream
) -> list[Segment]:
    segments: list[Segment] = []
    time_base = stream.time_base
    if time_base is None:
        return segments
    for packet in container.demux(stream):
        if packet.pts is None:
            continue
        start = float(packet.pts * time_base)
        end = start + float((packet.duration or 0) * time_base)
        for subtitle in packet.decode():
            raw = getattr(subtitle, "dialogue", b"") or getattr(subtitle, "text", b"")
            text = _subtitle_text(raw)
            if text:
                segments.append(Segment(round(start, 3), round(max(start, end), 3), text))
    return segments


def embedded_subtitles(path: Path, *, language: str | None = None) -> list[Segment]:
    """Cues of the first text subtitle stream inside the file; [] when there is none.

    A stream tagged with `language` (ISO 639-1 or 639-2, "ru" or "rus") is preferred.
    Picture subtitles (DVD, Blu-ray) carry no text and are passed over.
    """
    with open_container(path) as container:
        streams = list(container.streams.subtitles)
        if language:
            wanted = language.lower()
            streams.sort(
                key=lambda s: not str(s.metadata.get("language", "")).lower().startswith(wanted[:2])
            )
        for stream in streams:
            try:
                segments = _stream_segments(container, stream)
            except (av.error.FFmpegError, ValueError):
                segments = []
            if segments:
                return sorted(segments, key=lambda s: (s.start, s.end))
            container.seek(0)
    return []
