"""The backbone registry (one data row per network) and the shared, compiled models built from it.

A row says which `keras.applications` builder makes the network, its input size, its `preprocess_input`,
the layer Grad-CAM looks at and the layer whose pooled output is the feature vector. Adding a backbone is
adding a row. `get_backbone(name)` builds a network once per process (lazily, thread-safely) with
`weights="imagenet"` and wraps it in compiled `tf.function`s that take raw RGB pixels in [0, 255]:
preprocessing happens inside, so callers never touch `preprocess_input` and their arrays are never
mutated.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import weakref
from typing import Any, Sequence

import numpy as np

from tl import weights
from tl.batching import MicroBatcher

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class BackboneSpec:
    """Everything that differs between backbones, as data."""

    name: str  # registry key, e.g. "mobilenet"
    title: str  # shown to people
    builder: str  # attribute of keras.applications that builds the network
    module: str  # keras.applications submodule holding its preprocess_input
    input_size: int
    gradcam_layer: str  # last convolutional activation, looked at by Grad-CAM
    feature_layer: str  # spatial output whose global average is the feature vector
    feature_size: int
    weight_files: tuple[str, ...]  # Keras cache files that weights="imagenet" (with top) reads
    builder_kwargs: tuple[tuple[str, Any], ...] = ()
    # What preprocess_input does, as data, so an exported model can reproduce it with plain layers:
    # "tf": x/127.5 - 1; "caffe": RGB->BGR minus the ImageNet means; "none": the model rescales itself.
    pixel_mode: str = "tf"

    @property
    def offline_ready(self) -> bool:
        """True when every weight file is cached or can be seeded without internet."""
        return all(weights.is_cached(f) or weights.has_seed(f) for f in self.weight_files)


_CLASS_INDEX = (weights.CLASS_INDEX_FILE,)

SPECS: tuple[BackboneSpec, ...] = (
    BackboneSpec(
        "mobilenet", "MobileNet (v1, 1.0, 224)", "MobileNet", "mobilenet", 224,
        "conv_pw_13_relu", "conv_pw_13_relu", 1024,
        ("mobilenet_1_0_224_tf.h5", *_CLASS_INDEX), (("alpha", 1.0),),
    ),
    BackboneSpec(
        "mobilenetv2", "MobileNetV2 (1.0, 224)", "MobileNetV2", "mobilenet_v2", 224,
        "out_relu", "out_relu", 1280,
        ("mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5", *_CLASS_INDEX), (("alpha", 1.0),),
    ),
    BackboneSpec(
        "vgg16", "VGG16", "VGG16", "vgg16", 224,
        "block5_conv3", "block5_pool", 512,
        ("vgg16_weights_tf_dim_ordering_tf_kernels.h5", *_CLASS_INDEX), pixel_mode="caffe",
    ),
    BackboneSpec(
        "resnet50", "ResNet50", "ResNet50", "resnet50", 224,
        "conv5_block3_out", "conv5_block3_out", 2048,
        ("resnet50_weights_tf_dim_ordering_tf_kernels.h5", *_CLASS_INDEX), pixel_mode="caffe",
    ),
    BackboneSpec(
        "efficientnetb0", "EfficientNetB0", "EfficientNetB0", "efficientnet", 224,
        "top_activation", "top_activation", 1280,
        ("efficientnetb0.h5", *_CLASS_INDEX), pixel_mode="none",
    ),
)
REGISTRY: dict[str, BackboneSpec] = {s.name: s for s in SPECS}
DEFAULT = "mobilenet"


class UnknownBackbone(ValueError):
    """The name is not in the registry."""


def spec(name: str) -> BackboneSpec:
    """The registry row for `name`.

    Raises:
        UnknownBackbone: with the list of known names.
    """
    if name not in REGISTRY:
        raise UnknownBackbone(f"Unknown backbone. Expected one of {sorted(REGISTRY)}. Received: {name!r}")
    return REGISTRY[name]


def _explain(conv: Any, z: Any, class_index: Any, tape: Any) -> tuple[Any, Any]:
    """Grad-CAM of one class per image from a tape that recorded `conv` -> scores `z`.

    Args:
        conv: the last conv activations (N×h×w×c), recorded by `tape`.
        z: the class scores (N×k) computed from `conv` under `tape`.
        class_index: N int32 class indices; a negative one means that image's top class.

    Returns:
        The N explained class indices and the N×h×w maps in [0, 1].
    """
    import tensorflow as tf

    with tape:
        target = tf.where(class_index < 0, tf.argmax(z, axis=-1, output_type=tf.int32), class_index)
        score = tf.gather(z, target, axis=1, batch_dims=1)
    grads = tape.gradient(score, conv)
    cam = tf.nn.relu(tf.reduce_sum(conv * tf.reduce_mean(grads, axis=[1, 2], keepdims=True), axis=-1))
    return target, cam / (tf.reduce_max(cam, axis=[1, 2], keepdims=True) + 1e-8)


class Backbone:
    """One ImageNet network with compiled entry points on raw RGB batches (N×S×S×3, 0–255)."""

    def __init__(self, spec: BackboneSpec):
        import keras
        import tensorflow as tf

        self.spec = spec
        size = spec.input_size
        for fname in spec.weight_files:
            weights.ensure(fname)
        build = getattr(keras.applications, spec.builder)
        net = build(
            weights="imagenet",
            include_top=True,
            classifier_activation=None,  # logits: we apply softmax ourselves
            input_shape=(size, size, 3),
            **dict(spec.builder_kwargs),
        )
        self.net = net
        self.preprocess = getattr(keras.applications, spec.module).preprocess_input
        # One functional model exposing what every consumer needs from a single forward pass.
        self.taps = keras.Model(
            net.inputs,
            [net.get_layer(spec.gradcam_layer).output, net.get_layer(spec.feature_layer).output, net.output],
            name=f"{spec.name}_taps",
        )
        batch = tf.TensorSpec([None, size, size, 3], tf.float32)

        @tf.function(input_signature=[batch], reduce_retracing=True)
        def logits(rgb):
            return self.net(self.preprocess(rgb), training=False)

        @tf.function(input_signature=[batch], reduce_retracing=True)
        def features(rgb):
            _, fmap, _ = self.taps(self.preprocess(rgb), training=False)
            return tf.reduce_mean(fmap, axis=[1, 2])

        @tf.function(input_signature=[batch], reduce_retracing=True)
        def feature_maps(rgb):
            _, fmap, _ = self.taps(self.preprocess(rgb), training=False)
            return fmap

        @tf.function(input_signature=[batch, tf.TensorSpec([None], tf.int32)], reduce_retracing=True)
        def classify(rgb, class_index):
            # Probabilities and Grad-CAM in one pass: the backward pass only runs through the
            # classifier on top of the last conv layer, so it costs little beyond the forward.
            with tf.GradientTape() as tape:
                conv, _, z = self.taps(self.preprocess(rgb), training=False)
            target, cam = _explain(conv, z, class_index, tape)
            return tf.nn.softmax(z), cam, target

        self._logits, self._features, self._classify = logits, features, classify
        self._feature_maps = feature_maps
        self._head_fns: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # head model -> compiled fn
        self._head_lock = threading.Lock()
        self.weights_id = cache_weights_id(spec)
        # Concurrent requests share forward passes (TL_BATCH=0 turns it off, for comparison).
        self._batcher = (
            MicroBatcher(self._classify_many, max_batch=16, name=f"{spec.name}-classify")
            if os.environ.get("TL_BATCH", "1") != "0"
            else None
        )
        self.classify_one(np.zeros((size, size, 3), np.uint8))  # trace once, now
        self.feature_maps(np.zeros((1, size, size, 3), np.uint8))  # (training's entry point, likewise)

    def _batch(self, images: np.ndarray) -> np.ndarray:
        size = self.spec.input_size
        x = np.asarray(images)
        if x.ndim == 3:
            x = x[None]
        if x.ndim != 4 or x.shape[1:] != (size, size, 3):
            raise ValueError(f"Expected RGB images of shape (N, {size}, {size}, 3). Received: shape {x.shape}")
        return x.astype(np.float32)  # a copy: the caller's array is never touched

    def logits(self, images: np.ndarray) -> np.ndarray:
        """Raw class scores (N×1000) for a batch of RGB images in [0, 255]."""
        return self._logits(self._batch(images)).numpy()

    def predict_probabilities(self, images: np.ndarray) -> np.ndarray:
        """ImageNet probabilities (N×1000) for a batch of RGB images in [0, 255]."""
        import tensorflow as tf

        return tf.nn.softmax(self._logits(self._batch(images))).numpy()

    def features(self, images: np.ndarray) -> np.ndarray:
        """Global-average-pooled features (N×feature_size) for RGB images in [0, 255]."""
        return self._features(self._batch(images)).numpy()

    def _classify_many(self, items: Sequence[tuple[np.ndarray, int]]) -> list[tuple[np.ndarray, np.ndarray]]:
        x = np.stack([image for image, _ in items]).astype(np.float32)
        idx = np.array([i for _, i in items], np.int32)
        probs, cams, _ = self._classify(x, idx)
        return list(zip(probs.numpy(), cams.numpy()))

    def classify_one(self, image: np.ndarray, class_index: int = -1) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities (1000) and Grad-CAM map (h×w) for one S×S×3 image; concurrent calls are batched.

        Args:
            image: one RGB image in [0, 255], S×S×3.
            class_index: the ImageNet class Grad-CAM explains; -1 for the top class.
        """
        x = self._batch(image)[0]
        if self._batcher is None:
            return self._classify_many([(x, class_index)])[0]
        return self._batcher((x, class_index))

    def feature_maps(self, images: np.ndarray) -> np.ndarray:
        """The feature layer's spatial output (N×h×w×feature_size) for RGB images in [0, 255]."""
        return self._feature_maps(self._batch(images)).numpy()

    def _head_explainer(self, head: Any) -> Any:
        """The compiled probabilities-and-Grad-CAM function of backbone + `head`, built once per head."""
        import keras
        import tensorflow as tf

        with self._head_lock:
            fn = self._head_fns.get(head)
            if fn is None:
                scores = keras.Model(head.inputs, head.get_layer("logits").output)
                size = self.spec.input_size

                @tf.function(
                    input_signature=[tf.TensorSpec([None, size, size, 3], tf.float32), tf.TensorSpec([None], tf.int32)],
                    reduce_retracing=True,
                )
                def fn(rgb, class_index):
                    with tf.GradientTape() as tape:
                        conv, fmap, _ = self.taps(self.preprocess(rgb), training=False)
                        z = scores(tf.reduce_mean(fmap, axis=[1, 2]), training=False)
                    _, cam = _explain(conv, z, class_index, tape)
                    return tf.nn.softmax(z), cam

                self._head_fns[head] = fn
        return fn

    def classify_with_head(
        self, images: np.ndarray, head: Any, class_index: int = -1
    ) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities (N×k) of a trained head on the pooled features, and Grad-CAM through backbone + head.

        Args:
            images: RGB images in [0, 255], N×S×S×3.
            head: a Keras model from pooled features to probabilities with a layer named "logits".
            class_index: the head's class Grad-CAM explains; -1 for each image's top class.
        """
        x = self._batch(images)
        probs, cam = self._head_explainer(head)(x, np.full((x.shape[0],), class_index, np.int32))
        return probs.numpy(), cam.numpy()

    def classify_with_cam(self, images: np.ndarray, class_index: int = -1) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities (N×1000) and Grad-CAM maps (N×h×w in [0, 1]) for one class.

        Args:
            images: RGB images in [0, 255], N×S×S×3.
            class_index: the ImageNet class Grad-CAM explains; -1 for each image's top class.
        """
        x = self._batch(images)
        idx = np.full((x.shape[0],), class_index, np.int32)
        probs, cam, _ = self._classify(x, idx)
        return probs.numpy(), cam.numpy()


def cache_weights_id(row: BackboneSpec) -> str:
    """A content id of the backbone's weights file, part of every feature and head cache key."""
    from tl import cache

    return cache.weights_id(weights.ensure(row.weight_files[0]))


_built: dict[str, Backbone] = {}
_locks: dict[str, threading.Lock] = {name: threading.Lock() for name in REGISTRY}


def get_backbone(name: str = DEFAULT) -> Backbone:
    """The process-wide `Backbone` for `name`, built on first use.

    Raises:
        UnknownBackbone: `name` is not in the registry.
        weights.WeightsUnavailable: its weights are not cached and cannot be had now.
    """
    row = spec(name)
    if name not in _built:
        with _locks[name]:
            if name not in _built:
                log.info("building %s", row.title)
                _built[name] = Backbone(row)
    return _built[name]


def is_built(name: str) -> bool:
    """True when `name` is already loaded in this process."""
    return name in _built


def status(name: str) -> str:
    """A short, human description of whether `name` can be used right now."""
    row = spec(name)
    if is_built(name):
        return "loaded"
    if row.offline_ready:
        return "available offline"
    return "needs internet the first time (weights download)"
