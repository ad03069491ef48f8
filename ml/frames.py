"""Keyframes and visual features of a video, from every Nth frame, decoded once in order.

Every frame is grabbed (an H.264 decoder has to decode them all anyway) but only every
Nth is converted to an image; seeking would cost more than it saves. Faces are counted on
at most one sample a second: the Haar cascade costs more than decoding the frame, and the
people in a picture change more slowly than the samples come. A shot change is
a jump in the colour histogram between consecutive samples. Each shot keeps one
representative frame (near its middle), and the longest shots give the keyframe strip.
Nothing larger than a few thumbnails is held in memory, whatever the video's length.
"""

from __future__ import annotations

import functools
import heapq
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import av
import cv2
import numpy as np
import numpy.typing as npt

from ml.media import MediaError, open_container

__all__ = [
    "FrameAnalysis",
    "FrameSettings",
    "KeyframeImage",
    "analyse_frames",
    "face_detector_available",
    "visual_feature_keys",
]

Image = npt.NDArray[Any]
PathLike = str | os.PathLike[str]

_ANALYSIS_WIDTH = 160  # colour, brightness and edges: a fixed size keeps videos comparable
_MOTION_WIDTH = 64
_FACE_WIDTH = 320
_FACE_EVERY_SECONDS = 1.0
_HUE_BINS, _SAT_BINS, _VAL_BINS = 8, 4, 4
# Joint histogram for shot changes: finer in hue, where cuts between scenes show most.
_SHOT_BINS = [16, 4, 4]
_HSV_RANGES = [0, 180, 0, 256, 0, 256]
# Thumbnails kept per shot while it lasts; evenly spaced, so the middle one is near the
# middle of the shot.
_SHOT_BUFFER = 16
# A file that stops this far short of the frames its index promises is called truncated.
_TRUNCATION_SLACK = 0.02


@dataclass(frozen=True)
class FrameSettings:
    every_nth: int = 10
    max_keyframes: int = 12
    shot_threshold: float = 0.5
    thumbnail_width: int = 320
    jpeg_quality: int = 85
    max_pixels: int = 3840 * 2160

    def __post_init__(self) -> None:
        if self.every_nth < 1 or self.max_keyframes < 0 or self.thumbnail_width < 16:
            raise ValueError("every_nth >= 1, max_keyframes >= 0 and thumbnail_width >= 16")
        if not 0 < self.shot_threshold <= 1 or not 1 <= self.jpeg_quality <= 100:
            raise ValueError("shot_threshold in (0, 1] and jpeg_quality in [1, 100]")


@dataclass(frozen=True)
class KeyframeImage:
    timestamp: float
    shot_index: int
    jpeg: bytes


@dataclass
class FrameAnalysis:
    keyframes: list[KeyframeImage]
    visual: dict[str, float]
    sampled: int
    shots: int
    duration: float
    truncated: bool = False
    # "haar" when faces were counted; None when face detection was off or unavailable.
    face_detector: str | None = None
    notes: list[str] = field(default_factory=list)


def visual_feature_keys(*, faces: bool = True) -> tuple[str, ...]:
    """The keys of `FrameAnalysis.visual`, in a fixed order."""
    per_sample = [
        *(f"hsv_h{i}" for i in range(_HUE_BINS)),
        *(f"hsv_s{i}" for i in range(_SAT_BINS)),
        *(f"hsv_v{i}" for i in range(_VAL_BINS)),
        "brightness",
        "contrast",
        "edges",
        "motion",
        *(["faces"] if faces else []),
    ]
    return (*(f"{name}_{stat}" for name in per_sample for stat in ("mean", "max")), "shot_rate")


@functools.lru_cache(maxsize=1)
def _face_cascade() -> Any:
    """OpenCV's frontal-face Haar cascade, loaded once; None where this OpenCV has none."""
    classifier = getattr(cv2, "CascadeClassifier", None)
    folder = getattr(getattr(cv2, "data", None), "haarcascades", None)
    if classifier is None or not folder:
        return None
    cascade = classifier(os.path.join(folder, "haarcascade_frontalface_default.xml"))
    return None if cascade.empty() else cascade


def face_detector_available() -> bool:
    return _face_cascade() is not None


# --- the video's facts, from its container ------------------------------------------------


@dataclass(frozen=True)
class _VideoFacts:
    width: int
    height: int
    fps: float
    frames: int  # as the container's index says; 0 when it does not say
    duration: float


def _video_facts(path: PathLike) -> _VideoFacts:
    with open_container(path) as container:
        if not container.streams.video:
            raise MediaError("no video stream")
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate
        fps = float(rate) if rate else 0.0
        duration = (container.duration or 0) / av.time_base
        if stream.duration is not None and stream.time_base is not None:
            duration = max(duration, float(stream.duration * stream.time_base))
        frames = int(stream.frames or 0) or (round(duration * fps) if fps else 0)
        width, height = stream.codec_context.width, stream.codec_context.height
    return _VideoFacts(width, height, fps, frames, duration)


# --- per-sample measurements --------------------------------------------------------------


def _shrink(image: Image, width: int) -> Image:
    """`image` scaled down to `width` (aspect kept); a narrower image is returned as it is.

    Halving with bilinear interpolation averages 2x2 blocks, so a chain of halvings
    filters like INTER_AREA at a fraction of its cost for large factors.
    """
    height, current = image.shape[:2]
    while current >= 2 * width:
        current, height = current // 2, max(1, height // 2)
        image = cv2.resize(image, (current, height), interpolation=cv2.INTER_LINEAR)
    if current > width:
        size = (width, max(1, round(height * width / current)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
    return image


def _marginal_histogram(hsv: Image, channel: int, bins: int, top: int) -> npt.NDArray[np.float64]:
    counts = cv2.calcHist([hsv], [channel], None, [bins], [0, top]).ravel()
    total = float(counts.sum())
    return (counts / total if total else counts).astype(np.float64)


class _Measures:
    """Per-sample values, accumulated as running means and maxima."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.total = np.zeros(len(names))
        self.peak = np.full(len(names), -np.inf)
        self.count = 0

    def add(self, values: npt.NDArray[np.float64]) -> None:
        self.total += values
        self.peak = np.maximum(self.peak, values)
        self.count += 1

    def pooled(self) -> dict[str, float]:
        pooled: dict[str, float] = {}
        for i, name in enumerate(self.names):
            mean = self.total[i] / self.count if self.count else 0.0
            peak = self.peak[i] if self.count else 0.0
            pooled[f"{name}_mean"] = round(float(mean), 6)
            pooled[f"{name}_max"] = round(float(peak), 6)
        return pooled


# --- shots and their representative frames ------------------------------------------------


@dataclass
class _Shot:
    index: int
    start: float
    samples: int = 0
    stride: int = 1
    # (sample number within the shot, timestamp, thumbnail), evenly spaced by `stride`.
    kept: list[tuple[int, float, Image]] = field(default_factory=list)

    def add(self, timestamp: float, thumbnail: Callable[[], Image]) -> None:
        if self.samples % self.stride == 0:
            self.kept.append((self.samples, timestamp, thumbnail()))
            if len(self.kept) > _SHOT_BUFFER:
                self.stride *= 2
                self.kept = [entry for entry in self.kept if entry[0] % self.stride == 0]
        self.samples += 1

    def representative(self) -> tuple[float, Image]:
        middle = (self.samples - 1) / 2
        _, timestamp, image = min(self.kept, key=lambda entry: abs(entry[0] - middle))
        return timestamp, image


class _LongestShots:
    """The representative frames of the `limit` longest shots seen so far."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.heap: list[tuple[int, int, float, Image]] = []

    def offer(self, shot: _Shot) -> None:
        if self.limit == 0 or not shot.kept:
            return
        timestamp, image = shot.representative()
        # Among shots of equal length the earlier one wins (a larger -index is "longer").
        entry = (shot.samples, -shot.index, timestamp, image)
        if len(self.heap) < self.limit:
            heapq.heappush(self.heap, entry)
        elif entry[:2] > self.heap[0][:2]:
            heapq.heapreplace(self.heap, entry)

    def keyframes(self, quality: int) -> list[KeyframeImage]:
        frames = []
        for _, negative_index, timestamp, image in sorted(self.heap, key=lambda e: e[2]):
            ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
            if ok:
                frames.append(
                    KeyframeImage(round(timestamp, 3), -negative_index, encoded.tobytes())
                )
        return frames


def _thumbnail(frame: Image, base: Image, width: int) -> Image:
    return base if base.shape[1] == min(width, frame.shape[1]) else _shrink(frame, width)


# --- the pass over the video --------------------------------------------------------------


def _open_capture(path: PathLike) -> cv2.VideoCapture:
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    if not capture.isOpened():
        raise MediaError("the video stream cannot be decoded")
    return capture


def analyse_frames(
    path: PathLike,
    settings: FrameSettings,
    *,
    progress: Callable[[float], None] | None = None,
    face_detection: bool = True,
) -> FrameAnalysis:
    """Keyframes and pooled visual features of the video at `path`.

    Raises MediaError for a file without a video stream, with frames over
    `settings.max_pixels`, or with no decodable frame. A file cut off part-way gives the
    frames before the damage, with `truncated` set.
    """
    facts = _video_facts(path)
    if facts.width * facts.height > settings.max_pixels:
        raise MediaError(
            f"the video's frames are {facts.width}x{facts.height}, more than the limit of "
            f"{settings.max_pixels:,} pixels per frame"
        )
    cascade = _face_cascade() if face_detection else None
    notes: list[str] = []
    if face_detection and cascade is None:
        notes.append(
            f"faces not counted: OpenCV {cv2.__version__} ships no Haar cascade (OpenCV 4.x does)"
        )
    names = [
        *(f"hsv_h{i}" for i in range(_HUE_BINS)),
        *(f"hsv_s{i}" for i in range(_SAT_BINS)),
        *(f"hsv_v{i}" for i in range(_VAL_BINS)),
        "brightness",
        "contrast",
        "edges",
    ]
    measures = _Measures(names)
    faces = _Measures(["faces"])
    next_face_count = 0.0
    motion = _Measures(["motion"])
    longest = _LongestShots(settings.max_keyframes)

    capture = _open_capture(path)
    fps = facts.fps or capture.get(cv2.CAP_PROP_FPS) or 25.0
    frame_index = 0
    sampled = 0
    shot: _Shot | None = None
    shots = 0
    previous_histogram: Image | None = None
    previous_grey: Image | None = None
    last_timestamp = 0.0
    reported = 0.0
    try:
        while capture.grab():
            index = frame_index
            frame_index += 1
            if index % settings.every_nth:
                continue
            ok, frame = capture.retrieve()
            if not ok or frame is None:
                continue
            position = capture.get(cv2.CAP_PROP_POS_MSEC)
            timestamp = position / 1000 if position > 0 else index / fps
            last_timestamp = timestamp
            sampled += 1

            base = _shrink(frame, _FACE_WIDTH)
            small = _shrink(base, _ANALYSIS_WIDTH)
            hsv = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)
            grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
            values = [
                *_marginal_histogram(hsv, 0, _HUE_BINS, 180),
                *_marginal_histogram(hsv, 1, _SAT_BINS, 256),
                *_marginal_histogram(hsv, 2, _VAL_BINS, 256),
                float(grey.mean()) / 255,
                float(grey.std()) / 255,
                float(np.count_nonzero(cv2.Canny(grey, 100, 200))) / grey.size,
            ]
            measures.add(np.asarray(values))
            if cascade is not None and timestamp >= next_face_count:
                next_face_count = timestamp + _FACE_EVERY_SECONDS
                face_grey = cv2.cvtColor(base, cv2.COLOR_BGR2GRAY)
                found = cascade.detectMultiScale(
                    face_grey, scaleFactor=1.15, minNeighbors=5, minSize=(20, 20)
                )
                faces.add(np.asarray([float(len(found))]))

            tiny = _shrink(grey, _MOTION_WIDTH).astype(np.float32)
            if previous_grey is not None and previous_grey.shape == tiny.shape:
                motion.add(np.asarray([float(np.abs(tiny - previous_grey).mean()) / 255]))
            previous_grey = tiny

            histogram = cv2.calcHist([hsv], [0, 1, 2], None, _SHOT_BINS, _HSV_RANGES)
            cv2.normalize(histogram, histogram, alpha=1.0, norm_type=cv2.NORM_L1)
            cut = previous_histogram is not None and (
                cv2.compareHist(previous_histogram, histogram, cv2.HISTCMP_BHATTACHARYYA)
                > settings.shot_threshold
            )
            previous_histogram = histogram
            if shot is None or cut:
                if shot is not None:
                    longest.offer(shot)
                shot = _Shot(index=shots, start=timestamp)
                shots += 1
            shot.add(
                timestamp, functools.partial(_thumbnail, frame, base, settings.thumbnail_width)
            )

            if progress is not None and facts.frames:
                done = min(1.0, frame_index / facts.frames)
                if done - reported >= 0.01:
                    reported = done
                    progress(done)
    finally:
        capture.release()

    if sampled == 0:
        raise MediaError("no video frame could be decoded")
    if shot is not None:
        longest.offer(shot)
    truncated = bool(facts.frames and frame_index < facts.frames * (1 - _TRUNCATION_SLACK) - 1)
    duration = facts.duration
    if truncated or duration <= 0:
        duration = max(last_timestamp + 1 / fps, frame_index / fps)
    if truncated:
        notes.append(
            f"the video stops after {frame_index} of {facts.frames} frames "
            f"({duration:.1f} s): the file is damaged or cut off"
        )
    visual = measures.pooled()
    visual.update(motion.pooled())
    if cascade is not None:
        visual.update(faces.pooled())
    visual["shot_rate"] = round(shots / (duration / 60), 6) if duration > 0 else 0.0
    keys = visual_feature_keys(faces=cascade is not None)
    if progress is not None:
        progress(1.0)
    return FrameAnalysis(
        keyframes=longest.keyframes(settings.jpeg_quality),
        visual={key: visual[key] for key in keys},
        sampled=sampled,
        shots=shots,
        duration=round(duration, 3),
        truncated=truncated,
        face_detector="haar" if cascade is not None else None,
        notes=notes,
    )
