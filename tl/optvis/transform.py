"""Random image transformations for transformation robustness, each a small factory returning a closure.

Every transform is `t(image, seed) -> image` on an N×H×W×C float tensor, with `seed` a stateless TF seed
(an int tensor of shape [2]): the same seed gives the same result, inside or outside a `tf.function`, and
no transform holds random state. `compose([...])` splits one seed into one per transform. The defaults
(`standard_transforms`) are lucent's, for images in [0, 1].
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

Transform = Callable[[Any, Any], Any]


def _choice(values: Sequence[float], seed: Any) -> Any:
    """One of `values`, picked uniformly by a stateless seed (a float32 scalar tensor)."""
    import tensorflow as tf

    if len(values) == 0:
        raise ValueError(f"Expected at least one value to choose from. Received: {list(values)}")
    i = tf.random.stateless_uniform([], seed=seed, minval=0, maxval=len(values), dtype=tf.int32)
    return tf.gather(tf.constant(list(values), tf.float32), i)


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

    return inner


def jitter(d: int) -> Transform:
    """Crop d pixels off the height and the width at a random offset (0 … d in each direction)."""
    if d < 0:
        raise ValueError(f"Expected a jitter d >= 0. Received: d={d}")

    def inner(image: Any, seed: Any) -> Any:
        import tensorflow as tf

        if d == 0:
            return image
        shape = tf.shape(image)
        dy, dx = tf.unstack(tf.random.stateless_uniform([2], seed=seed, minval=0, maxval=d + 1, dtype=tf.int32))
        return tf.slice(image, [0, dy, dx, 0], [-1, shape[1] - d, shape[2] - d, -1])

    return inner


def random_scale(scales: Sequence[float]) -> Transform:
    """Resize (bilinear) by a factor picked from `scales`."""
    if any(s <= 0 for s in scales):
        raise ValueError(f"Expected positive scale factors. Received: scales={list(scales)}")

    def inner(image: Any, seed: Any) -> Any:
        import tensorflow as tf

        scale = _choice(scales, seed)
        hw = tf.cast(tf.shape(image)[1:3], tf.float32)
        return tf.image.resize(image, tf.cast(tf.round(hw * scale), tf.int32), method="bilinear")

    return inner


def rotate_image(image: Any, degrees: Any, fill: float = 0.5) -> Any:
    """Rotate about the centre by `degrees` (counter-clockwise on screen), bilinear, same size, `fill` outside."""
    import tensorflow as tf

    shape = tf.shape(image)
    h, w = tf.cast(shape[1], tf.float32), tf.cast(shape[2], tf.float32)
    theta = tf.cast(degrees, tf.float32) * (math.pi / 180.0)
    cos, sin = tf.cos(theta), tf.sin(theta)
    cx, cy = (w - 1.0) / 2.0, (h - 1.0) / 2.0
    # Output pixel (x, y) samples the input at R(-theta) applied about the centre.
    matrix = tf.stack([cos, -sin, cx - cos * cx + sin * cy, sin, cos, cy - sin * cx - cos * cy, 0.0, 0.0])
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=image,
        transforms=tf.tile(matrix[None], [shape[0], 1]),
        output_shape=shape[1:3],
        fill_value=fill,
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )


def random_rotate(angles: Sequence[float], fill: float = 0.5) -> Transform:
    """Rotate by an angle in degrees picked from `angles`."""

    def inner(image: Any, seed: Any) -> Any:
        return rotate_image(image, _choice(angles, seed), fill)

    return inner


def resize(size: int) -> Transform:
    """Resize (bilinear) to size×size; deterministic. The last transform before a fixed-input network."""
    def inner(image: Any, seed: Any) -> Any:
        import tensorflow as tf

        return tf.image.resize(image, [size, size], method="bilinear")

    return inner


def compose(transforms: Sequence[Transform]) -> Transform:
    """Apply `transforms` in order, each with its own seed split from the one given."""
    transforms = list(transforms)

    def inner(image: Any, seed: Any) -> Any:
        import tensorflow as tf

        if not transforms:
            return image
        seeds = tf.random.experimental.stateless_split(seed, num=len(transforms))
        for i, t in enumerate(transforms):
            image = t(image, seeds[i])
        return image

    return inner


# lucent's defaults for a 224-pixel image in [0, 1]: pad, jitter, scale ±10 %, rotate ±10°, jitter again.
standard_transforms: list[Transform] = [
    pad(12, mode="constant", constant_value=0.5),
    jitter(8),
    random_scale([1 + (i - 5) / 50.0 for i in range(11)]),
    random_rotate(list(range(-10, 11)) + 5 * [0]),
    jitter(4),
]


def center_crop_or_pad(size: int, fill: float = 0.5) -> Transform:
    """Centre-crop or pad (with `fill`) to size×size; deterministic. Keeps scale changes real before a
    fixed-input network (a final resize would undo them)."""

    def inner(image: Any, seed: Any) -> Any:
        import tensorflow as tf

        shape = tf.shape(image)
        h, w = shape[1], shape[2]
        ph, pw = tf.maximum(size - h, 0), tf.maximum(size - w, 0)
        image = tf.pad(image, [[0, 0], [ph // 2, ph - ph // 2], [pw // 2, pw - pw // 2], [0, 0]], constant_values=fill)
        h, w = h + ph, w + pw
        out = tf.slice(image, [0, (h - size) // 2, (w - size) // 2, 0], [-1, size, size, -1])
        return tf.ensure_shape(out, [None, size, size, None])

    return inner
