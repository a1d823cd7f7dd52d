"""A differentiable classifier on raw RGB pixels: what feature visualization and attacks optimize against."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Callable

import numpy as np

from tl import backbones

# A differentiable function from an N×S×S×3 float32 tensor of raw RGB in [0, 255] to N×C logits.
LogitsFn = Callable[[Any], Any]


@dataclasses.dataclass(frozen=True, eq=False)  # compared and hashed by identity (a cache key)
class Classifier:
    """Anything with logits on raw pixels and class names: an ImageNet backbone today, backbone + head later.

    `logits` must be differentiable with respect to its input and usable inside a `tf.function`.
    """

    name: str  # shown to people, e.g. "MobileNet (v1, 1.0, 224)"
    key: str  # a stable cache key, e.g. "imagenet:mobilenet"
    input_size: int
    logits: LogitsFn
    class_names: tuple[str, ...]

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities (N×C) for RGB images in [0, 255] (N×S×S×3 or S×S×3), as numpy."""
        import tensorflow as tf

        x = np.asarray(images, np.float32)
        if x.ndim == 3:
            x = x[None]
        size = self.input_size
        if x.ndim != 4 or x.shape[1:] != (size, size, 3):
            raise ValueError(f"Expected RGB images of shape (N, {size}, {size}, 3). Received: shape {x.shape}")
        return self._probabilities(tf.constant(x)).numpy()

    @functools.cached_property
    def _probabilities(self) -> Any:
        """Softmax of `logits`, compiled once per classifier."""
        import tensorflow as tf

        size = self.input_size
        return tf.function(lambda x: tf.nn.softmax(self.logits(x)),
                           input_signature=[tf.TensorSpec([None, size, size, 3], tf.float32)])

    def top_k(self, image: np.ndarray, k: int = 5) -> dict[str, float]:
        """The k most probable classes of one image, name -> probability, best first."""
        p = self.probabilities(image)[0]
        best = np.argsort(p)[::-1][:k]
        return {self.class_names[i]: float(p[i]) for i in best}


@functools.cache
def imagenet(backbone: str = backbones.DEFAULT) -> Classifier:
    """The ImageNet classifier of a registry backbone (built on first use, one per process; failures are not cached).

    Raises:
        backbones.UnknownBackbone: `backbone` is not in the registry.
        weights.WeightsUnavailable: its weights cannot be had now.
    """
    from tl import classify

    net = backbones.get_backbone(backbone)

    def logits(rgb: Any) -> Any:
        return net.net(net.preprocess(rgb), training=False)

    return Classifier(net.spec.title, f"imagenet:{backbone}", net.spec.input_size, logits, classify.imagenet_classes())
