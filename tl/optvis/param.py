"""Image parameterizations: pixels or a decorrelated Fourier spectrum, each as `(params, image_fn)`.

As in lucent's `param/`, a parameterization returns what is optimized and a function that turns it into
an image (N×H×W×3 in [0, 1]). One difference, for TensorFlow: `params` is a tuple of initial *tensors*
and `image_fn(params)` is pure, so a single compiled render step serves every run and every concurrent
user (no per-run `tf.Variable`s, no retracing, no locks). The Fourier basis with a 1/f spectrum and the
decorrelated colour space make gradient steps favour natural-image statistics (Olah et al., Distill 2017).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

Params = tuple[Any, ...]  # tf.Tensors
ImageFn = Callable[[Params], Any]

# Square root of the colour correlation of ImageNet pixels (from Lucid/lucent), columns normalized so the
# largest has norm 1.
COLOR_CORRELATION_SVD_SQRT = np.array(
    [[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]], np.float32
)
COLOR_CORRELATION = COLOR_CORRELATION_SVD_SQRT / np.max(np.linalg.norm(COLOR_CORRELATION_SVD_SQRT, axis=0))
FFT_MAGIC = 4.0  # lucent's constant: keeps the initial image's contrast comparable to pixel init


def _check_shape(shape: tuple[int, int, int, int]) -> None:
    if len(shape) != 4 or shape[3] != 3 or min(shape) < 1:
        raise ValueError(f"Expected an image shape (N, H, W, 3) with positive sizes. Received: {shape}")


def _normal(shape: tuple[int, ...], sd: float, seed: int) -> Any:
    import tensorflow as tf

    return tf.random.stateless_normal(shape, seed=[seed, 0], stddev=sd, dtype=tf.float32)


def pixel_image(shape: tuple[int, int, int, int], sd: float = 0.01, seed: int = 0) -> tuple[Params, ImageFn]:
    """Pixels as parameters (the identity parameterization), initialised from N(0, sd²).

    Returns:
        `((pixels,), image_fn)`; `image_fn` returns the pixels unchanged (unbounded; see `to_valid_rgb`).
    """
    _check_shape(shape)
    return (_normal(shape, sd, seed),), lambda params: params[0]


def rfft2d_freqs(h: int, w: int) -> np.ndarray:
    """The frequency magnitude of every coefficient of a real 2-D FFT of an h×w image (h × (w//2+1))."""
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.fftfreq(w)[: w // 2 + 1]
    return np.sqrt(fx * fx + fy * fy)


def fft_image(
    shape: tuple[int, int, int, int], sd: float = 0.01, decay_power: float = 1.0, seed: int = 0
) -> tuple[Params, ImageFn]:
    """A Fourier-spectrum parameterization with a 1/f^decay_power scaling (lucent's `fft_image`).

    Returns:
        `((spectrum,), image_fn)`: the spectrum is N×3×H×(W//2+1)×2 (real and imaginary parts);
        `image_fn` returns N×H×W×3 (unbounded).
    """
    import tensorflow as tf

    _check_shape(shape)
    n, h, w, c = shape
    freqs = rfft2d_freqs(h, w)
    # 1/f scaling, "ortho" normalization (irfft2d divides by h·w, ortho by its square root) and lucent's
    # magic constant, folded into one constant.
    scale = (1.0 / np.maximum(freqs, 1.0 / max(w, h)) ** decay_power) * np.sqrt(h * w) / FFT_MAGIC
    scale = tf.constant(scale.astype(np.float32))
    params = (_normal((n, c, h, w // 2 + 1, 2), sd, seed),)

    def image_fn(p: Params) -> Any:
        spectrum = tf.complex(p[0][..., 0] * scale, p[0][..., 1] * scale)
        planes = tf.signal.irfft2d(spectrum, fft_length=[h, w])  # N×C×H×W
        return tf.transpose(planes, [0, 2, 3, 1])

    return params, image_fn


def decorrelate_colors(image: Any) -> Any:
    """Map an image from the decorrelated colour space to RGB (a 3×3 linear map per pixel)."""
    import tensorflow as tf

    return tf.tensordot(image, tf.constant(COLOR_CORRELATION.T), axes=1)


def to_valid_rgb(image_fn: ImageFn, decorrelate: bool = True) -> ImageFn:
    """Wrap `image_fn` so its output is RGB in [0, 1]: optional colour decorrelation, then a sigmoid."""
    import tensorflow as tf

    def valid(params: Params) -> Any:
        x = image_fn(params)
        if decorrelate:
            x = decorrelate_colors(x)
        return tf.sigmoid(x)

    return valid


def image(
    size: int, batch: int = 1, sd: float = 0.01, fft: bool = True, decorrelate: bool = True, seed: int = 0
) -> tuple[Params, ImageFn]:
    """The default parameterization: a size×size RGB image in [0, 1] (lucent's `param.image`).

    Args:
        size: side in pixels.
        batch: how many images.
        sd: standard deviation of the initial noise.
        fft: Fourier spectrum (True) or pixels (False).
        decorrelate: optimize in ImageNet's decorrelated colour space.
        seed: the same seed gives the same initial image.

    Returns:
        `(params, image_fn)`, `image_fn(params)` is batch×size×size×3 in [0, 1].
    """
    if not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"Expected a positive image size. Received: size={size!r}")
    shape = (batch, int(size), int(size), 3)
    params, image_fn = (fft_image if fft else pixel_image)(shape, sd=sd, seed=seed)
    return params, to_valid_rgb(image_fn, decorrelate)
