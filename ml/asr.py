"""Speech recognition with faster-whisper, and subtitles read from inside a media file.

The Whisper model is loaded once per process and per model, device and compute type
(`load_whisper` is cached), so a worker pays for loading only on its first video. When no
model can be loaded (no network and nothing in the cache or the configured directory) the
loader raises `ModelUnavailable` with a message that says what to configure.

`AsrSettings.batch_size` chooses how the audio is decoded: 0 runs faster-whisper's
sequential `WhisperModel.transcribe` (each 30-second window conditioned on the text
before it); a positive number wraps the same loaded model in a `BatchedInferencePipeline`,
which cuts the audio at the pauses the voice-activity filter finds and decodes that many
pieces at once. Batching is what a GPU needs to be kept busy; on a CPU it gains less.
Both give the same `Transcript`: segments in time order and the language.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import av
import av.error

from ml.errors import ModelUnavailable
from ml.media import MediaError, open_container
from ml.subtitles import Segment

if TYPE_CHECKING:
    from faster_whisper import WhisperModel
    from faster_whisper.transcribe import Segment as FwSegment
    from faster_whisper.transcribe import TranscriptionInfo

__all__ = [
    "AsrSettings",
    "Transcript",
    "embedded_subtitles",
    "load_whisper",
    "resolved_compute_type",
    "resolved_device",
    "transcribe",
    "word_error_rate",
]

# Language settings that mean "let Whisper detect it".
_DETECT = frozenset({"", "auto", "detect"})
_ASS_OVERRIDES = re.compile(r"\{[^}]*\}")
_MODEL_FILES = ("model.bin", "config.json", "tokenizer.json")
_WORD = re.compile(r"[\w']+")  # words of any script, apostrophes kept (don't)


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
    # Pieces of speech decoded at once by a BatchedInferencePipeline; 0: sequential.
    batch_size: int = 0

    def __post_init__(self) -> None:
        if self.batch_size < 0:
            raise ValueError(f"batch_size must be 0 (sequential) or more; got {self.batch_size}")
        if self.batch_size and not self.vad_filter:
            # faster-whisper's batched mode cuts the audio where the VAD hears pauses;
            # without it, it refuses audio over 30 s rather than cut through words.
            raise ValueError("batched speech recognition needs the voice-activity filter on")

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


def load_whisper(settings: AsrSettings) -> WhisperModel:
    """The Whisper model for these settings, loaded once per process.

    Only what the weights depend on keys the cache: settings that differ in language,
    beam or batch size share one loaded model.
    """
    return _load_whisper(
        replace(settings, language=None, vad_filter=True, beam_size=5, batch_size=0)
    )


@functools.lru_cache(maxsize=2)
def _load_whisper(settings: AsrSettings) -> WhisperModel:
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
        pieces, info = _recognise(model, path, settings)
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
            "batch_size": settings.batch_size,
        },
    )


def _recognise(
    model: WhisperModel, path: Path, settings: AsrSettings
) -> tuple[Iterable[FwSegment], TranscriptionInfo]:
    """faster-whisper's lazy segments and the audio's facts, sequential or batched."""
    options: dict[str, Any] = {
        "language": settings.requested_language,
        "vad_filter": settings.vad_filter,
        "beam_size": settings.beam_size,
    }
    if not settings.batch_size:
        return model.transcribe(str(path), **options)
    from faster_whisper import BatchedInferencePipeline

    # The pipeline only holds the model (and a timestamp reset after every file), so a
    # new one per file costs nothing. Timestamps on: otherwise each piece of up to 30 s
    # would come back as one segment, too coarse to follow the video by.
    return BatchedInferencePipeline(model).transcribe(
        str(path), batch_size=settings.batch_size, without_timestamps=False, **options
    )


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Word-level edit distance over the reference's length, ignoring case and punctuation.

    Words are runs of letters and digits in any script, so Russian is measured as English.
    """
    ref, hyp = _words(reference), _words(hypothesis)
    previous = list(range(len(hyp) + 1))
    for i, word in enumerate(ref, start=1):
        current = [i]
        for j, heard in enumerate(hyp, start=1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (word != heard))
            )
        previous = current
    return previous[-1] / max(1, len(ref))


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


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
