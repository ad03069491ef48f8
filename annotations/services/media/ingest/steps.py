"""The steps of the ingest job, each a function of (video, files, progress) returning a message.

``files`` gives the steps local paths to the video's stored files (``LocalCopies``): with
object storage the media is fetched once per run into the run's scratch folder, so a
worker needs no folder shared with the web processes.

A step raises StepSkipped when it has nothing to do for this video (an audio-only
file has no keyframes), StepUnavailable when something it needs is missing but may
come later (no speech-recognition model on this machine: the step can be re-run), and
any other error when it failed. Each step replaces what it derived before, so running
it twice gives the same result, and none touches labels or annotations.

The heavy libraries (faster-whisper, OpenCV, pymorphy3) are imported inside the steps:
only worker processes pay for them, not every web process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction

from annotations.models import Keyframe, Tag, TranscriptSegment, Video, VideoFeatures
from annotations.services.media.video_import.single import MAX_SUBTITLE_BYTES
from annotations.services.stored_files import LocalCopies
from ml.media import MediaError, probe_media
from ml.subtitles import Segment, read_subtitles

if TYPE_CHECKING:
    from ml.frames import KeyframeImage
    from ml.text import TextMode

logger = logging.getLogger(__name__)

Progress = Callable[[float], None]


class StepSkipped(Exception):  # an outcome, not an error: hence no "Error" suffix
    """A step that has nothing to do for this video; the message says why."""


class StepUnavailable(Exception):  # an outcome, not an error: hence no "Error" suffix
    """A step that cannot run on this machine now; the video goes on without it."""


def _media_path(video: Video, files: LocalCopies) -> Path:
    if not video.source_file:
        raise StepSkipped("no media file: this video is labeled from its text alone")
    return files.path(
        video.source_file, limit=settings.MAX_UPLOAD_BYTES, limit_name="MAX_UPLOAD_BYTES"
    )


def _features(video: Video) -> VideoFeatures:
    features, _ = VideoFeatures.objects.get_or_create(video=video)
    return features


def probe(video: Video, files: LocalCopies, progress: Progress) -> str:
    info = probe_media(_media_path(video, files))
    if info.duration_seconds > settings.MAX_VIDEO_SECONDS:
        raise MediaError(
            f"the video is {info.duration_seconds / 3600:.1f} hours long, over the limit of "
            f"{settings.MAX_VIDEO_SECONDS / 3600:.1f} hours (MAX_VIDEO_SECONDS)"
        )
    video.apply_media_info(info)
    video.save(update_fields=[*Video.MEDIA_INFO_FIELDS, "metadata"])
    streams = " and ".join(
        name for name, present in (("video", info.has_video), ("audio", info.has_audio)) if present
    )
    return f"{info.duration_seconds:.1f} s, {streams}" + (
        f", {info.width}x{info.height}" if info.has_video else ""
    )


def _asr_settings() -> object:
    from ml.asr import AsrSettings

    language = settings.WHISPER_LANGUAGE
    return AsrSettings(
        model=settings.WHISPER_MODEL,
        device=settings.WHISPER_DEVICE,
        compute_type=settings.WHISPER_COMPUTE_TYPE,
        language=None if language == "detect" else language,
        vad_filter=settings.WHISPER_VAD_FILTER,
        beam_size=settings.WHISPER_BEAM_SIZE,
        batch_size=settings.WHISPER_BATCH_SIZE,
        download_root=settings.WHISPER_DOWNLOAD_ROOT,
        local_files_only=settings.WHISPER_LOCAL_FILES_ONLY,
    )


def _store_segments(
    video: Video, segments: list[Segment], source: str, producer: dict[str, object]
) -> None:
    with transaction.atomic():
        TranscriptSegment.objects.filter(video=video).delete()
        TranscriptSegment.objects.bulk_create(
            TranscriptSegment(
                video=video,
                index=index,
                start_seconds=segment.start,
                end_seconds=max(segment.end, segment.start),
                text=segment.text,
                source=source,
                producer=producer,
            )
            for index, segment in enumerate(segments)
        )


def transcript(video: Video, files: LocalCopies, progress: Progress) -> str:
    """Subtitles when there are some (a sidecar file, then a stream), else speech recognition."""
    if video.subtitles_file:
        segments = read_subtitles(
            files.path(video.subtitles_file, limit=MAX_SUBTITLE_BYTES, limit_name="subtitles")
        )
        name = Path(str(video.subtitles_file.name)).name
        _store_segments(video, segments, TranscriptSegment.Source.SIDECAR, {"file": name})
        return f"{len(segments)} segments from the subtitle file"
    path = _media_path(video, files)
    if not video.has_audio_stream:
        from ml.asr import embedded_subtitles

        segments = embedded_subtitles(path)
        if not segments:
            raise StepSkipped("no audio track and no subtitles: nothing to transcribe")
        _store_segments(video, segments, TranscriptSegment.Source.EMBEDDED, {"stream": "subtitle"})
        return f"{len(segments)} segments from the subtitle stream"
    from ml.asr import embedded_subtitles, transcribe
    from ml.errors import ModelUnavailable

    segments = embedded_subtitles(path)
    if segments:
        _store_segments(video, segments, TranscriptSegment.Source.EMBEDDED, {"stream": "subtitle"})
        return f"{len(segments)} segments from the subtitle stream"
    try:
        result = transcribe(path, _asr_settings(), progress=progress)  # type: ignore[arg-type]
    except ModelUnavailable as exc:
        raise StepUnavailable(
            f"speech recognition is not available: {exc} "
            "The video can be labeled without a transcript; "
            "re-run this step once the model is there."
        ) from None
    _store_segments(video, result.segments, TranscriptSegment.Source.ASR, result.producer)
    language = f" ({result.language})" if result.language else ""
    return f"{len(result.segments)} segments recognised{language}"


def _transcript_text(video: Video) -> str:
    return " ".join(video.transcript_segments.values_list("text", flat=True))


def text(video: Video, files: LocalCopies, progress: Progress) -> str:
    from ml.text import process_text, protected_words

    protected = protected_words(
        Tag.objects.filter(project=video.project_id).values_list("path", flat=True)
    )
    fields = {
        "title": video.title,
        "description": video.description,
        "transcript": _transcript_text(video),
    }
    # TEXT_MODE is one of lemma/stem/none: settings refuse any other value.
    text_mode = cast("TextMode", settings.TEXT_MODE)
    processed: dict[str, object] = {"mode": text_mode}
    for position, (name, value) in enumerate(fields.items(), start=1):
        processed[name] = process_text(value, mode=text_mode, protected=protected).text
        progress(position / len(fields))
    features = _features(video)
    features.text = processed
    features.save(update_fields=["text", "updated_at"])
    words = sum(len(str(processed[name]).split()) for name in fields)
    return f"{words} words after cleaning"


def summary(video: Video, files: LocalCopies, progress: Progress) -> str:
    from ml.summarize import summarize

    spoken = _transcript_text(video)
    if not spoken.strip():
        video.summary = ""
        video.save(update_fields=["summary"])
        raise StepSkipped("no transcript to summarise")
    video.summary = summarize(spoken, max_sentences=settings.SUMMARY_SENTENCES)
    video.save(update_fields=["summary"])
    return f"{len(video.summary)} characters"


def frames(video: Video, files: LocalCopies, progress: Progress) -> str:
    from ml.frames import FrameSettings, analyse_frames

    path = _media_path(video, files)
    if not video.has_video_stream:
        raise StepSkipped("audio-only file: no keyframes")
    analysis = analyse_frames(
        path,
        FrameSettings(
            every_nth=settings.FRAME_EVERY_NTH,
            max_keyframes=settings.MAX_KEYFRAMES,
            shot_threshold=settings.SHOT_THRESHOLD,
            decode_threads=settings.FRAME_DECODE_THREADS,
        ),
        progress=progress,
        face_detection=settings.FACE_DETECTION,
    )
    _replace_keyframes(video, analysis.keyframes)
    features = _features(video)
    features.visual = analysis.visual
    features.save(update_fields=["visual", "updated_at"])
    note = (
        " (the file is damaged after that point)" if getattr(analysis, "truncated", False) else ""
    )
    counts = f"{analysis.sampled} frames sampled, {analysis.shots} shots"
    return f"{counts}, {len(analysis.keyframes)} keyframes{note}"


def _replace_keyframes(video: Video, keyframes: Sequence[KeyframeImage]) -> None:
    old = list(Keyframe.objects.filter(video=video))
    _delete_unlisted_keyframe_files(video, {str(row.image.name) for row in old})
    stored: list[Keyframe] = []
    for index, keyframe in enumerate(keyframes):
        row = Keyframe(
            video=video,
            timestamp_seconds=round(keyframe.timestamp, 3),
            shot_index=keyframe.shot_index,
        )
        name = f"{index:03d}-{keyframe.timestamp:.2f}.jpg"
        row.image.save(name, ContentFile(keyframe.jpeg), save=False)
        stored.append(row)
    with transaction.atomic():
        Keyframe.objects.filter(pk__in=[row.pk for row in old]).delete()
        Keyframe.objects.bulk_create(stored)
    new_names = {row.image.name for row in stored}
    for row in old:
        if row.image.name and row.image.name not in new_names:
            row.image.storage.delete(row.image.name)


def _delete_unlisted_keyframe_files(video: Video, listed: set[str]) -> None:
    """Files of the video's keyframe folder that no row names: a run killed while storing."""
    storage = Keyframe._meta.get_field("image").storage
    folder = f"keyframes/{video.pk}"
    try:
        _folders, files = storage.listdir(folder)
    except (FileNotFoundError, NotImplementedError):
        return
    for name in files:
        if f"{folder}/{name}" not in listed:
            storage.delete(f"{folder}/{name}")


def audio(video: Video, files: LocalCopies, progress: Progress) -> str:
    from ml.audio import audio_features

    path = _media_path(video, files)
    if not video.has_audio_stream:
        raise StepSkipped("no audio track")
    values = audio_features(path, progress=progress)
    features = _features(video)
    features.audio = values
    features.save(update_fields=["audio", "updated_at"])
    speech = values.get("speech_ratio")
    return f"speech in {speech:.0%} of the audio" if isinstance(speech, float) else "done"


def image_embedding(video: Video, files: LocalCopies, progress: Progress) -> str:
    from ml.errors import ModelUnavailable
    from ml.image_embed import load_image_embedder

    if not settings.IMAGE_EMBEDDING_MODEL:
        raise StepSkipped("no image model configured (IMAGE_EMBEDDING_MODEL)")
    keyframes = list(video.keyframes.all())
    if not keyframes:
        raise StepSkipped("no keyframes to embed")
    try:
        embedder = load_image_embedder(settings.IMAGE_EMBEDDING_MODEL)
    except ModelUnavailable as exc:
        raise StepUnavailable(f"image model not available: {exc}") from None
    jpegs = []
    for keyframe in keyframes:
        with keyframe.image.open("rb") as handle:
            jpegs.append(handle.read())
    vectors = embedder.embed(jpegs)
    features = _features(video)
    features.image_embedding = [float(x) for x in vectors.mean(axis=0)]
    features.save(update_fields=["image_embedding", "updated_at"])
    return f"{vectors.shape[1]}-dimensional embedding from {len(jpegs)} keyframes"


def suggest(video: Video, files: LocalCopies, progress: Progress) -> str:
    from annotations.services.learning.suggestions import suggestions_refresh

    made = suggestions_refresh(video=video)
    return made.describe(confirmations=False)
