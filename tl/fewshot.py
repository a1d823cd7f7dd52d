"""Few-shot transfer learning: cached backbone features of a few examples per class -> a small trained head.

The story of `train()`:

1. Validate the classes (2–20 named classes, each with images, within the caps) and decode every image.
2. Key the task by content: backbone + weights id + sorted class names + image hashes + hyperparameters.
   If a head with that key is cached, return it at once ("from cache").
3. Features: one forward pass per image (and per pixel-augmented view) through the frozen backbone,
   cached per (backbone, weights, image hash, view). From the feature *map* of each pass we also pool
   a few sub-windows ("feature-map crops"): crop-like extra views that cost no extra forward pass.
4. Split honestly, per image (never per view): a stratified 15 % hold-out when every class has at least
   5 images, else k-fold cross-validation with one image per class per fold; augmented views of a
   validation image are never trained on.
5. Train a logistic-regression-like head (dropout + dense softmax) with Keras `model.fit`; a callback
   reports epochs to the progress bar and records the curves.
6. Measure (accuracy, per-class accuracy, confusion matrix, misclassified images), store the head.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
from PIL import Image, ImageEnhance

from tl import backbones, cache, images

log = logging.getLogger(__name__)

MIN_CLASSES, MAX_CLASSES = 2, 20
MAX_IMAGES_PER_CLASS = int(os.environ.get("TL_MAX_IMAGES_PER_CLASS", 100))
MAX_IMAGES_TOTAL = int(os.environ.get("TL_MAX_IMAGES_TOTAL", 600))
HOLDOUT_MIN_PER_CLASS = 5  # below this, k-fold cross-validation instead of a hold-out
VIEWS_VERSION = "v1"  # bump when a view's recipe changes: old cached features are then not reused
AUGMENT_LEVELS = ("none", "fast", "full")
THUMB_SIDE = 160
IMPRINT_SCALE = 10.0  # logit scale of the imprinted (cosine) classifier the head starts from

Progress = Callable[[float, str], None]
ClassSpec = tuple[str, Sequence[images.ImageSource]]


@dataclasses.dataclass(frozen=True)
class HParams:
    """Head and augmentation hyperparameters (all part of the cache key)."""

    augment: str = "fast"  # "none" | "fast" (feature-map crops, free) | "full" (+ flip, crops, colour jitter)
    epochs: int = 15  # few are needed: the head starts from the imprinted class means
    learning_rate: float = 0.008
    batch_size: int = 16
    dropout: float = 0.25
    l2: float = 1e-4
    val_fraction: float = 0.15
    seed: int = 0

    def __post_init__(self) -> None:
        if self.augment not in AUGMENT_LEVELS:
            raise ValueError(f"Expected augment in {AUGMENT_LEVELS}. Received: augment={self.augment!r}")
        if not 1 <= self.epochs <= 500:
            raise ValueError(f"Expected 1 <= epochs <= 500. Received: epochs={self.epochs}")
        if not 0.0 < self.val_fraction < 0.5:
            raise ValueError(f"Expected 0 < val_fraction < 0.5. Received: val_fraction={self.val_fraction}")


@dataclasses.dataclass
class Sample:
    """One decoded example."""

    label: int
    hash: str
    square: np.ndarray  # the model's centre crop, S×S×3 uint8
    rgb: np.ndarray | None  # the full decoded image (kept only while pixel views are extracted)
    name: str  # what the user uploaded, for messages

    def thumbnail(self) -> np.ndarray:
        return np.asarray(Image.fromarray(self.square).resize((THUMB_SIDE, THUMB_SIDE), Image.Resampling.BILINEAR))


@dataclasses.dataclass(frozen=True)
class Mistake:
    """A validation image the head got wrong."""

    thumbnail: np.ndarray
    true: str
    predicted: str
    confidence: float


@dataclasses.dataclass(frozen=True)
class TrainResult:
    """What the Train tab shows; `key` names the head in the cache (see `cache.load_head`)."""

    key: str
    name: str
    backbone: str
    labels: tuple[str, ...]
    from_cache: bool
    validation: str  # how accuracy was measured, in words
    accuracy: float | None  # None when it could not be measured
    per_class: dict[str, float | None]
    confusion: np.ndarray  # k×k counts, rows = true class, columns = predicted
    history: dict[str, list[float]]  # loss, accuracy, and val_ curves when measured
    mistakes: list[Mistake]
    seconds: float
    counts: dict[str, int]  # images per class

    def summary(self) -> str:
        acc = "not measured" if self.accuracy is None else f"{self.accuracy:.0%}"
        src = "from cache" if self.from_cache else f"trained in {self.seconds:.1f} s"
        return f"{self.name}: validation accuracy {acc} ({self.validation}); {src}."


# --- 1. validation and decoding ---------------------------------------------------------------------


def validate_classes(classes: Sequence[ClassSpec]) -> list[tuple[str, list[images.ImageSource]]]:
    """Check the task's shape before anything is decoded.

    Args:
        classes: (name, images) pairs; images are anything `images.load_rgb` accepts.

    Returns:
        The classes with stripped names and image lists.

    Raises:
        ValueError: too few or too many classes, an empty or duplicate name, a class without images,
            too many images.
    """
    out = [(str(name or "").strip(), list(imgs or [])) for name, imgs in classes]
    if not MIN_CLASSES <= len(out) <= MAX_CLASSES:
        raise ValueError(
            f"Expected between {MIN_CLASSES} and {MAX_CLASSES} classes, each with a name and images. "
            f"Received: {len(out)} class{'es' if len(out) != 1 else ''}"
        )
    seen: dict[str, str] = {}
    for i, (name, imgs) in enumerate(out, 1):
        if not name:
            raise ValueError(f"Every class needs a name. Received: class {i} has an empty name")
        if name.lower() in seen:
            raise ValueError(f"Class names must be different. Received: {seen[name.lower()]!r} and {name!r}")
        seen[name.lower()] = name
        if not imgs:
            raise ValueError(f"Every class needs at least one image. Received: class {name!r} has none")
        if len(imgs) > MAX_IMAGES_PER_CLASS:
            raise ValueError(
                f"At most {MAX_IMAGES_PER_CLASS} images per class. Received: {len(imgs)} images in {name!r}"
            )
    total = sum(len(imgs) for _, imgs in out)
    if total > MAX_IMAGES_TOTAL:
        raise ValueError(f"At most {MAX_IMAGES_TOTAL} images in all. Received: {total}")
    return out


def _source_name(source: images.ImageSource) -> str:
    return Path(os.fspath(source)).name if isinstance(source, (str, os.PathLike)) else type(source).__name__


def image_hash(rgb: np.ndarray) -> str:
    """The content hash of a decoded image (pixels and shape; file names and formats do not matter)."""
    h = hashlib.sha256(str(rgb.shape).encode())
    h.update(np.ascontiguousarray(rgb).data)
    return h.hexdigest()[:32]


def load_samples(classes: Sequence[tuple[str, Sequence[images.ImageSource]]], size: int) -> list[Sample]:
    """Decode every image; duplicates within a class are dropped, across classes refused.

    Raises:
        images.ImageError: an image cannot be used (the message names the class and file).
        ValueError: the same image is in two classes.
    """
    samples: list[Sample] = []
    owner: dict[str, str] = {}
    for label, (name, sources) in enumerate(classes):
        for source in sources:
            try:
                rgb = images.load_rgb(source, min_side=size)
            except images.ImageError as e:
                raise images.ImageError(f"Class {name!r}, file {_source_name(source)!r}: {e}") from None
            h = image_hash(rgb)
            if h in owner:
                if owner[h] == name:
                    continue  # the same photo twice in one class counts once
                raise ValueError(
                    f"Each image must belong to one class. Received: {_source_name(source)!r} in both "
                    f"{owner[h]!r} and {name!r}"
                )
            owner[h] = name
            samples.append(Sample(label, h, images.fit(rgb, size), rgb, _source_name(source)))
    return samples


# --- 3. views and features ----------------------------------------------------------------------------


def pixel_views(level: str) -> tuple[str, ...]:
    """The pixel-level sources of an augmentation level; each costs one forward pass."""
    return ("full",) if level != "full" else ("full", "flip", "crop0", "crop1")


def _windows(h: int, w: int) -> list[tuple[int, int, int, int]]:
    """Sub-windows of an h×w feature map: its four corners at (h-1)×(w-1) and the centre at (h-2)×(w-2)."""
    if min(h, w) < 3:
        return []
    a, b = h - 1, w - 1
    out = [(0, 0, a, b), (0, 1, a, b), (1, 0, a, b), (1, 1, a, b)]
    return out + [(1, 1, h - 2, w - 2)]


def pool_views(fmap: np.ndarray, source: str) -> dict[str, np.ndarray]:
    """Global average of one h×w×F feature map, plus the averages of its sub-windows (feature-map crops)."""
    views = {f"{VIEWS_VERSION}:{source}": fmap.mean(axis=(0, 1))}
    for i, (top, left, hh, ww) in enumerate(_windows(*fmap.shape[:2])):
        views[f"{VIEWS_VERSION}:{source}:w{i}"] = fmap[top : top + hh, left : left + ww].mean(axis=(0, 1))
    return views


def view_names(level: str, window_count: int) -> list[str]:
    """The feature views one image contributes to training at an augmentation level."""
    names = []
    for src in pixel_views(level):
        names.append(f"{VIEWS_VERSION}:{src}")
        if level != "none":
            names += [f"{VIEWS_VERSION}:{src}:w{i}" for i in range(window_count)]
    return names


def render_view(sample: Sample, source: str, size: int) -> np.ndarray:
    """The pixels of one pixel-level view: the centre crop, its mirror, or a seeded random crop.

    Random crops take a square of 55–100 % of the shorter side at a random place, mirror it half the
    time and jitter brightness, contrast and saturation by up to ±10 %; the seed is the image hash and
    the view name, so a view is the same in every run (and its cached features stay valid).
    """
    if source == "full":
        return sample.square
    if source == "flip":
        return sample.square[:, ::-1].copy()
    rng = np.random.default_rng(int(hashlib.sha256(f"{sample.hash}:{source}".encode()).hexdigest()[:8], 16))
    rgb = sample.rgb if sample.rgb is not None else sample.square
    h, w = rgb.shape[:2]
    side = max(8, int(min(h, w) * rng.uniform(0.55, 1.0)))
    top, left = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
    img = Image.fromarray(rgb[top : top + side, left : left + side]).resize((size, size), Image.Resampling.BILINEAR)
    if rng.random() < 0.5:
        img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    for enhance in (ImageEnhance.Brightness, ImageEnhance.Contrast, ImageEnhance.Color):
        img = enhance(img).enhance(rng.uniform(0.9, 1.1))
    return np.asarray(img)


def feature_space(net: backbones.Backbone) -> str:
    """The cache namespace of a backbone's features: its name and weights id."""
    return f"{net.spec.name}-{net.weights_id}"


def extract(
    samples: Sequence[Sample], net: backbones.Backbone, level: str, progress: Progress | None = None,
    batch_size: int = 16,
) -> list[dict[str, np.ndarray]]:
    """The cached-or-computed feature views of every sample (forward passes only for what is missing).

    Returns:
        One dict per sample: view name -> feature vector (F floats).
    """
    space, size = feature_space(net), net.spec.input_size
    views = [cache.load_features(space, s.hash) for s in samples]
    todo = [(i, src) for i, s in enumerate(samples) for src in pixel_views(level) if f"{VIEWS_VERSION}:{src}" not in views[i]]
    for start in range(0, len(todo), batch_size):
        chunk = todo[start : start + batch_size]
        if progress:
            progress(start / max(1, len(todo)), f"Features: {start}/{len(todo)} views")
        fmaps = net.feature_maps(np.stack([render_view(samples[i], src, size) for i, src in chunk]))
        fresh: dict[int, dict[str, np.ndarray]] = {}
        for (i, src), fmap in zip(chunk, fmaps):
            fresh.setdefault(i, {}).update(pool_views(fmap, src))
        for i, new in fresh.items():
            views[i].update(new)
            cache.save_features(space, samples[i].hash, new, evict=False)
    if todo:
        cache.evict_features()
    if progress and todo:
        progress(1.0, f"Features: {len(todo)}/{len(todo)} views")
    return views


# --- 4. honest splits ---------------------------------------------------------------------------------


def folds(labels: np.ndarray, hashes: Sequence[str], hp: HParams) -> tuple[str, list[np.ndarray]]:
    """Validation index sets (into the samples) and how validation is done, in words.

    Every class with at least `HOLDOUT_MIN_PER_CLASS` images: one stratified hold-out of `val_fraction`
    (at least one image per class). Smallest class between 2 and 4 images: k-fold cross-validation, k =
    that size, each fold holding out at least one image of every class. A class with 1 image: none.
    The order is fixed by the image hashes and the seed, not by upload order.
    """
    k_classes = int(labels.max()) + 1
    counts = np.bincount(labels, minlength=k_classes)
    rng = np.random.default_rng(hp.seed)
    per_class = []
    for c in range(k_classes):
        idx = sorted(np.flatnonzero(labels == c), key=lambda i: hashes[i])
        per_class.append(np.array(idx)[rng.permutation(len(idx))])
    smallest = int(counts.min())
    if smallest >= HOLDOUT_MIN_PER_CLASS:
        val = np.concatenate([idx[: max(1, round(hp.val_fraction * len(idx)))] for idx in per_class])
        return f"stratified hold-out of {len(val)} images, {hp.val_fraction:.0%} per class", [np.sort(val)]
    if smallest >= 2:
        k = smallest
        sets = [np.sort(np.concatenate([idx[f::k] for idx in per_class])) for f in range(k)]
        return f"{k}-fold cross-validation (a class has only {k} images)", sets
    return "not measured: a class has a single image", []


# --- 5. the head ----------------------------------------------------------------------------------------


def build_head(
    feature_size: int, n_classes: int, hp: HParams, prototypes: np.ndarray | None = None, compile: bool = True
) -> Any:
    """Unit-normalize, dropout, dense softmax: a (cosine) multinomial logistic regression.

    Its "logits" layer feeds Grad-CAM. With `prototypes` (k×F class means of the training features) the
    dense layer starts as the nearest-class-mean classifier ("imprinted weights", Qi et al. 2018), so a
    few epochs refine a classifier that is already sensible, rather than learning one from noise.
    """
    import keras

    inputs = keras.Input((feature_size,), name="features")
    x = keras.layers.UnitNormalization(name="unit")(inputs)
    x = keras.layers.Dropout(hp.dropout, seed=hp.seed)(x)
    z = keras.layers.Dense(
        n_classes, name="logits", kernel_regularizer=keras.regularizers.L2(hp.l2),
        kernel_initializer=keras.initializers.GlorotUniform(seed=hp.seed),
    )(x)
    probs = keras.layers.Activation("softmax", name="probabilities")(z)
    model = keras.Model(inputs, probs, name="fewshot_head")
    if prototypes is not None:
        imprint(model, prototypes)
    if compile:
        model.compile(
            optimizer=keras.optimizers.Adam(hp.learning_rate),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
    return model


def imprint(model: Any, prototypes: np.ndarray) -> None:
    """Set the head's dense layer to the nearest-class-mean (cosine) classifier of k×F `prototypes`."""
    unit = prototypes / (np.linalg.norm(prototypes, axis=1, keepdims=True) + 1e-8)
    model.get_layer("logits").set_weights([(IMPRINT_SCALE * unit.T).astype(np.float32), np.zeros(len(unit), np.float32)])


class _Curves:
    """A Keras callback (made lazily, keras is imported on first use) that reports epochs to `progress` and
    records loss/accuracy curves, with validation measured by one direct call of the head per epoch
    (cheaper than Keras's per-epoch evaluation loop)."""

    @staticmethod
    def make(progress: Progress | None, span: tuple[float, float], epochs: int, what: str,
             val: tuple[np.ndarray, np.ndarray] | None) -> Any:
        import keras

        class Curves(keras.callbacks.Callback):
            def __init__(self) -> None:
                super().__init__()
                self.history: dict[str, list[float]] = {"loss": [], "accuracy": []}
                if val is not None:
                    self.history.update(val_loss=[], val_accuracy=[])

            def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
                logs = logs or {}
                self.history["loss"].append(float(logs.get("loss", np.nan)))
                self.history["accuracy"].append(float(logs.get("accuracy", np.nan)))
                if val is not None:  # the head is linear on unit features: numpy is cheaper than a Keras call
                    w, b = self.model.get_layer("logits").get_weights()
                    z = val[0] / (np.linalg.norm(val[0], axis=1, keepdims=True) + 1e-12) @ w + b
                    p = np.exp(z - z.max(axis=1, keepdims=True))
                    p /= p.sum(axis=1, keepdims=True)
                    picked = np.clip(p[np.arange(len(val[1])), val[1]], 1e-7, 1.0)
                    self.history["val_loss"].append(float(-np.log(picked).mean()))
                    self.history["val_accuracy"].append(float((p.argmax(axis=1) == val[1]).mean()))
                if progress and (epoch + 1) % max(1, epochs // 10) == 0:
                    progress(span[0] + span[1] * (epoch + 1) / epochs, f"{what}: epoch {epoch + 1}/{epochs}")

        return Curves()


# Compiled heads kept for reuse, by shape and fixed hyperparameters: Keras traces a model's training step
# on its first `fit` (~0.3–1 s on a small CPU), far more than the training itself. A reused model gets
# fresh imprinted weights and a fresh optimizer state for every fit (only the dropout and shuffle random
# streams carry on from the previous fit).
_trainers: dict[tuple, Any] = {}
_MAX_TRAINERS = 8
_fit_lock = threading.Lock()  # one fit at a time: trainers are shared, and heads take well under a second


def _trainer(feature_size: int, k: int, hp: HParams) -> Any:
    key = (feature_size, k, hp.dropout, hp.l2, hp.seed)
    if key not in _trainers:
        if len(_trainers) >= _MAX_TRAINERS:
            _trainers.pop(next(iter(_trainers)))
        _trainers[key] = build_head(feature_size, k, hp)
    model = _trainers[key]
    for v in model.optimizer.variables:  # a fresh Adam: zero step count and moments, this fit's rate
        v.assign(hp.learning_rate if v.path.endswith("learning_rate") else np.zeros(v.shape, v.dtype))
    return model


def prepare(feature_size: int, n_classes: int = 2, hp: HParams | None = None) -> None:
    """Trace the head trainer for a task shape ahead of time (the first fit in a process pays ~0.5 s)."""
    hp = hp or HParams()
    x = np.random.default_rng(0).random((2 * n_classes, feature_size)).astype(np.float32)
    fit_head(x, np.arange(2 * n_classes) % n_classes, n_classes, dataclasses.replace(hp, epochs=1))


def fit_head(
    x: np.ndarray, y: np.ndarray, k: int, hp: HParams, val: tuple[np.ndarray, np.ndarray] | None = None,
    progress: Progress | None = None, span: tuple[float, float] = (0.0, 1.0), what: str = "Training",
) -> tuple[Any, dict[str, list[float]]]:
    """Train a head on features `x` (N×F) with labels `y` (N) with Keras `fit`.

    Returns:
        A new (uncompiled) head model holding the trained weights, and its per-epoch curves.
    """
    import tensorflow as tf

    unit = x / (np.linalg.norm(x, axis=1, keepdims=True) + 1e-8)
    prototypes = np.stack([unit[y == c].mean(axis=0) if (y == c).any() else np.zeros(x.shape[1]) for c in range(k)])
    # A tf.data pipeline built once: Keras re-wraps numpy arrays every epoch, which costs more than the epoch.
    data = tf.data.Dataset.from_tensor_slices((x.astype(np.float32), y.astype(np.int32)))
    data = data.shuffle(len(x), seed=hp.seed, reshuffle_each_iteration=True).batch(hp.batch_size)
    if val is not None:
        val = (val[0].astype(np.float32), val[1].astype(np.int32))
    curves = _Curves.make(progress, span, hp.epochs, what, val)
    with _fit_lock:
        model = _trainer(x.shape[1], k, hp)
        imprint(model, prototypes)
        model.fit(data, epochs=hp.epochs, verbose=0, shuffle=False, callbacks=[curves])  # the pipeline shuffles
        trained = build_head(x.shape[1], k, hp, compile=False)
        trained.set_weights(model.get_weights())
    return trained, curves.history


def _stack(views: Sequence[dict[str, np.ndarray]], idx: np.ndarray, names: Sequence[str], labels: np.ndarray):
    xs = [views[i][n] for i in idx for n in names]
    ys = [labels[i] for i in idx for _ in names]
    return np.stack(xs).astype(np.float32), np.array(ys, np.int32)


# --- 6. the whole story ----------------------------------------------------------------------------------


def head_key(net: backbones.Backbone, names: Sequence[str], samples: Sequence[Sample], hp: HParams) -> str:
    """The content key of a task: backbone + weights id + sorted (class name, sorted image hashes) + hp."""
    classes = sorted((names[c], sorted(s.hash for s in samples if s.label == c)) for c in range(len(names)))
    return cache.digest(net.spec.name, net.weights_id, classes, dataclasses.asdict(hp), VIEWS_VERSION)


def _metrics(labels: np.ndarray, pred: np.ndarray, k: int) -> tuple[np.ndarray, list[float | None]]:
    confusion = np.zeros((k, k), np.int64)
    np.add.at(confusion, (labels, pred), 1)
    rows = confusion.sum(axis=1)
    return confusion, [float(confusion[c, c] / rows[c]) if rows[c] else None for c in range(k)]


def _result(meta: dict, samples: Sequence[Sample], from_cache: bool, seconds: float) -> TrainResult:
    thumbs = {s.hash: s for s in samples}
    mistakes = [
        Mistake(thumbs[m["image"]].thumbnail(), m["true"], m["predicted"], m["confidence"])
        for m in meta["mistakes"] if m["image"] in thumbs
    ]
    return TrainResult(
        key=meta["key"], name=meta["name"], backbone=meta["backbone"], labels=tuple(meta["labels"]),
        from_cache=from_cache, validation=meta["validation"], accuracy=meta["accuracy"],
        per_class=dict(zip(meta["labels"], meta["per_class"])), confusion=np.array(meta["confusion"]),
        history=meta["history"], mistakes=mistakes, seconds=seconds, counts=meta["counts"],
    )


def train(
    classes: Sequence[ClassSpec],
    backbone: str = backbones.DEFAULT,
    hp: HParams | None = None,
    name: str | None = None,
    progress: Progress | None = None,
) -> TrainResult:
    """Train (or fetch from the cache) a head for a few examples per class.

    Args:
        classes: (class name, images) pairs, 2–20 of them; images as `images.load_rgb` accepts.
        backbone: a registry name.
        hp: hyperparameters; `HParams()` when None.
        name: what the model is called in dropdowns; "a vs b" when None.
        progress: called with (fraction in [0, 1], message).

    Returns:
        A `TrainResult`; its `key` loads the head with `cache.load_head`.

    Raises:
        ValueError (bad classes), images.ImageError (bad image), backbones.UnknownBackbone,
        weights.WeightsUnavailable.
    """
    t0 = time.perf_counter()
    hp = hp or HParams()
    report = progress or (lambda f, m: None)
    classes = validate_classes(classes)
    names = [n for n, _ in classes]
    name = (name or "").strip() or " vs ".join(names)
    report(0.0, "Loading the backbone")
    net = backbones.get_backbone(backbone)
    report(0.02, "Reading images")
    samples = load_samples(classes, net.spec.input_size)
    key = head_key(net, names, samples, hp)
    cached = cache.head_meta(key)
    if cached is not None:
        report(1.0, "From cache")
        return _result({**cached.meta, "name": name}, samples, True, time.perf_counter() - t0)

    # Features: forward passes only for views not cached yet.
    views = extract(samples, net, hp.augment, lambda f, m: report(0.05 + 0.6 * f, m))
    for s in samples:
        s.rgb = None  # pixel views are done; keep only the crops
    labels = np.array([s.label for s in samples], np.int32)
    k = len(names)
    train_views = view_names(hp.augment, len(_windows(*_map_shape(net))))
    plain = [f"{VIEWS_VERSION}:full"]

    # Validation: out-of-fold predictions for every held-out image.
    validation, val_sets = folds(labels, [s.hash for s in samples], hp)
    pred = np.full(len(samples), -1)
    conf = np.zeros(len(samples), np.float32)
    curves: list[dict[str, list[float]]] = []
    steps = len(val_sets) + (0 if len(val_sets) == 1 else 1)
    for f, val_idx in enumerate(val_sets):
        train_idx = np.setdiff1d(np.arange(len(samples)), val_idx)
        x, y = _stack(views, train_idx, train_views, labels)
        xv, yv = _stack(views, val_idx, plain, labels)
        span = (0.65 + 0.33 * f / steps, 0.33 / steps)
        what = "Training" if len(val_sets) == 1 else f"Fold {f + 1}/{len(val_sets)}"
        model, hist = fit_head(x, y, k, hp, (xv, yv), report, span, what)
        p = model(xv, training=False).numpy()
        pred[val_idx], conf[val_idx] = p.argmax(axis=1), p.max(axis=1)
        curves.append(hist)
    if len(val_sets) != 1:  # k-fold or none: the final head learns from every image
        x, y = _stack(views, np.arange(len(samples)), train_views, labels)
        model, final = fit_head(x, y, k, hp, None, report, (0.65 + 0.33 * len(val_sets) / steps, 0.33 / steps), "Final head")
        history = {m: final[m] for m in ("loss", "accuracy")}
        if curves:  # the validation curves, averaged over the folds
            history.update({m: np.mean([c[m] for c in curves], axis=0).tolist() for m in ("val_loss", "val_accuracy")})
    else:
        history = curves[0]

    held = pred >= 0
    confusion, per_class = _metrics(labels[held], pred[held], k)
    meta = {
        "name": name, "backbone": net.spec.name, "weights_id": net.weights_id, "labels": names,
        "hparams": dataclasses.asdict(hp), "validation": validation,
        "accuracy": float((pred[held] == labels[held]).mean()) if held.any() else None,
        "per_class": per_class, "confusion": confusion.tolist(), "history": history,
        "counts": {n: int((labels == c).sum()) for c, n in enumerate(names)},
        "mistakes": [
            {"image": samples[i].hash, "file": samples[i].name, "true": names[labels[i]],
             "predicted": names[pred[i]], "confidence": float(conf[i])}
            for i in np.flatnonzero(held & (pred != labels))
        ],
        "train_seconds": time.perf_counter() - t0,
    }
    cache.save_head(key, model, meta)
    report(1.0, "Done")
    return _result({**meta, "key": key}, samples, False, time.perf_counter() - t0)


def _map_shape(net: backbones.Backbone) -> tuple[int, int]:
    shape = net.taps.outputs[1].shape
    return int(shape[1]), int(shape[2])
