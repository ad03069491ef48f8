"""Keyframes and visual features of a video, from every Nth frame, decoded once in order.

Every frame is grabbed (an H.264 decoder has to decode them all anyway) but only every
Nth is converted to an image; seeking would cost more than it saves. A shot change is
a jump in the colour histogram between consecutive samples. Each shot keeps one
representative frame (near its middle), and the longest shots give the keyframe strip.
Faces are counted once per shot, on its representative frame, and weighted by the shot's
length: within one continuous take the people in the picture stay, and the Haar cascade
costs several times the decoding of a frame (counted on one sample a second, it took a
third of the step's time on a one-minute talk).
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
_HUE_BINS, _SAT_BINS, _VAL_BINS = 8, 4, 4
# Joint histogram for shot changes: finer in hue, where cuts between scenes show most.
# Its bins split the marginal histograms' bins evenly (16 = 2 x 8 in hue).
_SHOT_BINS = [2 * _HUE_BINS, _SAT_BINS, _VAL_BINS]
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
    decode_threads: int = 1

    def __post_init__(self) -> None:
        if self.every_nth < 1 or self.max_keyframes < 0 or self.thumbnail_width < 16:
            raise ValueError("every_nth >= 1, max_keyframes >= 0 and thumbnail_width >= 16")
        if self.decode_threads < 1:
            raise ValueError("decode_threads >= 1")
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


def _colour_and_light(small: Image) -> tuple[npt.NDArray[np.float64], Image, Image]:
    """A sample's per-sample measures, its joint HSV histogram (L1-normalised) and grey image.

    The hue, saturation and value histograms are sums over the joint histogram's axes
    (its bins split theirs evenly): one histogram pass per sample instead of four.
    """
    hsv = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)
    grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    joint = cv2.calcHist([hsv], [0, 1, 2], None, _SHOT_BINS, _HSV_RANGES)
    cv2.normalize(joint, joint, alpha=1.0, norm_type=cv2.NORM_L1)
    counts = joint.astype(np.float64)
    hue = counts.sum(axis=(1, 2)).reshape(_HUE_BINS, -1).sum(axis=1)
    saturation = counts.sum(axis=(0, 2))
    value = counts.sum(axis=(0, 1))
    mean, deviation = cv2.meanStdDev(grey)
    edges = np.count_nonzero(cv2.Canny(grey, 100, 200)) / grey.size
    light = [float(mean[0, 0]) / 255, float(deviation[0, 0]) / 255, float(edges)]
    return np.concatenate([hue, saturation, value, light]), joint, grey


class _Measures:
    """Per-sample values, accumulated as running (weighted) means and maxima."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.total = np.zeros(len(names))
        self.peak = np.full(len(names), -np.inf)
        self.count = 0

    def add(self, values: npt.NDArray[np.float64], weight: int = 1) -> None:
        """`values` as measured on `weight` samples (a shot's frame stands for the shot)."""
        self.total += values * weight
        self.peak = np.maximum(self.peak, values)
        self.count += weight

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

    def keyframes(self, width: int, quality: int) -> list[KeyframeImage]:
        frames = []
        for _, negative_index, timestamp, image in sorted(self.heap, key=lambda e: e[2]):
            thumbnail = _shrink(image, width)
            ok, encoded = cv2.imencode(".jpg", thumbnail, [cv2.IMWRITE_JPEG_QUALITY, quality])
            if ok:
                frames.append(
                    KeyframeImage(round(timestamp, 3), -negative_index, encoded.tobytes())
                )
        return frames


def _face_count(cascade: Any, image: Image) -> int:
    grey = cv2.cvtColor(_shrink(image, _FACE_WIDTH), cv2.COLOR_BGR2GRAY)
    found = cascade.detectMultiScale(grey, scaleFactor=1.15, minNeighbors=5, minSize=(20, 20))
    return len(found)


def _shot_ended(shot: _Shot, longest: _LongestShots, faces: _Measures, cascade: Any) -> None:
    """Faces of the shot's representative frame, for all its samples; a keyframe candidate."""
    if cascade is not None and shot.kept:
        _, image = shot.representative()
        faces.add(np.asarray([float(_face_count(cascade, image))]), weight=shot.samples)
    longest.offer(shot)


def _thumbnail(frame: Image, base: Image, width: int) -> Image:
    return base if base.shape[1] == min(width, frame.shape[1]) else _shrink(frame, width)


# --- the pass over the video --------------------------------------------------------------


def _open_capture(path: PathLike, threads: int) -> cv2.VideoCapture:
    # Decoding threads cost CPU of their own (a one-minute 720p H.264 file: 1.8 s of CPU
    # with one, 2.1 s with two, for 1.6 s and 1.3 s of wall-clock time): worth it only
    # where the cores would otherwise idle, which the caller knows.
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, threads])
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
    motion = _Measures(["motion"])
    longest = _LongestShots(settings.max_keyframes)
    # A shot's frames are kept wide enough to count faces on and to cut the thumbnail from.
    kept_width = max(settings.thumbnail_width, _FACE_WIDTH)

    capture = _open_capture(path, settings.decode_threads)
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
            values, histogram, grey = _colour_and_light(_shrink(base, _ANALYSIS_WIDTH))
            measures.add(values)

            tiny = _shrink(grey, _MOTION_WIDTH).astype(np.float32)
            if previous_grey is not None and previous_grey.shape == tiny.shape:
                motion.add(np.asarray([float(np.abs(tiny - previous_grey).mean()) / 255]))
            previous_grey = tiny

            cut = previous_histogram is not None and (
                cv2.compareHist(previous_histogram, histogram, cv2.HISTCMP_BHATTACHARYYA)
                > settings.shot_threshold
            )
            previous_histogram = histogram
            if shot is None or cut:
                if shot is not None:
                    _shot_ended(shot, longest, faces, cascade)
                shot = _Shot(index=shots, start=timestamp)
                shots += 1
            shot.add(timestamp, functools.partial(_thumbnail, frame, base, kept_width))

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
        _shot_ended(shot, longest, faces, cascade)
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
        keyframes=longest.keyframes(settings.thumbnail_width, settings.jpeg_quality),
        visual={key: visual[key] for key in keys},
        sampled=sampled,
        shots=shots,
        duration=round(duration, 3),
        truncated=truncated,
        face_detector="haar" if cascade is not None else None,
        notes=notes,
    )
