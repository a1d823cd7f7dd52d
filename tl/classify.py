"""Top-k labels for an image (ImageNet, or a trained head's classes) and a Grad-CAM heatmap for one class."""

from __future__ import annotations

import dataclasses
import functools
import json

from typing import Sequence

import numpy as np
from PIL import Image

from tl import backbones, cache, images, weights


DISPLAY_SIDE = 512  # the Grad-CAM overlay is shown at up to this size (the foolbox photos: as they are)


@functools.cache
def imagenet_classes() -> tuple[str, ...]:
    """The 1000 ImageNet class names as Keras's `decode_predictions` spells them (e.g. "Egyptian_cat")."""
    index = json.loads(weights.ensure(weights.CLASS_INDEX_FILE).read_text())
    return tuple(index[str(i)][1] for i in range(len(index)))


def class_index(name: str) -> int:
    """The ImageNet index of a class name; spaces and underscores and case are interchangeable.

    Raises:
        ValueError: unknown class name.
    """
    key = name.strip().replace(" ", "_").lower()
    for i, label in enumerate(imagenet_classes()):
        if label.lower() == key:
            return i
    raise ValueError(f"Unknown ImageNet class. Expected a name such as 'tabby' or 'Egyptian_cat'. Received: {name!r}")


@dataclasses.dataclass(frozen=True)
class Prediction:
    """What the Classify tab shows."""

    labels: dict[str, float]  # top-k class name -> probability, best first
    cam_class: str  # the class Grad-CAM explains
    heatmap: np.ndarray  # the model's crop at display size, h×w×3 uint8, with Grad-CAM blended in
    cam: np.ndarray  # the raw Grad-CAM map over the model's crop, in [0, 1]


def _jet_table() -> np.ndarray:
    """The jet colormap as a 256-entry uint8 RGB lookup table."""
    v = np.linspace(0.0, 1.0, 256)[:, None]
    rgb = np.clip(1.5 - np.abs(4.0 * v - np.array([3.0, 2.0, 1.0])), 0.0, 1.0)
    return (rgb * 255.0 + 0.5).astype(np.uint8)


JET = _jet_table()


def overlay(square: np.ndarray, cam: np.ndarray, alpha: float = 0.45) -> np.ndarray:
    """Blend a [0, 1] heat map (any size) in jet colours over an RGB image; returns a new uint8 image."""
    h, w = square.shape[:2]
    levels = Image.fromarray(np.clip(cam * 255.0 + 0.5, 0, 255).astype(np.uint8))
    heat = Image.fromarray(JET[np.asarray(levels.resize((w, h), Image.Resampling.BICUBIC))])
    return np.asarray(Image.blend(Image.fromarray(square), heat, alpha))


def classify(
    image: images.ImageSource,
    backbone: str = backbones.DEFAULT,
    top_k: int = 5,
    cam_class: str | None = None,
) -> Prediction:
    """Classify one image with an ImageNet backbone or a trained head and explain one class with Grad-CAM.

    Args:
        image: anything `images.load_rgb` accepts.
        backbone: a registry name, or "head:<key>" for a trained head (see `cache.head_choice`); Grad-CAM
            then runs through the backbone and the head.
        top_k: how many labels to return (1–1000).
        cam_class: the class to explain; None or "" for the top class.

    Returns:
        A `Prediction`.

    Raises:
        images.ImageError, backbones.UnknownBackbone, weights.WeightsUnavailable, ValueError.
    """
    if not 1 <= top_k <= 1000:
        raise ValueError(f"top_k must be between 1 and 1000. Received: {top_k}")
    key = cache.parse_choice(backbone)
    if key is not None:
        return classify_with_head(image, key, top_k, cam_class)
    rgb = images.load_rgb(image, min_side=DISPLAY_SIDE)
    target = class_index(cam_class) if cam_class else -1
    net = backbones.get_backbone(backbone)
    p, cam = net.classify_one(images.fit(rgb, net.spec.input_size), target)
    return _prediction(rgb, p, cam, imagenet_classes(), target, top_k)


def _prediction(rgb: np.ndarray, p: np.ndarray, cam: np.ndarray, names: Sequence[str], target: int, top_k: int) -> Prediction:
    """Top-k labels, the explained class (the top one when `target` < 0) and the overlay on the photo."""
    best = np.argsort(p)[::-1][: min(top_k, len(names))]
    explained = target if target >= 0 else int(best[0])
    return Prediction(
        labels={names[i]: float(p[i]) for i in best},
        cam_class=names[explained],
        heatmap=overlay(images.center_square(rgb, DISPLAY_SIDE), cam),
        cam=cam,
    )


def classify_with_head(image: images.ImageSource, key: str, top_k: int = 5, cam_class: str | None = None) -> Prediction:
    """Classify one image with a trained head (on its backbone) and explain one class with Grad-CAM.

    Args:
        image: anything `images.load_rgb` accepts.
        key: a head key (`cache.HeadInfo.key`).
        top_k: how many labels to return (at most the head's number of classes).
        cam_class: one of the head's labels; None or "" for the top class.

    Raises:
        ValueError: unknown or vanished head, or a class the head does not have.
    """
    head = cache.load_head(key)
    if head is None:
        raise ValueError(f"This trained model is no longer available; please train it again. Received: key {key!r}")
    names = head.info.labels
    if cam_class and cam_class not in names:
        raise ValueError(f"Unknown class for this model. Expected one of {list(names)}. Received: {cam_class!r}")
    target = names.index(cam_class) if cam_class else -1
    rgb = images.load_rgb(image, min_side=DISPLAY_SIDE)
    net = backbones.get_backbone(head.info.backbone)
    probs, cams = net.classify_with_head(images.fit(rgb, net.spec.input_size), head.model, target)
    return _prediction(rgb, probs[0], cams[0], names, target, top_k)
