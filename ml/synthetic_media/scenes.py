"""Painters for synthetic video frames: a few recognisable kinds of picture.

Each scene draws a still background per shot and a few things that move over it,
in RGB. Consecutive shots use different palettes, which is what makes a cut a cut.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterator

import cv2
import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]
Color = tuple[int, int, int]


def _rgb(hex_colors: str) -> tuple[Color, ...]:
    """Colours written the way designers write them: "87beeb 5a8c46"."""
    return tuple((int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)) for c in hex_colors.split())


def _clip(color: npt.ArrayLike) -> Color:
    r, g, b = (int(v) for v in np.clip(np.asarray(color), 0, 255))
    return (r, g, b)


def _canvas(height: int, width: int, color: Color) -> Image:
    return np.full((height, width, 3), color, dtype=np.uint8)


def _gradient(img: Image, y0: int, y1: int, top: Color, bottom: Color) -> None:
    if y1 <= y0:
        return
    ramp = np.linspace(0.0, 1.0, y1 - y0)[:, None, None]
    rows = np.asarray(top, float) * (1 - ramp) + np.asarray(bottom, float) * ramp
    img[y0:y1] = rows.astype(np.uint8)


def _bounce(t: float, speed: float, span: float, phase: float) -> int:
    """Position moving at `speed` back and forth over [0, span]."""
    if span <= 0:
        return 0
    x = (phase + speed * t) % (2 * span)
    return int(x if x <= span else 2 * span - x)


def _wrap(t: float, speed: float, span: float, phase: float) -> int:
    return int((phase + speed * t) % span)


class _Scene:
    """A kind of picture: one still background per shot, and things that move over it."""

    palettes: tuple[tuple[Color, ...], ...] = ()

    def __init__(self, width: int, height: int, rng: np.random.Generator) -> None:
        self.w = width
        self.h = height
        # Shapes are designed for 240 lines and scaled from there.
        self.u = min(width, height) / 240
        self.rng = rng
        self._tint = rng.integers(-14, 15, size=3)
        self.setup()

    def setup(self) -> None:
        """Pick the paths, colours and speeds of the moving things from self.rng."""

    def colors(self, shot: int) -> tuple[Color, ...]:
        palette = self.palettes[shot % len(self.palettes)]
        return tuple(_clip(np.asarray(c) + self._tint) for c in palette)

    def px(self, value: float) -> int:
        return max(1, int(value * self.u))

    def background(self, shot: int) -> Image:
        raise NotImplementedError

    def draw(self, frame: Image, t: float, shot: int) -> None:
        raise NotImplementedError


class _Bars(_Scene):
    palettes = (
        _rgb("ebebeb ebeb10 10ebeb 10eb10 eb10eb eb1010 1010eb"),
        _rgb("1010eb 141414 eb10eb 141414 10ebeb 141414 ebebeb"),
        _rgb("282828 464646 646464 828282 a0a0a0 bebebe dcdcdc"),
    )

    def setup(self) -> None:
        self.speed = self.rng.uniform(0.3, 0.6)
        self.phase = self.rng.uniform(0, self.w)

    def background(self, shot: int) -> Image:
        colors = self.colors(shot)
        img = _canvas(self.h, self.w, (16, 16, 16))
        n = len(colors)
        if shot % len(self.palettes) == 2:
            for i, color in enumerate(colors):
                img[i * self.h // n : (i + 1) * self.h // n] = color
            return img
        top = self.h * 3 // 4
        for i, color in enumerate(colors):
            img[:top, i * self.w // n : (i + 1) * self.w // n] = color
        return img

    def draw(self, frame: Image, t: float, shot: int) -> None:
        size = self.px(24)
        x = _bounce(t, self.speed * self.w, self.w - size, self.phase)
        y = self.h - size - self.px(6)
        cv2.rectangle(frame, (x, y), (x + size, y + size), (245, 245, 245), -1)


class _Road(_Scene):
    # sky, verge, road, lane marking
    palettes = (
        _rgb("87beeb 5a8c46 5f5f64 f0f0f0"),
        _rgb("f08c46 3c4632 3c373c fadc78"),
        _rgb("0f142d 141e14 232328 c8c878"),
    )
    _car_colors = _rgb("c81e1e 1e3cc8 f0c814 e6e6e6 141414 14963c")

    def setup(self) -> None:
        self.cars = []
        for lane in (0, 0, 1, 1, 1):
            direction = 1 if lane == 0 else -1
            color = self._car_colors[int(self.rng.integers(len(self._car_colors)))]
            speed = direction * self.rng.uniform(60, 160) * self.u
            self.cars.append((lane, color, speed, self.rng.uniform(0, self.w * 2)))

    def background(self, shot: int) -> Image:
        sky, verge, road, _ = self.colors(shot)
        img = _canvas(self.h, self.w, verge)
        horizon = int(self.h * 0.38)
        _gradient(img, 0, horizon, sky, _clip(np.asarray(sky) * 0.8 + 40))
        img[int(self.h * 0.5) : int(self.h * 0.92)] = road
        return img

    def draw(self, frame: Image, t: float, shot: int) -> None:
        mark = self.colors(shot)[3]
        top, bottom = int(self.h * 0.5), int(self.h * 0.92)
        middle = (top + bottom) // 2
        dash, period = self.px(30), self.px(60)
        offset = _wrap(t, 140 * self.u, period, 0)
        for x in range(-offset, self.w, period):
            cv2.rectangle(
                frame, (x, middle - self.px(2)), (x + dash, middle + self.px(2)), mark, -1
            )
        length, height = self.px(56), self.px(24)
        for lane, color, speed, phase in self.cars:
            x = _wrap(t, speed, self.w + 2 * length, phase) - length
            y = (
                (top + middle) // 2 - height // 2
                if lane == 0
                else (middle + bottom) // 2 - height // 2
            )
            cv2.rectangle(frame, (x, y), (x + length, y + height), color, -1)
            cv2.rectangle(
                frame,
                (x + length // 4, y + 2),
                (x + length * 3 // 4, y + height // 2),
                (40, 50, 60),
                -1,
            )
            for wheel in (x + length // 5, x + length * 4 // 5):
                cv2.circle(frame, (wheel, y + height), self.px(5), (10, 10, 10), -1)


class _Field(_Scene):
    # grass, mowing stripe, lines, stands
    palettes = (
        _rgb("288c3c 34a048 f5f5f5 505064"),
        _rgb("145f2d 1c6e34 e1e1e1 0f0f1e"),
        _rgb("50af50 5fbe5f fafafa 963c3c"),
    )

    def setup(self) -> None:
        self.ball = (
            self.rng.uniform(120, 220),
            self.rng.uniform(70, 140),
            self.rng.uniform(0, 500),
        )
        self.players = [
            (
                team,
                self.rng.uniform(0.1, 0.9),
                self.rng.uniform(0.35, 0.9),
                self.rng.uniform(0.3, 1.2),
            )
            for team in (0, 0, 0, 1, 1, 1)
        ]

    def background(self, shot: int) -> Image:
        grass, stripe, line, stands = self.colors(shot)
        img = _canvas(self.h, self.w, grass)
        stripe_w = max(2, self.w // 8)
        for x in range(0, self.w, 2 * stripe_w):
            img[:, x : x + stripe_w] = stripe
        top = int(self.h * 0.18)
        img[:top] = stands
        crowd = self.rng.integers(0, 256, size=(top // 3 + 1, self.w // 3 + 1, 3), dtype=np.uint8)
        spots = np.kron(crowd, np.ones((3, 3, 1), dtype=np.uint8))[:top, : self.w]
        img[:top] = np.where(self.rng.random((top, self.w, 1)) < 0.25, spots, img[:top])
        thick = self.px(2)
        cv2.rectangle(
            img,
            (self.px(6), top + self.px(6)),
            (self.w - self.px(6), self.h - self.px(6)),
            line,
            thick,
        )
        cv2.line(
            img, (self.w // 2, top + self.px(6)), (self.w // 2, self.h - self.px(6)), line, thick
        )
        cv2.circle(img, (self.w // 2, (top + self.h) // 2), self.px(32), line, thick)
        return img

    def draw(self, frame: Image, t: float, shot: int) -> None:
        top = int(self.h * 0.18)
        for team, fx, fy, speed in self.players:
            x = int(self.w * fx + self.w * 0.08 * math.sin(speed * t * 2 + fx * 9))
            y = int(self.h * fy * 0.9 + self.h * 0.05 * math.cos(speed * t * 3 + fy * 7))
            color = (220, 40, 40) if team == 0 else (40, 60, 220)
            cv2.rectangle(
                frame, (x, max(top, y)), (x + self.px(8), max(top, y) + self.px(16)), color, -1
            )
        vx, vy, phase = self.ball
        r = self.px(5)
        x = _bounce(t, vx * self.u, self.w - 2 * r, phase) + r
        y = top + r + _bounce(t, vy * self.u, self.h - top - 2 * r, phase)
        cv2.circle(frame, (x, y), r, (250, 250, 250), -1)
        cv2.circle(frame, (x, y), r, (0, 0, 0), 1)


class _Ice(_Scene):
    # ice, blue line, red line, boards
    palettes = (
        _rgb("ebf2fa 2850c8 d22828 fafafa"),
        _rgb("c8def5 1e3caa be1e1e 141e3c"),
        _rgb("f5f8fc 3c6edc e63c3c c82828"),
    )

    def setup(self) -> None:
        self.puck = (
            self.rng.uniform(200, 320),
            self.rng.uniform(100, 200),
            self.rng.uniform(0, 400),
        )
        self.players = [
            (team, self.rng.uniform(0.1, 0.9), self.rng.uniform(0.3, 1.0)) for team in (0, 0, 1, 1)
        ]

    def background(self, shot: int) -> Image:
        ice, blue, red, boards = self.colors(shot)
        img = _canvas(self.h, self.w, ice)
        top = int(self.h * 0.12)
        _gradient(img, top, self.h, ice, _clip(np.asarray(ice) - 18))
        img[:top] = boards
        for x in range(self.px(10), self.w, self.px(70)):
            cv2.rectangle(img, (x, self.px(4)), (x + self.px(40), top - self.px(4)), blue, -1)
        for x in (int(self.w * 0.3), int(self.w * 0.7)):
            cv2.line(img, (x, top), (x, self.h), blue, self.px(4))
        cv2.line(img, (self.w // 2, top), (self.w // 2, self.h), red, self.px(4))
        cv2.circle(img, (self.w // 2, (top + self.h) // 2), self.px(30), red, self.px(2))
        return img

    def draw(self, frame: Image, t: float, shot: int) -> None:
        top = int(self.h * 0.12)
        for team, fx, speed in self.players:
            x = int(self.w * (0.5 + 0.4 * math.sin(speed * t * 2 + fx * 11)))
            y = int(top + (self.h - top) * (0.5 + 0.35 * math.cos(speed * t * 1.5 + fx * 5)))
            color = (180, 30, 40) if team == 0 else (20, 40, 120)
            cv2.rectangle(frame, (x, y), (x + self.px(9), y + self.px(18)), color, -1)
            cv2.line(
                frame,
                (x + self.px(9), y + self.px(18)),
                (x + self.px(20), y + self.px(22)),
                (60, 40, 20),
                2,
            )
        vx, vy, phase = self.puck
        rx, ry = self.px(6), self.px(3)
        x = _bounce(t, vx * self.u, self.w - 2 * rx, phase) + rx
        y = top + ry + _bounce(t, vy * self.u, self.h - top - 2 * ry, phase)
        cv2.ellipse(frame, (x, y), (rx, ry), 0, 0, 360, (10, 10, 10), -1)


class _Kitchen(_Scene):
    # wall, counter, pot, plate, tile grout
    palettes = (
        _rgb("e6aa6e 784628 c83c28 f0c850 d2965f"),
        _rgb("462d23 281e19 f06e1e faa03c 5a3c2d"),
        _rgb("f5e1be aa7850 be5a3c faf0dc e1c8a5"),
    )

    def setup(self) -> None:
        self.items = [
            (self.rng.uniform(0.15, 0.85), self.rng.uniform(0.8, 2.0), self.rng.uniform(0, 6))
            for _ in range(3)
        ]

    def background(self, shot: int) -> Image:
        wall, counter, _, _, grout = self.colors(shot)
        img = _canvas(self.h, self.w, wall)
        split = int(self.h * 0.55)
        tile = self.px(24)
        for x in range(0, self.w, tile):
            img[:split, x : x + 1] = grout
        for y in range(0, split, tile):
            img[y : y + 1, :] = grout
        _gradient(img, split, self.h, counter, _clip(np.asarray(counter) * 0.7))
        return img

    def draw(self, frame: Image, t: float, shot: int) -> None:
        _, _, pot, plate, _ = self.colors(shot)
        base = int(self.h * 0.72)
        for i, (fx, rate, phase) in enumerate(self.items):
            radius = self.px(22 * (1 + 0.25 * math.sin(2 * math.pi * rate * t + phase)))
            center = (int(self.w * fx), base + self.px(10) * (i % 2))
            cv2.circle(frame, center, radius, pot if i % 2 == 0 else plate, -1)
            steam_y = center[1] - radius - _wrap(t, 30 * self.u, self.px(50), phase * 10)
            cv2.circle(frame, (center[0], steam_y), self.px(4), (245, 245, 245), -1)


class _Garden(_Scene):
    # sky, ground, leaf, flower
    palettes = (
        _rgb("96c8f0 46963c 1e6e28 e65078"),
        _rgb("c8e6c8 6e5032 288c32 fac828"),
        _rgb("fac896 326428 14501e c83cc8"),
    )

    def setup(self) -> None:
        self.plants = [
            (self.rng.uniform(0.05, 0.95), self.rng.uniform(0.15, 0.35), self.rng.uniform(0, 1))
            for _ in range(6)
        ]

    def background(self, shot: int) -> Image:
        sky, ground, _, _ = self.colors(shot)
        img = _canvas(self.h, self.w, ground)
        horizon = int(self.h * 0.4)
        _gradient(img, 0, horizon, sky, _clip(np.asarray(sky) * 0.9 + 20))
        furrow = _clip(np.asarray(ground) * 0.75)
        for y in range(horizon + self.px(12), self.h, self.px(24)):
            img[y : y + self.px(4)] = furrow
        return img

    def draw(self, frame: Image, t: float, shot: int) -> None:
        _, _, leaf, flower = self.colors(shot)
        ground = int(self.h * 0.92)
        for fx, rate, phase in self.plants:
            growth = (t * rate + phase) % 1.0
            x = int(self.w * fx)
            top = ground - self.px(10 + 90 * growth)
            cv2.line(frame, (x, ground), (x, top), leaf, self.px(3))
            leaf_size = (self.px(4 + 14 * growth), self.px(2 + 6 * growth))
            cv2.ellipse(
                frame, (x - leaf_size[0], (ground + top) // 2), leaf_size, 20, 0, 360, leaf, -1
            )
            cv2.ellipse(
                frame,
                (x + leaf_size[0], (ground + top) // 2 - self.px(8)),
                leaf_size,
                -20,
                0,
                360,
                leaf,
                -1,
            )
            if growth > 0.5:
                cv2.circle(frame, (x, top), self.px(12 * (growth - 0.4)), flower, -1)


class _Space(_Scene):
    # sky, star, planet, highlight
    palettes = (
        _rgb("000000 ffffff d2783c fabe82"),
        _rgb("182a6e dcdcff 3c78dc 96c8ff"),
        _rgb("4a1650 fff0c8 b4aa96 ebe6d7"),
    )

    def setup(self) -> None:
        self.orbit = (
            self.rng.uniform(10, 25),
            self.rng.uniform(0, self.w),
            self.rng.uniform(0.3, 0.6),
        )

    def background(self, shot: int) -> Image:
        sky, star, _, _ = self.colors(shot)
        img = _canvas(self.h, self.w, sky)
        _gradient(img, self.h // 2, self.h, sky, _clip(np.asarray(sky) + 12))
        count = int(120 * self.w * self.h / 76_800)
        xs = self.rng.integers(0, self.w, count)
        ys = self.rng.integers(0, self.h, count)
        shine = self.rng.uniform(0.4, 1.0, (count, 1))
        img[ys, xs] = (np.asarray(star) * shine).astype(np.uint8)
        return img

    def draw(self, frame: Image, t: float, shot: int) -> None:
        _, _, planet, highlight = self.colors(shot)
        speed, phase, fy = self.orbit
        radius = self.px(40 if shot % 2 == 0 else 60)
        x = _wrap(t, speed * self.u, self.w + 2 * radius, phase) - radius
        y = int(self.h * fy)
        cv2.circle(frame, (x, y), radius, planet, -1)
        cv2.circle(frame, (x - radius // 3, y - radius // 3), radius // 3, highlight, -1)
        cv2.ellipse(
            frame, (x, y), (radius * 3 // 2, radius // 3), -15, 0, 360, highlight, self.px(2)
        )
        sat = (_wrap(t, 90 * self.u, self.w, phase * 2), int(self.h * 0.15))
        cv2.circle(frame, sat, self.px(2), (255, 255, 255), -1)


class _Stage(_Scene):
    # backdrop, bar, bar, bar, floor
    palettes = (
        _rgb("140a1e f0288c 28c8f0 fadc28 281e2d"),
        _rgb("8c1410 fa7814 faf0c8 dc1e1e 5a1e14"),
        _rgb("10307c 3cf078 7850fa f0f0ff 182a5a"),
    )

    def setup(self) -> None:
        self.bars = [(self.rng.uniform(0.4, 1.6), self.rng.uniform(0, 6)) for _ in range(8)]

    def background(self, shot: int) -> Image:
        backdrop, _, _, _, floor = self.colors(shot)
        img = _canvas(self.h, self.w, backdrop)
        _gradient(img, 0, int(self.h * 0.85), _clip(np.asarray(backdrop) * 0.5), backdrop)
        img[int(self.h * 0.85) :] = floor
        return img

    def draw(self, frame: Image, t: float, shot: int) -> None:
        colors = self.colors(shot)[1:4]
        floor = int(self.h * 0.85)
        width = self.w // (len(self.bars) * 2 + 1)
        for i, (rate, phase) in enumerate(self.bars):
            height = int(floor * (0.15 + 0.7 * abs(math.sin(2 * math.pi * rate * t + phase))))
            x = width * (2 * i + 1)
            cv2.rectangle(frame, (x, floor - height), (x + width, floor), colors[i % 3], -1)
        spot_x = _bounce(t, 0.4 * self.w, self.w, 0)
        cv2.ellipse(
            frame,
            (spot_x, floor + self.px(14)),
            (self.px(40), self.px(8)),
            0,
            0,
            360,
            (255, 250, 220),
            -1,
        )


class _Studio(_Scene):
    # backdrop, skin, shirt, hair
    palettes = (
        _rgb("6482b4 ebbea0 283c6e 3c281e"),
        _rgb("c8beaa e1af8c 961e28 1e1914"),
        _rgb("3c3c3c f0c8af dcdcdc 78461e"),
    )
    _framing = ((0.5, 1.0), (0.5, 1.4), (0.35, 0.8))  # where the head sits and how close

    def setup(self) -> None:
        self.talk = self.rng.uniform(2.5, 4.0)
        self.blink = self.rng.uniform(2.0, 3.5)

    def _head(self, shot: int) -> tuple[int, int, int, int]:
        fx, zoom = self._framing[shot % len(self._framing)]
        return int(self.w * fx), int(self.h * 0.45), self.px(45 * zoom), self.px(58 * zoom)

    def background(self, shot: int) -> Image:
        backdrop, _, shirt, _ = self.colors(shot)
        img = _canvas(self.h, self.w, backdrop)
        _gradient(
            img, 0, self.h, _clip(np.asarray(backdrop) + 25), _clip(np.asarray(backdrop) - 25)
        )
        cx, cy, ax, ay = self._head(shot)
        cv2.ellipse(
            img, (cx, cy + ay + ay * 3 // 2), (ax * 5 // 2, ay * 3 // 2), 0, 180, 360, shirt, -1
        )
        return img

    def draw(self, frame: Image, t: float, shot: int) -> None:
        _, skin, _, hair = self.colors(shot)
        cx, cy, ax, ay = self._head(shot)
        cx += int(self.px(4) * math.sin(1.3 * t))
        cy += int(self.px(2) * math.sin(2.1 * t))
        cv2.ellipse(frame, (cx, cy - ay // 5), (ax + ax // 10, ay), 0, 180, 360, hair, -1)
        cv2.ellipse(frame, (cx, cy), (ax, ay), 0, 0, 360, skin, -1)
        eye_y, eye_dx = cy - ay // 5, ax * 2 // 5
        blinking = (t * self.blink) % 4.0 < 0.12
        for ex in (cx - eye_dx, cx + eye_dx):
            if blinking:
                cv2.line(frame, (ex - ax // 6, eye_y), (ex + ax // 6, eye_y), (40, 30, 30), 2)
            else:
                cv2.ellipse(frame, (ex, eye_y), (ax // 6, ay // 10), 0, 0, 360, (250, 250, 250), -1)
                cv2.circle(frame, (ex, eye_y), max(1, ay // 14), (40, 30, 30), -1)
        opening = ay // 30 + int(ay / 8 * abs(math.sin(math.pi * self.talk * t)))
        cv2.ellipse(
            frame,
            (cx, cy + ay * 11 // 20),
            (ax // 3, max(1, opening)),
            0,
            0,
            360,
            (150, 40, 50),
            -1,
        )


class _Beach(_Scene):
    # sky, sea, sand, sun
    palettes = (
        _rgb("78bef0 146eb4 ebd296 fff078"),
        _rgb("fa965a 3c3c6e be966e ffc850"),
        _rgb("b4b9c3 506e78 d2c8aa e1e1e1"),
    )

    def setup(self) -> None:
        self.ball = (self.rng.uniform(40, 90), self.rng.uniform(0, 300))
        self.sun_x = self.rng.uniform(0.2, 0.8)

    def background(self, shot: int) -> Image:
        sky, sea, sand, sun = self.colors(shot)
        img = _canvas(self.h, self.w, sand)
        horizon, shore = int(self.h * 0.35), int(self.h * 0.6)
        _gradient(img, 0, horizon, sky, _clip(np.asarray(sky) + 30))
        _gradient(img, horizon, shore, sea, _clip(np.asarray(sea) + 40))
        cv2.circle(img, (int(self.w * self.sun_x), horizon // 2), self.px(18), sun, -1)
        return img

    def draw(self, frame: Image, t: float, shot: int) -> None:
        shore = int(self.h * 0.6)
        xs = np.arange(0, self.w + 8, 8)
        swell = self.px(6) * np.sin(2 * np.pi * (xs / (80 * self.u) - 0.4 * t)) + self.px(
            5
        ) * math.sin(1.5 * t)
        edge = np.stack([xs, shore + swell], axis=1)
        foam = np.vstack([[[self.w, shore - self.px(2)], [0, shore - self.px(2)]], edge]).astype(
            np.int32
        )
        cv2.fillPoly(frame, [foam], (240, 245, 245))
        speed, phase = self.ball
        r = self.px(10)
        x = _bounce(t, speed * self.u * 2, self.w - 2 * r, phase) + r
        y = self.h - r - self.px(4) - _bounce(t, 90 * self.u, self.px(40), 0)
        cv2.circle(frame, (x, y), r, (230, 40, 40), -1)
        cv2.circle(frame, (x, y), r // 2, (250, 250, 250), -1)


class _Pets(_Scene):
    # wall, floor, fur, fur
    palettes = (
        _rgb("e6d7be b48c5a 78461e 5a3719"),
        _rgb("96c8f0 50a046 965f2d 3c2814"),
        _rgb("463c50 6e3c32 a06e3c c8a06e"),
    )

    def setup(self) -> None:
        self.animals = [
            (self.rng.uniform(40, 110), self.rng.uniform(0, 400), self.rng.uniform(0.6, 0.9))
            for _ in range(3)
        ]

    def background(self, shot: int) -> Image:
        wall, floor, _, _ = self.colors(shot)
        img = _canvas(self.h, self.w, floor)
        split = int(self.h * 0.45)
        img[:split] = wall
        plank = _clip(np.asarray(floor) * 0.8)
        for y in range(split, self.h, self.px(20)):
            img[y : y + 1] = plank
        return img

    def draw(self, frame: Image, t: float, shot: int) -> None:
        colors = self.colors(shot)[2:]
        for i, (speed, phase, fy) in enumerate(self.animals):
            body = (self.px(30), self.px(17))
            span = self.w - 2 * body[0]
            x = _bounce(t, speed * self.u, span, phase) + body[0]
            heading = 1 if _bounce(t + 0.01, speed * self.u, span, phase) + body[0] >= x else -1
            y = int(self.h * fy + self.px(6) * math.sin(3 * t + i))
            color = colors[i % 2]
            cv2.ellipse(frame, (x, y), body, 0, 0, 360, color, -1)
            head = (x + heading * body[0], y - body[1])
            cv2.circle(frame, head, self.px(13), color, -1)
            for side in (-1, 1):
                ear = np.array(
                    [
                        [head[0] + side * self.px(4), head[1] - self.px(9)],
                        [head[0] + side * self.px(13), head[1] - self.px(8)],
                        [head[0] + side * self.px(9), head[1] - self.px(22)],
                    ],
                    dtype=np.int32,
                )
                cv2.fillPoly(frame, [ear], color)
            tail_end = (
                x - heading * (body[0] + self.px(16)),
                y - self.px(12 + 6 * math.sin(6 * t)),
            )
            cv2.line(frame, (x - heading * body[0], y), tail_end, color, self.px(4))


_SCENES: dict[str, type[_Scene]] = {
    "bars": _Bars,
    "road": _Road,
    "field": _Field,
    "ice": _Ice,
    "kitchen": _Kitchen,
    "garden": _Garden,
    "space": _Space,
    "stage": _Stage,
    "studio": _Studio,
    "beach": _Beach,
    "pets": _Pets,
}
SCENE_KINDS: tuple[str, ...] = tuple(_SCENES)


def plan_cuts(seconds: float, *, seed: int = 0) -> list[float]:
    """The times of the hard cuts that `write_video` puts into a video of this length and seed.

    Short videos get two cuts, about a third and two thirds of the way in; videos longer
    than 15 s get a cut every 4-12 s. A frame at time t belongs to shot
    ``bisect.bisect_right(cuts, t)``.
    """
    if seconds < 1.0:
        return []
    rng = np.random.default_rng([seed, 1])
    if seconds <= 15.0:
        return [
            round(seconds * (fraction + rng.uniform(-0.04, 0.04)), 3) for fraction in (1 / 3, 2 / 3)
        ]
    cuts: list[float] = []
    at = float(rng.uniform(4, 12))
    while at < seconds - 2.0:
        cuts.append(round(at, 3))
        at += float(rng.uniform(4, 12))
    return cuts


def render_frames(
    scene: str, *, width: int, height: int, fps: int, seconds: float, seed: int
) -> Iterator[Image]:
    """The frames of a video as yuv420p planes (I420 layout), one at a time."""
    painter = _SCENES[scene](width, height, np.random.default_rng([seed, 2]))
    cuts = plan_cuts(seconds, seed=seed)
    frame = np.empty((height, width, 3), dtype=np.uint8)
    shot, background = -1, frame
    for index in range(max(1, round(seconds * fps))):
        t = index / fps
        current = bisect.bisect_right(cuts, t)
        if current != shot:
            shot, background = current, painter.background(current)
        np.copyto(frame, background)
        painter.draw(frame, t, shot)
        # OpenCV's conversion is BT.601 limited range, what H.264 players assume, and is
        # cheaper than letting the encoder rescale each RGB frame.
        yield cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420).astype(np.uint8, copy=False)
