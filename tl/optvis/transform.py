"""Random image transformations for transformation robustness, each a small factory returning a closure.

Every transform is `t(image, seed) -> image` on an N×H×W×C float tensor, with `seed` a stateless TF seed
(an int tensor of shape [2]): the same seed gives the same result, inside or outside a `tf.function`, and
no transform holds random state. `compose([...])` splits one seed into one per transform. The defaults
(`standard_transforms`) are lucent's, for images in [0, 1].

Geometric transforms (constant padding, jitter, scale, rotation, crop) also expose their geometry: a 3×3
matrix from output to input pixel coordinates and the output size. `compose` multiplies those matrices and
resamples once, so lucent's five-step pipeline costs one bilinear warp (and one in the backward pass)
instead of five ops and five gradients, and the image is interpolated once instead of twice.
"""

from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple, Optional, Sequence

Transform = Callable[[Any, Any], Any]


class Geometry(NamedTuple):
    """Where each output pixel comes from: input (x, y, 1) ∝ matrix @ output (x, y, 1); pixel centres at integers."""

    matrix: Any  # 3×3 float32 tensor
    height: Any  # int32 scalar tensors: the output size
    width: Any


def _choice(values: Sequence[float], seed: Any) -> Any:
    """One of `values`, picked uniformly by a stateless seed (a float32 scalar tensor)."""
    import tensorflow as tf

    i = tf.random.stateless_uniform([], seed=seed, minval=0, maxval=len(values), dtype=tf.int32)
    return tf.gather(tf.constant(list(values), tf.float32), i)


def _matrix(a: Any, b: Any, c: Any, d: Any, e: Any, f: Any) -> Any:
    """[[a, b, c], [d, e, f], [0, 0, 1]] as a float32 tensor."""
    import tensorflow as tf

    row = [tf.cast(v, tf.float32) for v in (a, b, c, d, e, f)]
    return tf.stack([tf.stack(row[:3]), tf.stack(row[3:]), tf.constant([0.0, 0.0, 1.0])])


def _geometric(inner: Transform, geometry: Callable[[Any, Any, Any], Geometry], fill: Optional[float]) -> Transform:
    """Mark `inner` as a geometric transform: `geometry(seed, h, w)` describes it, `fill` is its outside value."""
    inner.geometry = geometry  # type: ignore[attr-defined]
    inner.fill = fill  # type: ignore[attr-defined]
    return inner


def warp(image: Any, g: Geometry, fill: float = 0.5) -> Any:
    """Resample `image` (bilinear) through a `Geometry`; pixels from outside the image get `fill`."""
    import tensorflow as tf

    n = tf.shape(image)[0]
    m = g.matrix / g.matrix[2, 2]
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=image,
        transforms=tf.tile(tf.reshape(m, [9])[None, :8], [n, 1]),
        output_shape=tf.stack([g.height, g.width]),
        fill_value=fill,
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )


def pad(width: int, mode: str = "constant", constant_value: float = 0.5) -> Transform:
    """Pad every side by `width` pixels ("constant" with `constant_value`, "reflect" or "symmetric")."""
    if width < 0:
        raise ValueError(f"Expected a padding width >= 0. Received: width={width}")
    if mode.lower() not in ("constant", "reflect", "symmetric"):
        raise ValueError(f"Expected mode 'constant', 'reflect' or 'symmetric'. Received: mode={mode!r}")

    def inner(image: Any, seed: Any) -> Any:
        import tensorflow as tf

        paddings = [[0, 0], [width, width], [width, width], [0, 0]]
        return tf.pad(image, paddings, mode=mode.upper(), constant_values=constant_value)

    if mode.lower() != "constant":
        return inner
    return _geometric(inner, lambda seed, h, w: Geometry(
        _matrix(1, 0, -width, 0, 1, -width), h + 2 * width, w + 2 * width), constant_value)


def jitter(d: int) -> Transform:
    """Crop d pixels off the height and the width at a random offset (0 … d in each direction)."""
    if d < 0:
        raise ValueError(f"Expected a jitter d >= 0. Received: d={d}")

    def offsets(seed: Any) -> Any:
        import tensorflow as tf

        return tf.unstack(tf.random.stateless_uniform([2], seed=seed, minval=0, maxval=d + 1, dtype=tf.int32))

    def inner(image: Any, seed: Any) -> Any:
        import tensorflow as tf

        if d == 0:
            return image
        shape = tf.shape(image)
        dy, dx = offsets(seed)
        return tf.slice(image, [0, dy, dx, 0], [-1, shape[1] - d, shape[2] - d, -1])

    def geometry(seed: Any, h: Any, w: Any) -> Geometry:
        dy, dx = offsets(seed)
        return Geometry(_matrix(1, 0, dx, 0, 1, dy), h - d, w - d)

    return _geometric(inner, geometry, None)


def _scaled_size(h: Any, w: Any, scale: Any) -> tuple[Any, Any]:
    import tensorflow as tf

    def side(n: Any) -> Any:
        return tf.cast(tf.round(tf.cast(n, tf.float32) * scale), tf.int32)

    return side(h), side(w)


def _resize_geometry(h: Any, w: Any, h2: Any, w2: Any) -> Geometry:
    """tf.image.resize's bilinear sampling (half-pixel centres) as a matrix."""
    import tensorflow as tf

    sy = tf.cast(h, tf.float32) / tf.cast(h2, tf.float32)
    sx = tf.cast(w, tf.float32) / tf.cast(w2, tf.float32)
    return Geometry(_matrix(sx, 0, 0.5 * sx - 0.5, 0, sy, 0.5 * sy - 0.5), h2, w2)


def random_scale(scales: Sequence[float]) -> Transform:
    """Resize (bilinear) by a factor picked from `scales`."""
    if not scales or any(s <= 0 for s in scales):
        raise ValueError(f"Expected one or more positive scale factors. Received: scales={list(scales)}")

    def inner(image: Any, seed: Any) -> Any:
        import tensorflow as tf

        shape = tf.shape(image)
        return tf.image.resize(image, tf.stack(_scaled_size(shape[1], shape[2], _choice(scales, seed))))

    def geometry(seed: Any, h: Any, w: Any) -> Geometry:
        return _resize_geometry(h, w, *_scaled_size(h, w, _choice(scales, seed)))

    return _geometric(inner, geometry, None)


def _rotation(degrees: Any, h: Any, w: Any) -> Geometry:
    import tensorflow as tf

    theta = tf.cast(degrees, tf.float32) * (math.pi / 180.0)
    cos, sin = tf.cos(theta), tf.sin(theta)
    cx, cy = (tf.cast(w, tf.float32) - 1.0) / 2.0, (tf.cast(h, tf.float32) - 1.0) / 2.0
    # Output pixel (x, y) samples the input at R(-theta) applied about the centre.
    return Geometry(_matrix(cos, -sin, cx - cos * cx + sin * cy, sin, cos, cy - sin * cx - cos * cy), h, w)


def rotate_image(image: Any, degrees: Any, fill: float = 0.5) -> Any:
    """Rotate about the centre by `degrees` (counter-clockwise on screen), bilinear, same size, `fill` outside."""
    import tensorflow as tf

    shape = tf.shape(image)
    return warp(image, _rotation(degrees, shape[1], shape[2]), fill)


def random_rotate(angles: Sequence[float], fill: float = 0.5) -> Transform:
    """Rotate by an angle in degrees picked from `angles`."""
    if not angles:
        raise ValueError(f"Expected one or more angles. Received: angles={list(angles)}")

    def inner(image: Any, seed: Any) -> Any:
        return rotate_image(image, _choice(angles, seed), fill)

    return _geometric(inner, lambda seed, h, w: _rotation(_choice(angles, seed), h, w), fill)


def resize(size: int) -> Transform:
    """Resize (bilinear) to size×size; deterministic."""

    def inner(image: Any, seed: Any) -> Any:
        import tensorflow as tf

        return tf.image.resize(image, [size, size], method="bilinear")

    return _geometric(inner, lambda seed, h, w: _resize_geometry(h, w, size, size), None)


def center_crop_or_pad(size: int, fill: float = 0.5) -> Transform:
    """Centre-crop or pad (with `fill`) to size×size; deterministic. Keeps scale changes real before a
    fixed-input network (a final resize would undo them)."""

    def offset(n: Any) -> tuple[Any, Any]:  # (pad before, crop start after padding)
        import tensorflow as tf

        p = tf.maximum(size - n, 0)
        return p, (n + p - size) // 2

    def inner(image: Any, seed: Any) -> Any:
        import tensorflow as tf

        shape = tf.shape(image)
        (ph, top), (pw, left) = offset(shape[1]), offset(shape[2])
        image = tf.pad(image, [[0, 0], [ph // 2, ph - ph // 2], [pw // 2, pw - pw // 2], [0, 0]], constant_values=fill)
        out = tf.slice(image, [0, top, left, 0], [-1, size, size, -1])
        return tf.ensure_shape(out, [None, size, size, None])

    def geometry(seed: Any, h: Any, w: Any) -> Geometry:
        (ph, top), (pw, left) = offset(h), offset(w)
        return Geometry(_matrix(1, 0, left - pw // 2, 0, 1, top - ph // 2), size, size)

    inner.static_size = size  # type: ignore[attr-defined]
    return _geometric(inner, geometry, fill)


def compose(transforms: Sequence[Transform]) -> Transform:
    """Apply `transforms` in order, each with its own seed split from the one given.

    When every transform is geometric and they agree on the fill value, the result is one warp.
    """
    transforms = list(transforms)
    fills = {t.fill for t in transforms if getattr(t, "fill", None) is not None}
    fused = bool(transforms) and all(hasattr(t, "geometry") for t in transforms) and len(fills) <= 1
    fill = fills.pop() if fills else 0.5

    def seeds_for(seed: Any) -> Any:
        import tensorflow as tf

        return tf.random.experimental.stateless_split(seed, num=len(transforms))

    def inner(image: Any, seed: Any) -> Any:
        import tensorflow as tf

        if not transforms:
            return image
        if fused:
            shape = tf.shape(image)
            out = warp(image, geometry(seed, shape[1], shape[2]), fill)
            static = [getattr(t, "static_size", None) for t in transforms][-1]
            return out if static is None else tf.ensure_shape(out, [None, static, static, None])
        seeds = seeds_for(seed)
        for i, t in enumerate(transforms):
            image = t(image, seeds[i])
        return image

    def geometry(seed: Any, h: Any, w: Any) -> Geometry:
        import tensorflow as tf

        seeds, m = seeds_for(seed), tf.eye(3)
        for i, t in enumerate(transforms):
            g = t.geometry(seeds[i], h, w)
            m, h, w = m @ g.matrix, g.height, g.width  # the first transform's input is the last to apply
        return Geometry(m, h, w)

    return _geometric(inner, geometry, fill) if fused else inner


def sequential(transforms: Sequence[Transform]) -> Transform:
    """`compose` without fusing: each transform resamples in turn (for tests and comparisons)."""
    return compose([lambda image, seed, t=t: t(image, seed) for t in transforms])


# lucent's defaults for a 224-pixel image in [0, 1]: pad, jitter, scale ±10 %, rotate ±10°, jitter again.
standard_transforms: list[Transform] = [
    pad(12, mode="constant", constant_value=0.5),
    jitter(8),
    random_scale([1 + (i - 5) / 50.0 for i in range(11)]),
    random_rotate(list(range(-10, 11)) + 5 * [0]),
    jitter(4),
]
