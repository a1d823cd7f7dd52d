"""Trained heads for every tab: list them, load one, make it an end-to-end Keras model, export it.

The API the Classify and Ideal & adversarial tabs use:

    heads.choices(keys)        dropdown entries ("my model: <name>", "head:<key>") for a session's heads
    heads.load(key)            -> cache.Head (info: labels, backbone, metadata; model: features -> probs)
    heads.end_to_end(key)      -> keras.Model, raw RGB (N×S×S×3, 0–255) -> probabilities (differentiable)
    heads.export(key)          -> [<name>.keras, <name>.labels.json]: the end-to-end model, for download

`cache.parse_choice(value)` turns a dropdown value back into a key (None for an ImageNet backbone).
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from tl import backbones, cache

list_heads = cache.list_heads  # every valid cached head, newest first (all sessions: use `choices` for one)


def choices(keys: Sequence[str]) -> list[tuple[str, str]]:
    """Dropdown entries for the given head keys that are still cached (vanished heads are left out)."""
    infos = [cache.head_meta(cache.parse_choice(k) or k) for k in keys]
    return [cache.head_choice(info) for info in infos if info is not None]




def load(key: str) -> cache.Head:
    """A cached head by key.

    Raises:
        ValueError: no such head (never trained here, evicted, or damaged and dropped).
    """
    head = cache.load_head(key)
    if head is None:
        raise ValueError(f"This trained model is no longer available; please train it again. Received: key {key!r}")
    return head


def pixel_layers(spec: backbones.BackboneSpec) -> list[Any]:
    """Plain, serializable Keras layers reproducing a backbone's `preprocess_input` on RGB in [0, 255]."""
    import keras

    if spec.pixel_mode == "tf":
        return [keras.layers.Rescaling(1.0 / 127.5, offset=-1.0, name="preprocess")]
    if spec.pixel_mode == "caffe":  # RGB -> BGR, then subtract the ImageNet BGR means: a fixed 1×1 conv
        swap = np.zeros((1, 1, 3, 3), np.float32)
        swap[0, 0, [2, 1, 0], [0, 1, 2]] = 1.0
        conv = keras.layers.Conv2D(3, 1, name="preprocess", trainable=False)
        conv.build((None, None, None, 3))
        conv.set_weights([swap, -np.array([103.939, 116.779, 123.68], np.float32)])
        return [conv]
    if spec.pixel_mode == "none":
        return []
    raise ValueError(f"Unknown pixel_mode. Expected 'tf', 'caffe' or 'none'. Received: {spec.pixel_mode!r}")


def end_to_end(head: cache.Head | str) -> Any:
    """One Keras model: raw RGB batches (N×S×S×3, 0–255) -> the head's class probabilities.

    Args:
        head: a loaded head or its key.

    Preprocessing, the frozen backbone up to its feature layer, global average pooling and the head, in
    plain Keras layers only: it saves to `.keras` and loads with `safe_mode=True` without custom objects.
    """
    import keras

    head = load(head) if isinstance(head, str) else head
    net = backbones.get_backbone(head.info.backbone)
    size = net.spec.input_size
    inputs = keras.Input((size, size, 3), name="rgb_0_255")
    x = inputs
    for layer in pixel_layers(net.spec):
        x = layer(x)
    trunk = keras.Model(net.net.inputs, net.net.get_layer(net.spec.feature_layer).output, name=f"{net.spec.name}_trunk")
    trunk.trainable = False
    x = keras.layers.GlobalAveragePooling2D(name="pool")(trunk(x))
    outputs = head.model(x)
    return keras.Model(inputs, outputs, name=_safe_name(head.info.name))


def _safe_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() else "_" for c in name).strip("_")
    return (cleaned or "model")[:60]


def export(key: str, directory: str | os.PathLike | None = None, name: str | None = None) -> list[Path]:
    """Write `<name>.keras` (backbone + head, raw RGB in) and `<name>.labels.json` beside it.

    Args:
        key: a head key.
        directory: where to write; when None, a per-head folder in the system's temporary directory,
            reused by later exports of the same head (so repeated downloads cost nothing).
        name: the file name stem; the name the head was first trained under when None.

    Returns:
        The two paths: the model and its labels (JSON: labels, input size, backbone, how to call it).
    """
    head = load(key)
    out = Path(directory or Path(tempfile.gettempdir()) / "tl-exports" / key)
    out.mkdir(parents=True, exist_ok=True)
    stem = _safe_name(name or head.info.name)
    model_path, labels_path = out / f"{stem}.keras", out / f"{stem}.labels.json"
    if directory is None and model_path.exists() and labels_path.exists():
        return [model_path, labels_path]
    model = end_to_end(head)
    tmp = out / f".tmp-{os.getpid()}-{threading.get_ident()}.keras"
    model.save(tmp)
    os.replace(tmp, model_path)
    labels_path.write_text(json.dumps({
        "labels": list(head.info.labels),
        "input": f"RGB in [0, 255] as float32, shape (N, {model.input_shape[1]}, {model.input_shape[2]}, 3), "
                 "the centred square of the photo resized to that size; "
                 "preprocessing is inside the model",
        "output": "class probabilities in the order of labels",
        "backbone": head.info.backbone,
        "load": "keras.saving.load_model(path)  # safe_mode=True works",
    }, indent=1))
    return [model_path, labels_path]
