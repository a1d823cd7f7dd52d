"""A differentiable classifier on raw RGB pixels: what feature visualization and attacks optimize against."""

from __future__ import annotations

import dataclasses
import functools
import threading
from typing import Any, Callable

import numpy as np

from tl import backbones, cache

# A differentiable function from an N×S×S×3 float32 tensor of raw RGB in [0, 255] to N×C logits.
LogitsFn = Callable[[Any], Any]


@dataclasses.dataclass(frozen=True, eq=False)  # compared and hashed by identity (a cache key)
class Classifier:
    """Anything with logits on raw pixels and class names: an ImageNet backbone, or a trained head on one.

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

    def class_index(self, name: str) -> int:
        """The index of a class by name: the exact name, else ignoring case and spaces versus underscores.

        Raises:
            ValueError: not one of this classifier's classes.
        """
        names = self.class_names
        if name in names:
            return names.index(name)
        key = _normalize(name)
        for i, label in enumerate(names):
            if _normalize(label) == key:
                return i
        expected = list(names) if len(names) <= 20 else f"its {len(names)} classes, such as {list(names[:3])}"
        raise ValueError(f"Unknown class for this model. Expected one of {expected}. Received: {name!r}")

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


def _normalize(name: str) -> str:
    return str(name).strip().replace(" ", "_").lower()


def for_model(choice: str) -> Classifier:
    """The classifier a model dropdown value names: a registry backbone ("mobilenet") or a trained head
    ("head:<key>", see `cache.head_choice`).

    Raises:
        backbones.UnknownBackbone, weights.WeightsUnavailable: the backbone (of the head) cannot be used.
        ValueError: the head is not (or no longer) cached.
    """
    key = cache.parse_choice(choice)
    return imagenet(choice) if key is None else trained_head(key)


_head_lock = threading.Lock()


def trained_head(key: str) -> Classifier:
    """The classifier of a trained head: its pre-softmax "logits" layer on its backbone's pooled features.

    One per head key (content-addressed: a key's head never changes), built on first use; failures are not
    cached. Gradients flow from the head's logits through the frozen backbone to the raw pixels.

    Raises:
        ValueError: no such head (never trained here, evicted, or damaged).
    """
    with _head_lock:
        return _trained_head(key)


@functools.lru_cache(maxsize=16)
def _trained_head(key: str) -> Classifier:
    import keras
    import tensorflow as tf

    from tl import heads

    head = heads.load(key)
    net = backbones.get_backbone(head.info.backbone)
    scores = keras.Model(head.model.inputs, head.model.get_layer("logits").output, name="head_logits")

    def logits(rgb: Any) -> Any:
        _, fmap, _ = net.taps(net.preprocess(rgb), training=False)  # 1. backbone features (spatial)
        return scores(tf.reduce_mean(fmap, axis=[1, 2]), training=False)  # 2. pooled -> the head's logits

    label, value = cache.head_choice(head.info)
    return Classifier(label, value, net.spec.input_size, logits, tuple(head.info.labels))
