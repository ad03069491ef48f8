"""Optional image embeddings of keyframes: a CLIP model or an ONNX CNN.

The backend is named by a spec string, as the settings hold it:

- ``""``: no image model (raises ModelUnavailable, so the step is skipped with a reason);
- ``"clip:<model name or path>"``: a sentence-transformers CLIP model;
- ``"onnx:<path to .onnx>"``: an image classifier run by OpenCV's DNN module, fed 224x224
  RGB with ImageNet's mean and standard deviation; its output is the embedding.

Loaded models are cached per process. The caller pools the per-frame vectors per video.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
import numpy.typing as npt

from ml.errors import ModelUnavailable

__all__ = ["ImageEmbedder", "load_image_embedder"]

Vectors = npt.NDArray[np.float32]

_IMAGENET_MEAN = np.asarray([0.485, 0.456, 0.406], dtype=np.float32)
_IMAGENET_STD = np.asarray([0.229, 0.224, 0.225], dtype=np.float32)
_ONNX_SIZE = 224


class ImageEmbedder(Protocol):
    name: str

    def embed(self, jpegs: Sequence[bytes]) -> Vectors:
        """One row per image, in order."""
        ...


def _decode(jpegs: Sequence[bytes]) -> list[npt.NDArray[Any]]:
    images = []
    for index, data in enumerate(jpegs):
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f"image {index} is not a readable JPEG or PNG")
        images.append(image)
    return images


class OnnxEmbedder:
    def __init__(self, path: Path) -> None:
        self.name = f"onnx:{path}"
        if not path.is_file():
            raise ModelUnavailable(
                f"the ONNX image model {path} does not exist; set the image model setting "
                "to 'onnx:<path to an .onnx file>' or leave it empty"
            )
        try:
            self.net = cv2.dnn.readNetFromONNX(str(path))
        except cv2.error as exc:
            raise ModelUnavailable(
                f"OpenCV cannot read the ONNX image model {path}: {str(exc).strip()}"
            ) from exc

    def embed(self, jpegs: Sequence[bytes]) -> Vectors:
        if not jpegs:
            return np.empty((0, 0), dtype=np.float32)
        blob = cv2.dnn.blobFromImages(
            _decode(jpegs), scalefactor=1 / 255, size=(_ONNX_SIZE, _ONNX_SIZE), swapRB=True
        )
        blob = (blob - _IMAGENET_MEAN[None, :, None, None]) / _IMAGENET_STD[None, :, None, None]
        self.net.setInput(blob.astype(np.float32))
        output = np.asarray(self.net.forward(), dtype=np.float32)
        return output.reshape(len(jpegs), -1)


class ClipEmbedder:
    def __init__(self, name: str) -> None:
        self.name = f"clip:{name}"
        try:
            from PIL import Image  # sentence-transformers takes images as PIL images
        except ImportError as exc:
            raise ModelUnavailable(
                "CLIP image embeddings need the Pillow package, which is not installed"
            ) from exc
        self._pil = Image
        try:
            from sentence_transformers import SentenceTransformer

            self.model: Any = SentenceTransformer(name, device="cpu")
        except (OSError, ValueError, RuntimeError) as exc:
            raise ModelUnavailable(
                f"the CLIP model {name!r} cannot be loaded ({str(exc).strip().splitlines()[0]}); "
                "set the image model setting to 'clip:<local directory of a "
                "sentence-transformers CLIP model>' or leave it empty"
            ) from exc

    def embed(self, jpegs: Sequence[bytes]) -> Vectors:
        if not jpegs:
            return np.empty((0, 0), dtype=np.float32)
        images = [
            self._pil.fromarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB)) for image in _decode(jpegs)
        ]
        vectors = self.model.encode(images, convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32).reshape(len(jpegs), -1)


@functools.lru_cache(maxsize=2)
def load_image_embedder(spec: str) -> ImageEmbedder:
    """The embedder named by `spec`, loaded once per process; ModelUnavailable if none."""
    kind, _, target = spec.strip().partition(":")
    target = target.strip()
    if not kind:
        raise ModelUnavailable("no image model configured")
    if kind == "onnx" and target:
        return OnnxEmbedder(Path(target).expanduser())
    if kind == "clip" and target:
        return ClipEmbedder(target)
    raise ModelUnavailable(
        f"the image model setting {spec!r} is not understood; use "
        "'clip:<model name or path>' or 'onnx:<path to .onnx>', or leave it empty"
    )
