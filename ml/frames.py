"""Keyframes and visual features of a video, from every Nth frame, decoded once in order.

Every frame is decoded (an H.264 decoder has to decode them all anyway) but only every
Nth is converted to an image, shrunk plane by plane before its colours are converted;
seeking would cost more than it saves. Decoding runs on a thread of its own, a few
samples ahead of the analysis. A shot change is a jump in the colour histogram between
consecutive samples. Each shot keeps one representative frame (near its middle), and the
longest shots give the keyframe strip.
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
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import av
import av.error
import cv2
import numpy as np
import numpy.typing as npt

from ml.media import MediaError, open_container, stream_seconds

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
        duration = max(duration, stream_seconds(stream.duration, stream.time_base))
        frames = int(stream.frames or 0) or (round(duration * fps) if fps else 0)
        width, height = stream.codec_context.width, stream.codec_context.height
    return _VideoFacts(width, height, fps, frames, duration)


# --- per-sample measurements --------------------------------------------------------------


def _shrink(image: Image, width: int) -> Image:
    """`image` scaled down to `width` (aspect kept); a narrower image is returned as it is."""
    height, current = image.shape[:2]
    if current <= width:
        return image
    return _resized(image, (width, max(1, round(height * width / current))))


def _resized(image: Image, size: tuple[int, int]) -> Image:
    """`image` scaled down to `size` (width, height).

    Halving with bilinear interpolation averages 2x2 blocks, so a chain of halvings
    filters like INTER_AREA at a fraction of its cost for large factors.
    """
    width, height = size
    while image.shape[1] >= 2 * width and image.shape[0] >= 2 * height:
        half = (image.shape[1] // 2, max(1, image.shape[0] // 2))
        image = cv2.resize(image, half, interpolation=cv2.INTER_LINEAR)
    if image.shape[1] != width or image.shape[0] != height:
        image = cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)
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

    def add(self, timestamp: float, image: Image) -> None:
        if self.samples % self.stride == 0:
            self.kept.append((self.samples, timestamp, image))
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


# --- the pass over the video --------------------------------------------------------------


@dataclass(frozen=True)
class _Sample:
    index: int  # the frame's number in the stream
    timestamp: float
    image: Image  # BGR, upright, at most the width asked for


def _even(value: float) -> int:
    return max(2, 2 * round(value / 2))


def _small_bgr(frame: av.VideoFrame, width: int) -> Image:
    """The frame as an upright BGR image at most `width` wide as shown (aspect kept).

    A 4:2:0 frame is shrunk plane by plane before its colours are converted, so the
    conversion reads a few thousand pixels instead of the whole picture (on 720p, 0.3 ms
    instead of 1.3 ms through a full-size colour picture); the conversion is BT.601's,
    as FFmpeg's scaler does by default. Other pixel formats go through the scaler.
    """
    # Phones store a portrait picture sideways, with the rotation to show it by.
    turns = round((frame.rotation or 0) / 90) % 4
    stored_width, stored_height = frame.width, frame.height
    shown_width = stored_height if turns % 2 else stored_width
    scale = min(1.0, width / shown_width)
    if frame.format.name == "yuv420p" and stored_width % 2 == 0 and stored_height % 2 == 0:
        planes = frame.to_ndarray()  # I420: the luma rows, then the two chroma planes
        size = (_even(stored_width * scale), _even(stored_height * scale))
        luma = _resized(planes[:stored_height], size)
        chroma = planes[stored_height:].reshape(2, stored_height // 2, stored_width // 2)
        blue, red = (_resized(plane, (size[0] // 2, size[1] // 2)) for plane in chroma)
        i420 = np.concatenate([luma.ravel(), blue.ravel(), red.ravel()])
        image = cv2.cvtColor(i420.reshape(-1, size[0]), cv2.COLOR_YUV2BGR_I420)
    else:
        size = (max(1, round(stored_width * scale)), max(1, round(stored_height * scale)))
        image = _resized(frame.to_ndarray(format="bgr24"), size)
    return np.ascontiguousarray(np.rot90(image, turns)) if turns else image


class _SampledFrames:
    """Every Nth frame of the video stream, decoded on a thread of its own.

    The decoder runs ahead of the analysis by a few samples, so the two overlap instead
    of taking turns: FFmpeg and OpenCV release the interpreter while they work. The
    decoder waits only when the analysis falls `_AHEAD` samples behind, which also
    bounds the frames held. Packets that cannot be decoded are skipped; a read error
    ends the frames there, and the caller notices that the file is short of the frames
    its index promised. `frames` counts the frames decoded so far.
    """

    _AHEAD = 4
    _END = object()

    def __init__(self, path: PathLike, settings: FrameSettings, width: int, fps: float) -> None:
        self.path, self.settings, self.width, self.fps = path, settings, width, fps
        self.frames = 0
        self._handoff: queue.Queue[object] = queue.Queue(maxsize=self._AHEAD)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._decode, name="frame-decoder", daemon=True)

    def __enter__(self) -> _SampledFrames:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        # However the analysis ended (finished, failed, cancelled), the decoder stops.
        self._stop.set()
        self._thread.join()

    def __iter__(self) -> Iterator[_Sample]:
        while (item := self._handoff.get()) is not self._END:
            if isinstance(item, BaseException):
                raise item
            yield cast(_Sample, item)

    def _decode(self) -> None:
        try:
            with open_container(self.path) as container:
                stream = container.streams.video[0]
                # Decoding threads cost CPU of their own (a one-minute 720p H.264 file:
                # half as much again with two as with one, for a tenth less wall-clock
                # time): worth it only where the cores would otherwise idle, which the
                # caller knows. Frame threads help every H.264 stream, slice threads
                # those encoded in slices.
                stream.codec_context.thread_count = self.settings.decode_threads
                stream.thread_type = "AUTO"
                # Times count from the stream's start, as a player's do (an MPEG-TS file
                # starts a second or more in).
                start = stream_seconds(stream.start_time, stream.time_base)
                for frame in self._frames(container, stream):
                    index = self.frames
                    self.frames += 1
                    if index % self.settings.every_nth:
                        continue
                    time = frame.time
                    timestamp = index / self.fps if time is None else max(0.0, time - start)
                    self._hand_over(_Sample(index, timestamp, _small_bgr(frame, self.width)))
        except BaseException as exc:  # raised where the samples are read
            self._hand_over(exc)
        finally:
            self._hand_over(self._END)

    def _frames(self, container: Any, stream: Any) -> Iterator[av.VideoFrame]:
        try:
            for packet in container.demux(stream):
                if self._stop.is_set():
                    return
                try:
                    yield from packet.decode()
                except (av.error.InvalidDataError, av.error.UndefinedError):
                    continue
        except av.error.FFmpegError:
            return

    def _hand_over(self, item: object) -> None:
        while not self._stop.is_set():
            try:
                self._handoff.put(item, timeout=0.1)
                return
            except queue.Full:
                continue


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

    fps = facts.fps or 25.0
    sampled = 0
    shot: _Shot | None = None
    shots = 0
    previous_histogram: Image | None = None
    previous_grey: Image | None = None
    last_timestamp = 0.0
    reported = 0.0
    with _SampledFrames(path, settings, kept_width, fps) as samples:
        for sample in samples:
            base, timestamp = sample.image, sample.timestamp
            last_timestamp = timestamp
            sampled += 1

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
            shot.add(timestamp, base)

            if progress is not None and facts.frames:
                done = min(1.0, (sample.index + 1) / facts.frames)
                if done - reported >= 0.01:
                    reported = done
                    progress(done)
    frame_index = samples.frames

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
