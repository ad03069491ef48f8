"""Image embeddings: a tiny ONNX CNN run by OpenCV, and every way a backend is unavailable.

The `onnx` package is not installed here (so torch cannot export), and an ONNX file is
a protocol-buffers message: the test writes a two-layer conv net's file field by field.
"""

from __future__ import annotations

import struct
from pathlib import Path

import cv2
import numpy as np
import pytest

from ml.errors import ModelUnavailable
from ml.image_embed import load_image_embedder

# --- a minimal protocol-buffers writer, for the fields an ONNX model needs ---------------


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, value: int | bytes | str) -> bytes:
    if isinstance(value, int):
        return _varint(number << 3) + _varint(value)
    data = value.encode() if isinstance(value, str) else value
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _tensor(name: str, array: np.ndarray) -> bytes:
    dims = b"".join(_field(1, size) for size in array.shape)
    data = array.astype("<f4").tobytes()
    return dims + _field(2, 1) + _field(8, name) + _field(9, data)  # 1 = FLOAT


def _ints_attribute(name: str, values: list[int]) -> bytes:
    return _field(1, name) + b"".join(_field(8, v) for v in values) + _field(20, 7)  # INTS


def _int_attribute(name: str, value: int) -> bytes:
    return _field(1, name) + _field(3, value) + _field(20, 2)  # INT


def _node(op: str, inputs: list[str], outputs: list[str], attributes: list[bytes]) -> bytes:
    return (
        b"".join(_field(1, name) for name in inputs)
        + b"".join(_field(2, name) for name in outputs)
        + _field(4, op)
        + b"".join(_field(5, attribute) for attribute in attributes)
    )


def _value_info(name: str, dims: list[int | str]) -> bytes:
    shape = b"".join(_field(1, _field(2, d) if isinstance(d, str) else _field(1, d)) for d in dims)
    tensor_type = _field(1, 1) + _field(2, shape)  # elem_type FLOAT, shape
    return _field(1, name) + _field(2, _field(1, tensor_type))


def write_tiny_cnn(path: Path, *, seed: int = 0) -> Path:
    """Conv(3->8, stride 2) -> ReLU -> Conv(8->16, stride 2) -> ReLU -> global pool -> 16."""
    rng = np.random.default_rng(seed)
    conv = [_ints_attribute("strides", [2, 2]), _ints_attribute("pads", [1, 1, 1, 1])]
    nodes = [
        _node("Conv", ["input", "w1", "b1"], ["c1"], conv),
        _node("Relu", ["c1"], ["r1"], []),
        _node("Conv", ["r1", "w2", "b2"], ["c2"], conv),
        _node("Relu", ["c2"], ["r2"], []),
        _node("GlobalAveragePool", ["r2"], ["pooled"], []),
        _node("Flatten", ["pooled"], ["embedding"], [_int_attribute("axis", 1)]),
    ]
    weights = {
        "w1": rng.normal(0, 0.5, (8, 3, 3, 3)),
        "b1": rng.normal(0, 0.1, 8),
        "w2": rng.normal(0, 0.3, (16, 8, 3, 3)),
        "b2": rng.normal(0, 0.1, 16),
    }
    graph = (
        b"".join(_field(1, node) for node in nodes)
        + _field(2, "tiny_cnn")
        + b"".join(_field(5, _tensor(name, array)) for name, array in weights.items())
        + _field(11, _value_info("input", ["batch", 3, 224, 224]))
        + _field(12, _value_info("embedding", ["batch", 16]))
    )
    opset = _field(1, "") + _field(2, 13)
    model = _field(1, 7) + _field(2, "tests") + _field(7, graph) + _field(8, opset)
    path.write_bytes(model)
    return path


def _jpeg(color: tuple[int, int, int], *, stripes: bool = False) -> bytes:
    image = np.full((48, 64, 3), color, dtype=np.uint8)
    if stripes:
        image[::8] = 255 - np.asarray(color, dtype=np.uint8)
    ok, data = cv2.imencode(".jpg", image)
    assert ok
    return data.tobytes()


@pytest.fixture(autouse=True)
def _fresh_loader() -> None:
    load_image_embedder.cache_clear()


def test_onnx_cnn_embeds_each_image(tmp_path: Path) -> None:
    model = write_tiny_cnn(tmp_path / "tiny.onnx")
    embedder = load_image_embedder(f"onnx:{model}")
    red, blue = _jpeg((0, 0, 200)), _jpeg((200, 0, 0), stripes=True)
    vectors = embedder.embed([red, blue, red])
    assert vectors.shape == (3, 16)
    assert vectors.dtype == np.float32
    assert np.isfinite(vectors).all()
    assert np.allclose(vectors[0], vectors[2])
    assert not np.allclose(vectors[0], vectors[1])


def test_the_embedder_is_loaded_once_per_spec(tmp_path: Path) -> None:
    spec = f"onnx:{write_tiny_cnn(tmp_path / 'tiny.onnx')}"
    assert load_image_embedder(spec) is load_image_embedder(spec)
    assert load_image_embedder.cache_info().misses == 1


def test_unreadable_images_are_refused(tmp_path: Path) -> None:
    embedder = load_image_embedder(f"onnx:{write_tiny_cnn(tmp_path / 'tiny.onnx')}")
    with pytest.raises(ValueError, match="image 1 is not a readable"):
        embedder.embed([_jpeg((1, 2, 3)), b"not a picture"])


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "no image model configured"),
        ("  ", "no image model configured"),
        ("resnet50", "not understood"),
        ("onnx:", "not understood"),
        ("onnx:/nowhere/model.onnx", "does not exist"),
        ("clip:/nowhere/clip-model", "CLIP"),
    ],
)
def test_unavailable_backends_say_why(spec: str, message: str) -> None:
    with pytest.raises(ModelUnavailable, match=message):
        load_image_embedder(spec)


def test_a_file_that_is_not_an_onnx_model(tmp_path: Path) -> None:
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"\x00\x01 not protobuf" + struct.pack("<f", 1.5))
    with pytest.raises(ModelUnavailable, match="cannot read the ONNX image model"):
        load_image_embedder(f"onnx:{broken}")
