"""What a rendered image should achieve, as small composable objectives (to maximize) that add and scale.

An `Objective` maps what the network saw (`Seen`: the logits of the transformed batch and the untransformed
image in [0, 1]) to a scalar tensor. `class_logprob(281) - 0.5 * total_variation()` is an objective; the
renderer maximizes it. Indices and weights may be Python numbers or tensors (tensors keep one compiled graph
for every class and weight).
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple


class Seen(NamedTuple):
    """The inputs of every objective."""

    logits: Any  # N×C logits of the transformed images
    image: Any  # N×H×W×3 image in [0, 1], before transforms


class Objective:
    """A scalar function of `Seen` to maximize; supports `a + b`, `a - b`, `-a`, `k * a`, `sum([...])`."""

    def __init__(self, fn: Callable[[Seen], Any], description: str = ""):
        self.fn = fn
        self.description = description

    def __call__(self, seen: Seen) -> Any:
        return self.fn(seen)

    def __repr__(self) -> str:
        return f"Objective({self.description})"

    def __add__(self, other: Objective | float) -> Objective:
        if isinstance(other, Objective):
            return Objective(lambda s: self(s) + other(s), f"{self.description} + {other.description}")
        return Objective(lambda s: self(s) + other, f"{self.description} + {other}")

    __radd__ = __add__  # sum([...]) starts from 0

    def __neg__(self) -> Objective:
        return Objective(lambda s: -self(s), f"-({self.description})")

    def __sub__(self, other: Objective | float) -> Objective:
        return self + (-other)

    def __mul__(self, k: Any) -> Objective:
        if isinstance(k, Objective):
            raise TypeError("Expected a number or a scalar tensor to scale an objective. Received: an Objective")
        return Objective(lambda s: k * self(s), f"{k if isinstance(k, (int, float)) else 'w'} * ({self.description})")

    __rmul__ = __mul__


def class_logprob(index: Any) -> Objective:
    """The mean log-probability of class `index` (log-softmax of the logits): pushes the class *and* down the rest."""
    import tensorflow as tf

    def fn(s: Seen) -> Any:
        return tf.reduce_mean(tf.gather(tf.nn.log_softmax(s.logits), index, axis=1))

    return Objective(fn, f"class_logprob({index if isinstance(index, int) else 'i'})")


def class_logit(index: Any) -> Objective:
    """The mean raw logit of class `index` (can grow without making the class the most probable)."""
    import tensorflow as tf

    def fn(s: Seen) -> Any:
        return tf.reduce_mean(tf.gather(s.logits, index, axis=1))

    return Objective(fn, f"class_logit({index if isinstance(index, int) else 'i'})")


def total_variation() -> Objective:
    """The mean absolute difference between each pixel and its right and lower neighbours (in [0, 1] units;
    0 = flat), over the (H−1)×(W−1) pixels that have both. A *penalty*: subtract it, e.g.
    `class_logprob(i) - 2.0 * total_variation()`. Computed as one depthwise convolution (4× faster than
    slicing, forward and backward).
    """
    import numpy as np
    import tensorflow as tf

    def fn(s: Seen) -> Any:
        channels = s.image.shape[-1]
        kernel = np.zeros((2, 2, channels, 2), np.float32)
        kernel[0, 0, :, :] = -1.0
        kernel[1, 0, :, 0] = 1.0  # down
        kernel[0, 1, :, 1] = 1.0  # right
        diffs = tf.nn.depthwise_conv2d(s.image, tf.constant(kernel), [1, 1, 1, 1], "VALID")
        return 2.0 * tf.reduce_mean(tf.abs(diffs))  # = mean |down| + mean |right|

    return Objective(fn, "total_variation()")
