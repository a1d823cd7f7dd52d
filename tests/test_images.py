"""Any upload -> RGB uint8, and the clear refusals."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from tl import images
from realdata import CHELSEA


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def gradient(w: int = 64, h: int = 48) -> Image.Image:
    x = np.linspace(0, 255, w, dtype=np.uint8)[None, :, None].repeat(h, 0).repeat(3, 2)
    x[..., 1] = 128
    return Image.fromarray(x)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF"])
def test_every_format_becomes_rgb_uint8(fmt):
    out = images.load_rgb(encode(gradient(), fmt))
    assert out.dtype == np.uint8 and out.shape == (48, 64, 3)
    assert out[:, :8].mean() < out[:, -8:].mean()  # the left-to-right gradient survived


def test_gif_takes_the_first_frame():
    frames = [Image.new("RGB", (40, 40), c) for c in ((255, 0, 0), (0, 0, 255))]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    out = images.load_rgb(data)
    assert out[..., 0].mean() > 200 and out[..., 2].mean() < 50


def test_exif_orientation_is_applied():
    img = gradient(64, 48)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    out = images.load_rgb(encode(img, "JPEG", exif=exif))
    assert out.shape == (64, 48, 3)


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda: Image.new("L", (40, 40), 77), (77, 77, 77)),
        (lambda: Image.new("RGB", (40, 40), (10, 200, 30)).quantize(4), (10, 200, 30)),
        (lambda: Image.new("RGBA", (40, 40), (0, 0, 0, 0)), (255, 255, 255)),  # transparent -> white
        (lambda: Image.new("RGBA", (40, 40), (0, 0, 0, 255)), (0, 0, 0)),
        (lambda: Image.new("LA", (40, 40), (0, 0)), (255, 255, 255)),
        (lambda: Image.new("CMYK", (40, 40), (0, 0, 0, 0)), (255, 255, 255)),
        (lambda: Image.fromarray(np.full((40, 40), 65535, np.uint16)), (255, 255, 255)),  # 16-bit white
        (lambda: Image.fromarray(np.full((40, 40), 32768, np.uint16)), (128, 128, 128)),
    ],
    ids=["gray", "palette", "rgba-clear", "rgba-opaque", "la-clear", "cmyk", "16bit-white", "16bit-mid"],
)
def test_modes_are_converted(make, expected):
    img = make()
    fmt = "TIFF" if img.mode in ("CMYK",) else "PNG"
    out = images.load_rgb(encode(img, fmt))
    assert out.dtype == np.uint8 and out.shape == (40, 40, 3)
    assert tuple(int(v) for v in out[20, 20]) == pytest.approx(expected, abs=1)


def test_arrays_are_copied_not_mutated():
    arr = np.full((40, 40, 3), 7, np.uint8)
    out = images.load_rgb(arr)
    out[:] = 0
    assert arr.min() == 7


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims width×height pixels but carries no data (a decompression bomb's header)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b"")


TRUNCATED_JPEG = encode(gradient(200, 200), "JPEG")[:300]


@pytest.mark.parametrize(
    "data, message",
    [
        (b"this is not an image at all", "not an image"),
        (b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n", "not an image"),
        (b"", "not an image"),
        (TRUNCATED_JPEG, "damaged or truncated"),
        (png_header_only(100_000, 100_000), "too large"),  # 10 gigapixels: refused before decoding
        (png_header_only(9_000, 9_000), "too large"),  # 81 MP: above our limit, below Pillow's
        (encode(Image.new("RGB", (8, 8)), "PNG"), "too small"),
        (encode(Image.new("RGB", (500, 20)), "PNG"), "too small"),
    ],
    ids=["text", "pdf", "empty", "truncated-jpeg", "bomb", "over-limit", "tiny", "sliver"],
)
def test_bad_input_gets_a_clear_message(data, message):
    with pytest.raises(images.ImageError, match=message):
        images.load_rgb(data)


def test_missing_file_and_wrong_type():
    with pytest.raises(images.ImageError, match="No such image file"):
        images.load_rgb("/nonexistent/photo.jpg")
    with pytest.raises(images.ImageError, match="Expected an image"):
        images.load_rgb(12345)  # type: ignore[arg-type]


def test_fit_keeps_the_aspect_ratio_and_centres():
    # three vertical bands, red | green | blue: the centred square of a 3:1 image is the green band
    band = np.zeros((100, 300, 3), np.uint8)
    band[:, :100, 0] = band[:, 100:200, 1] = band[:, 200:, 2] = 255
    out = images.fit(band, 224)
    assert out.shape == (224, 224, 3)
    assert out[:, 5:-5, 1].min() > 250 and out[:, 5:-5, [0, 2]].max() < 5


def test_large_jpeg_decodes_at_reduced_scale_but_not_below_min_side():
    big = encode(Image.fromarray(np.random.default_rng(0).integers(0, 255, (1600, 2400, 3), np.uint8)), "JPEG")
    out = images.load_rgb(big, min_side=300)
    assert min(out.shape[:2]) >= 300 and out.shape[0] < 1600
    assert out.shape[1] / out.shape[0] == pytest.approx(1.5, abs=0.01)


def test_real_photo():
    out = images.load_rgb(CHELSEA)
    assert out.shape == (300, 451, 3) and out.dtype == np.uint8
