"""Any upload -> RGB uint8; the resize/crop policy shared by every backbone.

`load_rgb` accepts a path, bytes, a PIL image or a numpy array and returns a new H×W×3 uint8 array:
EXIF orientation applied, the first frame of an animation, grayscale/palette/CMYK/16-bit converted,
transparency composited on white. Bad input raises `ImageError` with a message meant for a person.

Resize policy (`fit`): scale so the *shorter* side equals the model's input size, keeping the aspect
ratio, then take the centred square. This is the standard ImageNet evaluation crop; nothing is ever
stretched. Preprocessing (`preprocess_input`) happens inside the compiled model, never here.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path
from typing import Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# Larger images are refused before decoding (Pillow's own bomb check stays on as a second line).
MAX_PIXELS = int(os.environ.get("TL_MAX_PIXELS", 40_000_000))
# Smaller images carry too little to classify.
MIN_SIDE = 32

ImageSource = Union[str, os.PathLike, bytes, Image.Image, np.ndarray]


class ImageError(ValueError):
    """The input is not an image this app can use; the message says why, for a person."""


def _open(source: ImageSource) -> Image.Image:
    if isinstance(source, Image.Image):
        return source
    if isinstance(source, (bytes, bytearray)):
        return Image.open(io.BytesIO(source))
    if isinstance(source, (str, os.PathLike)):
        if not Path(source).is_file():
            raise ImageError(f"No such image file. Received: {os.fspath(source)!r}")
        return Image.open(source)
    raise ImageError(f"Expected an image (file path, bytes, PIL image or array). Received: {type(source).__name__}")


def _check_size(width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        raise ImageError(
            f"The image is too large: {width}×{height} = {width * height / 1e6:.0f} megapixels; "
            f"the limit is {MAX_PIXELS / 1e6:.0f} megapixels. Received: {width}×{height}"
        )
    if min(width, height) < MIN_SIDE:
        raise ImageError(
            f"The image is too small to classify: each side must be at least {MIN_SIDE} pixels. "
            f"Received: {width}×{height}"
        )


def _array_to_uint8(arr: np.ndarray) -> np.ndarray:
    """A grayscale/RGB/RGBA array of any numeric dtype -> uint8, scaling high-bit-depth data.

    Floats are taken as [0, 1] when their maximum is at most 1, else as [0, 255]. Integers above 255 are
    taken as 12-bit (max 4095) or 16-bit data.
    """
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == bool:
        return arr.astype(np.uint8) * 255
    a = np.nan_to_num(arr.astype(np.float64))
    top = float(a.max()) if a.size else 0.0
    if np.issubdtype(arr.dtype, np.floating):
        scale = 1.0 if top <= 1.0 else 255.0
    else:
        scale = 255.0 if top <= 255 else 4095.0 if top <= 4095 else max(65535.0, top)
    return np.clip(a / scale * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _flatten(arr: np.ndarray) -> np.ndarray:
    """H×W, H×W×1, H×W×3 or H×W×4 uint8 -> H×W×3 (alpha composited on white)."""
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 2, 3, 4):
        raise ImageError(f"Expected an image array of shape H×W, H×W×3 or H×W×4. Received: shape {arr.shape}")
    if arr.shape[2] in (2, 4):  # gray+alpha or RGBA
        color, alpha = arr[..., :-1].astype(np.float32), arr[..., -1:].astype(np.float32) / 255.0
        arr = (color * alpha + 255.0 * (1.0 - alpha) + 0.5).astype(np.uint8)
    if arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    return np.ascontiguousarray(arr)


def _pil_to_rgb(img: Image.Image) -> np.ndarray:
    img.seek(0) if getattr(img, "is_animated", False) else None  # first frame of GIF/WebP/TIFF stacks
    img = ImageOps.exif_transpose(img)
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):  # 16-bit / 32-bit grayscale
        return _flatten(_array_to_uint8(np.asarray(img)))
    if img.mode == "P" and "transparency" in img.info or img.mode in ("LA", "PA", "La"):
        img = img.convert("RGBA")
    if img.mode == "RGBA":
        return _flatten(np.asarray(img))
    if img.mode == "RGBa":
        img = img.convert("RGBA")
        return _flatten(np.asarray(img))
    return np.array(img.convert("RGB"))


def load_rgb(source: ImageSource, min_side: int | None = None) -> np.ndarray:
    """Turn any supported image into a new RGB uint8 array.

    Args:
        source: a file path, the file's bytes, a PIL image, or a numpy array (H×W, H×W×3, H×W×4;
            uint8, uint16 or float in [0, 1]).

    Returns:
        An H×W×3 uint8 array that the caller owns.

    Raises:
        ImageError: not an image, corrupt, too large, or too small.
    """
    if isinstance(source, np.ndarray):
        _check_size(*(source.shape[1], source.shape[0]) if source.ndim >= 2 else (0, 0))
        return _flatten(_array_to_uint8(source)).copy()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = _open(source)
            _check_size(*img.size)  # header only: nothing decoded yet
            if min_side and img.format == "JPEG":
                w, h = img.size
                scale = min(w, h) / min_side
                img.draft("RGB", (int(w / scale + 0.5), int(h / scale + 0.5)))
            img.load()
            return _pil_to_rgb(img)
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise ImageError(f"The image is too large to decode safely ({e}).") from None
    except UnidentifiedImageError:
        raise ImageError(
            "This file is not an image we can read. Use JPEG, PNG, WebP, GIF, BMP or TIFF."
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        raise ImageError(f"The image file is damaged or truncated and cannot be decoded ({e}).") from None


def fit(image: np.ndarray, size: int) -> np.ndarray:
    """Resize the shorter side to `size` (aspect kept) and take the centred size×size square.

    Args:
        image: H×W×3 uint8.
        size: the model's input side.

    Returns:
        A new size×size×3 uint8 array.
    """
    h, w = image.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = Image.fromarray(image[top : top + side, left : left + side])
    return np.asarray(square.resize((size, size), Image.Resampling.BILINEAR, reducing_gap=3.0)).copy()


def center_square(image: np.ndarray, max_side: int = 512) -> np.ndarray:
    """The centred square the model sees, at display resolution (for overlays)."""
    h, w = image.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = image[top : top + side, left : left + side]
    if side > max_side:
        square = np.asarray(Image.fromarray(square).resize((max_side, max_side), Image.Resampling.BILINEAR))
    return square.copy()
