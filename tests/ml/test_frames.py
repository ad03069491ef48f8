"""Keyframes, shots and visual features from generated videos with known cuts."""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import math
import shutil
import subprocess
import threading
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from ml.frames import (
    FrameSettings,
    analyse_frames,
    face_detector_available,
    visual_feature_keys,
)
from ml.media import MediaError
from ml.synthetic_media import plan_cuts, write_video
from tests.ml.conftest import MediaSet

SETTINGS = FrameSettings(every_nth=5, thumbnail_width=64)
TALK_CUTS = plan_cuts(2.0, seed=1)  # the cuts inside media.talk


def shot_of(timestamp: float, cuts: list[float]) -> int:
    return bisect.bisect_right(cuts, timestamp)


def test_one_keyframe_per_shot_inside_its_shot(media: MediaSet) -> None:
    analysis = analyse_frames(media.talk, SETTINGS)
    assert len(TALK_CUTS) == 2
    assert analysis.shots == len(TALK_CUTS) + 1
    assert analysis.sampled == 10  # 50 frames, every 5th
    assert not analysis.truncated
    assert [frame.shot_index for frame in analysis.keyframes] == [0, 1, 2]
    for frame in analysis.keyframes:
        assert shot_of(frame.timestamp, TALK_CUTS) == frame.shot_index
        # Sampled frames lie on multiples of every_nth / fps.
        assert frame.timestamp * 25 / 5 == pytest.approx(round(frame.timestamp * 5), abs=1e-6)


def test_keyframes_are_jpeg_thumbnails_of_the_configured_width(media: MediaSet) -> None:
    analysis = analyse_frames(media.talk, SETTINGS)
    for frame in analysis.keyframes:
        image = cv2.imdecode(np.frombuffer(frame.jpeg, np.uint8), cv2.IMREAD_COLOR)
        assert image is not None
        assert image.shape == (48, 64, 3)


def test_only_the_longest_shots_are_kept_in_time_order(tmp_path: Path) -> None:
    seconds = 40.0
    video = write_video(
        tmp_path / "long.mp4", seconds=seconds, width=64, height=48, fps=5, seed=4, audio=False
    )
    cuts = plan_cuts(seconds, seed=4)
    bounds = [0.0, *cuts, seconds]
    lengths = [end - start for start, end in itertools.pairwise(bounds)]
    longest = sorted(sorted(range(len(lengths)), key=lambda i: -lengths[i])[:2])

    analysis = analyse_frames(video, FrameSettings(every_nth=1, max_keyframes=2))
    assert analysis.shots == len(cuts) + 1 > 2
    assert [frame.shot_index for frame in analysis.keyframes] == longest
    # Near the middle: within a tenth of the shot's length (plus a sample).
    for frame, i in zip(analysis.keyframes, longest, strict=True):
        middle = (bounds[i] + bounds[i + 1]) / 2
        assert frame.timestamp == pytest.approx(middle, abs=lengths[i] / 10 + 0.2)


def test_a_threshold_no_distance_exceeds_finds_one_shot(media: MediaSet) -> None:
    analysis = analyse_frames(media.talk, FrameSettings(every_nth=5, shot_threshold=1.0))
    assert analysis.shots == 1
    assert len(analysis.keyframes) == 1


def test_visual_features_are_pooled_under_stable_keys(media: MediaSet) -> None:
    analysis = analyse_frames(media.talk, SETTINGS)
    visual = analysis.visual
    assert tuple(visual) == visual_feature_keys(faces=face_detector_available())
    assert all(math.isfinite(value) for value in visual.values())
    for channel, bins in (("h", 8), ("s", 4), ("v", 4)):
        total = sum(visual[f"hsv_{channel}{i}_mean"] for i in range(bins))
        assert total == pytest.approx(1.0, abs=1e-4)
    for name in ("brightness", "contrast", "edges", "motion"):
        assert 0.0 <= visual[f"{name}_mean"] <= visual[f"{name}_max"] <= 1.0
    assert visual["motion_max"] > 0.0  # the talking head moves, and there are cuts
    assert visual["shot_rate"] == pytest.approx(analysis.shots / (analysis.duration / 60))


def _solid_colour_video(
    path: Path,
    colours: list[tuple[int, int, int]],
    seconds: float,
    *,
    size: tuple[int, int] = (64, 48),
    pixel_format: str = "yuv420p",
) -> Path:
    """An H.264 video showing each BGR colour in turn for ``seconds``, at 10 frames a second."""
    width, height = size
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=10, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = width, height, pixel_format
        for colour in colours:
            image = np.full((height, width, 3), colour, dtype=np.uint8)
            for _ in range(round(seconds * 10)):
                frame = av.VideoFrame.from_ndarray(image, format="bgr24")
                container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


@pytest.mark.parametrize(
    ("size", "pixel_format"),
    [((64, 48), "yuv420p"), ((63, 47), "yuv444p")],
    ids=["4:2:0, planes shrunk first", "4:4:4 at an odd size, through the scaler"],
)
def test_colour_histograms_say_the_colours_shown_and_for_how_long(
    tmp_path: Path, size: tuple[int, int], pixel_format: str
) -> None:
    # Three seconds of red (hue 0), one of blue (hue 120 of OpenCV's 180): hue bins 0 and 5.
    colours = [(0, 0, 255)] * 3 + [(255, 0, 0)]
    video = _solid_colour_video(
        tmp_path / "colours.mp4", colours, 1.0, size=size, pixel_format=pixel_format
    )
    analysis = analyse_frames(video, FrameSettings(every_nth=2, thumbnail_width=32))
    visual = analysis.visual
    assert analysis.shots == 2
    assert visual["hsv_h0_mean"] == pytest.approx(0.75, abs=0.03)
    assert visual["hsv_h5_mean"] == pytest.approx(0.25, abs=0.03)
    assert visual["hsv_h0_max"] == pytest.approx(1.0, abs=0.02)
    assert visual["hsv_s3_mean"] == pytest.approx(1.0, abs=0.02)  # fully saturated
    assert visual["hsv_v3_mean"] == pytest.approx(1.0, abs=0.02)  # and bright
    if face_detector_available():  # counted once per shot, weighted by its length
        assert visual["faces_mean"] == visual["faces_max"] == 0.0


def test_decoding_threads_change_nothing_but_the_time(media: MediaSet) -> None:
    one = analyse_frames(media.talk, SETTINGS)
    two = analyse_frames(media.talk, dataclasses.replace(SETTINGS, decode_threads=2))
    assert two.visual == one.visual
    assert [(f.timestamp, f.shot_index) for f in two.keyframes] == [
        (f.timestamp, f.shot_index) for f in one.keyframes
    ]


def test_faces_are_left_out_when_detection_is_off(media: MediaSet) -> None:
    analysis = analyse_frames(media.talk, SETTINGS, face_detection=False)
    assert analysis.face_detector is None
    assert "faces_mean" not in analysis.visual
    assert tuple(analysis.visual) == visual_feature_keys(faces=False)


def test_face_counts_when_opencv_has_a_cascade(media: MediaSet) -> None:
    analysis = analyse_frames(media.talk, SETTINGS)
    if face_detector_available():
        assert analysis.face_detector == "haar"
        assert 0.0 <= analysis.visual["faces_mean"] <= analysis.visual["faces_max"]
    else:
        assert analysis.face_detector is None
        assert any("Haar cascade" in note for note in analysis.notes)


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg writes the rotation")
def test_keyframes_of_a_video_stored_sideways_are_upright(media: MediaSet, tmp_path: Path) -> None:
    # As a phone stores a portrait video: landscape pictures and a rotation to show them by.
    sideways = tmp_path / "portrait.mp4"
    subprocess.run(
        [
            *("ffmpeg", "-v", "error", "-y", "-i", str(media.talk), "-c", "copy"),
            *("-metadata:s:v:0", "rotate=90", str(sideways)),
        ],
        check=True,
        timeout=60,
    )
    upright = analyse_frames(sideways, SETTINGS)
    stored = analyse_frames(media.talk, SETTINGS)
    capture = cv2.VideoCapture(str(media.talk))  # another decoder, for what the file holds
    for turned, frame in zip(upright.keyframes, stored.keyframes, strict=True):
        image = cv2.imdecode(np.frombuffer(turned.jpeg, np.uint8), cv2.IMREAD_COLOR)
        original = cv2.imdecode(np.frombuffer(frame.jpeg, np.uint8), cv2.IMREAD_COLOR)
        capture.set(cv2.CAP_PROP_POS_FRAMES, round(frame.timestamp * 25))
        read, decoded = capture.read()
        assert read and image is not None and original is not None
        held = cv2.resize(decoded, (64, 48), interpolation=cv2.INTER_AREA)
        assert np.abs(original.astype(int) - held).mean() < 12
        # Stored 160x120, shown 120x160: the thumbnail is 64 wide as shown, and a quarter
        # turn counter-clockwise of the stored picture, as players show it.
        assert image.shape == (85, 64, 3)
        expected = cv2.resize(np.rot90(held), (64, 85), interpolation=cv2.INTER_LINEAR)
        assert np.abs(image.astype(int) - expected).mean() < 12
        assert np.abs(image.astype(int) - expected[::-1, ::-1]).mean() > 12
    capture.release()


def test_a_failing_progress_report_stops_the_decoder(media: MediaSet) -> None:
    # A job that is cancelled stops in its progress report: no decoding goes on after it.
    class Cancelled(Exception):
        pass

    def cancel(fraction: float) -> None:
        if fraction > 0.3:
            raise Cancelled

    with pytest.raises(Cancelled):
        analyse_frames(media.talk, FrameSettings(every_nth=1), progress=cancel)
    assert not [thread for thread in threading.enumerate() if thread.name == "frame-decoder"]


def test_progress_rises_to_the_end(media: MediaSet) -> None:
    reported: list[float] = []
    analyse_frames(media.talk, SETTINGS, progress=reported.append)
    assert reported == sorted(reported)
    assert reported[-1] == 1.0
    assert len(reported) > 2


def test_a_video_without_audio_is_analysed(media: MediaSet) -> None:
    analysis = analyse_frames(media.silent_video, SETTINGS)
    assert analysis.duration == pytest.approx(2.0, abs=0.05)
    assert analysis.keyframes


def test_a_truncated_video_gives_the_frames_before_the_damage(media: MediaSet) -> None:
    whole = analyse_frames(media.talk, SETTINGS)
    cut = analyse_frames(media.truncated, SETTINGS)
    assert cut.truncated
    assert 0 < cut.sampled < whole.sampled
    assert cut.duration < whole.duration
    assert any("cut off" in note for note in cut.notes)


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("audio_only", "no video stream"),
        ("zero_duration", "no video stream"),
        ("not_media", "not a video or audio file"),
    ],
)
def test_files_without_pictures_are_refused(media: MediaSet, kind: str, message: str) -> None:
    with pytest.raises(MediaError, match=message):
        analyse_frames(getattr(media, kind), SETTINGS)


def test_frames_over_the_pixel_limit_are_refused(media: MediaSet) -> None:
    with pytest.raises(MediaError, match=r"160x120, more than the limit of 19,199 pixels"):
        analyse_frames(media.talk, FrameSettings(max_pixels=160 * 120 - 1))


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="every_nth"):
        FrameSettings(every_nth=0)
    with pytest.raises(ValueError, match="shot_threshold"):
        FrameSettings(shot_threshold=0.0)
