"""Adversarial images: FGSM and PGD under an L∞ bound, with explicit bounds, on a `Classifier`.

One call shape for every attack (foolbox 3): `attack(classifier, image, *, epsilon, target=None, ...)`.
Units: images are RGB in pixel units, bounds (0, 255); `epsilon` is the L∞ bound in the same units, so
`epsilon=2` means 2/255 of the range. Each PGD step is: gradient step → project to the ε-ball → clip to
the bounds. The gradient is taken at the 8-bit quantized image, and success is checked on it, so the PNG a
person downloads is exactly the image that was verified (quantization never leaves the ε-ball: rounding is
clipped to ⌊ε⌋). A run stops early once the goal holds with a margin.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
from typing import Any, Callable, Optional

import numpy as np

from tl import backbones, images, weights
from tl.classifier import Classifier, for_model

Bounds = tuple[float, float]
PIXEL_BOUNDS: Bounds = (0.0, 255.0)
MAX_EPSILON = 16.0  # 16/255: beyond this a perturbation is plainly visible, the lesson is lost
MAX_STEPS = 200
DEFAULT_EPSILON = 2.0
DEFAULT_STEPS = 20
DEFAULT_MARGIN = 1.0  # the goal class must beat the runner-up by this much log-probability (×2.7)
Progress = Callable[[int, int], None]


@dataclasses.dataclass(frozen=True)
class AttackResult:
    """What an attack did, in numpy and plain types."""

    method: str
    epsilon: float  # L∞ bound, pixel units
    original: np.ndarray  # S×S×3: the image the classifier saw (uint8 when given as uint8)
    adversarial: np.ndarray  # S×S×3: the verified adversarial image (uint8 when quantized, else float32)
    original_class: int  # the classifier's top class on the original
    target: Optional[int]  # None: untargeted
    target_name: Optional[str]
    success: bool  # the goal holds on `adversarial` with the margin
    steps: int  # gradient steps used
    margin: float  # final log-probability margin of the goal (> 0: goal reached)
    top5_before: dict[str, float]
    top5_after: dict[str, float]

    @property
    def perturbation(self) -> np.ndarray:
        """adversarial − original, pixel units (float32)."""
        return self.adversarial.astype(np.float32) - self.original.astype(np.float32)

    @property
    def linf(self) -> float:
        """Largest change of any pixel channel, pixel units (0–255)."""
        return float(np.abs(self.perturbation).max())

    @property
    def l2(self) -> float:
        """Euclidean norm of the perturbation over all pixels and channels, pixel units."""
        return float(np.sqrt(np.sum(self.perturbation.astype(np.float64) ** 2)))

    def amplified(self) -> np.ndarray:
        """The perturbation for display: grey is 0, full contrast is ±ε (uint8 RGB)."""
        gain = 127.5 / max(self.epsilon, 1.0)
        return np.clip(127.5 + gain * self.perturbation, 0, 255).round().astype(np.uint8)


def _check(name: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise ValueError(f"Expected {name} between {low:g} and {high:g}. Received: {name}={value!r}")


def _validate(classifier: Classifier, image: np.ndarray, epsilon: float, target: Optional[int], bounds: Bounds,
              quantize: bool) -> np.ndarray:
    size = classifier.input_size
    x = np.asarray(image)
    if x.shape != (size, size, 3):
        raise ValueError(f"Expected an RGB image of shape ({size}, {size}, 3). Received: shape {x.shape}")
    lo, hi = bounds
    if not lo < hi:
        raise ValueError(f"Expected bounds (low, high) with low < high. Received: bounds={bounds}")
    if np.any(x < lo) or np.any(x > hi):
        raise ValueError(f"Expected pixel values within bounds {bounds}. Received: range [{x.min()}, {x.max()}]")
    _check("epsilon", epsilon, 1.0 if quantize else 1e-6, MAX_EPSILON)
    if target is not None:
        n = len(classifier.class_names)
        if isinstance(target, bool) or not isinstance(target, (int, np.integer)) or not 0 <= target < n:
            raise ValueError(f"Expected a target class index between 0 and {n - 1} or None. Received: {target!r}")
    return x.astype(np.float32)


@functools.lru_cache(maxsize=8)
def _step_fn(classifier: Classifier) -> Any:
    """The compiled PGD step for one classifier: one forward and one backward pass."""
    import tensorflow as tf

    size = classifier.input_size
    img = tf.TensorSpec([size, size, 3], tf.float32)
    scalar = tf.TensorSpec([], tf.float32)

    @tf.function(input_signature=[img, img, tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.bool),
                                  scalar, scalar, scalar, scalar, tf.TensorSpec([], tf.bool)])
    def step(x, x0, label, targeted, epsilon, step_size, lo, hi, quantize):
        # The image that would be saved: rounded to 8 bits, kept inside ⌊ε⌋ and the bounds.
        whole = tf.floor(epsilon)
        xq = tf.where(quantize, tf.clip_by_value(tf.round(x), x0 - whole, x0 + whole), x)
        xq = tf.clip_by_value(xq, lo, hi)
        with tf.GradientTape() as tape:
            tape.watch(xq)
            logits = classifier.logits(xq[None])[0]
            loss = tf.nn.sparse_softmax_cross_entropy_with_logits(label, logits)
        grad = tape.gradient(loss, xq)
        direction = tf.where(targeted, -tf.sign(grad), tf.sign(grad))  # toward the target / away from the label
        x = x + step_size * direction  # 1. step
        x = x0 + tf.clip_by_value(x - x0, -epsilon, epsilon)  # 2. project to the ε-ball
        x = tf.clip_by_value(x, lo, hi)  # 3. clip to the bounds
        return x, xq, tf.nn.log_softmax(logits)

    return step


_build_lock = threading.Lock()


def _margin(logp: np.ndarray, label: int, targeted: bool) -> float:
    others = np.delete(logp, label)
    return float(logp[label] - others.max()) if targeted else float(others.max() - logp[label])


def pgd(
    classifier: Classifier,
    image: np.ndarray,
    *,
    epsilon: float = DEFAULT_EPSILON,
    target: Optional[int] = None,
    steps: int = DEFAULT_STEPS,
    step_size: Optional[float] = None,
    margin: float = DEFAULT_MARGIN,
    bounds: Bounds = PIXEL_BOUNDS,
    quantize: bool = True,
    progress: Optional[Progress] = None,
) -> AttackResult:
    """Projected gradient descent under an L∞ bound (Madry et al. 2018), targeted or not, stopping early.

    Args:
        classifier: the model to fool.
        image: S×S×3 RGB in `bounds` (S = `classifier.input_size`).
        epsilon: L∞ bound in pixel units (2 = 2/255); at least 1 when `quantize`.
        target: the class to reach; None to leave the classifier's own top class.
        steps: at most this many gradient steps (1 to MAX_STEPS).
        step_size: per step, pixel units; default ε/4.
        margin: stop once the goal holds by this log-probability margin.
        bounds: valid pixel range.
        quantize: take gradients at, and verify, the 8-bit rounded image (what a PNG stores).
        progress: called as progress(step, steps).

    Returns:
        An `AttackResult`; `adversarial` is the first image that met the goal, else the last one.
    """
    return _descend("PGD", classifier, image, epsilon=epsilon, target=target, steps=steps, step_size=step_size,
                    margin=margin, bounds=bounds, quantize=quantize, progress=progress)


def _descend(method: str, classifier: Classifier, image: np.ndarray, *, epsilon: float, target: Optional[int],
             steps: int, step_size: Optional[float], margin: float, bounds: Bounds, quantize: bool,
             progress: Optional[Progress]) -> AttackResult:
    """The loop shared by every attack here: step → project to the ε-ball → clip, until the goal holds."""
    import tensorflow as tf

    x0 = _validate(classifier, image, epsilon, target, bounds, quantize)
    _check("steps", steps, 1, MAX_STEPS)
    step_size = epsilon / 4.0 if step_size is None else step_size
    _check("step_size", step_size, 1e-6, 255.0)
    with _build_lock:
        step = _step_fn(classifier)
    before = classifier.probabilities(x0)[0]
    original_class = int(np.argmax(before))
    targeted = target is not None
    label = int(target) if targeted else original_class
    args = [tf.constant(x0), tf.constant(label, tf.int32), tf.constant(targeted), tf.constant(float(epsilon)),
            tf.constant(float(step_size)), tf.constant(float(bounds[0])), tf.constant(float(bounds[1])),
            tf.constant(bool(quantize))]
    x = tf.constant(x0)
    for used in range(int(steps) + 1):
        # Evaluates the image after `used` steps (and prepares the next step with the same pass).
        x_next, xq, logp = step(x, *args)
        reached = _margin(logp.numpy(), label, targeted)
        if progress:
            progress(used, int(steps))
        if reached >= margin or used == steps:
            break
        x = x_next
    adversarial = np.round(xq.numpy()).astype(np.uint8) if quantize and bounds == PIXEL_BOUNDS else xq.numpy()
    names = classifier.class_names

    def top5(p: np.ndarray) -> dict[str, float]:
        return {names[i]: float(p[i]) for i in np.argsort(p)[::-1][:5]}

    return AttackResult(
        method=method,
        epsilon=float(epsilon),
        original=np.array(image, copy=True),
        adversarial=adversarial,
        original_class=original_class,
        target=label if targeted else None,
        target_name=names[label] if targeted else None,
        success=reached >= margin,
        steps=used,
        margin=reached,
        top5_before=top5(before),
        top5_after=top5(np.exp(logp.numpy())),
    )


def fgsm(
    classifier: Classifier,
    image: np.ndarray,
    *,
    epsilon: float = DEFAULT_EPSILON,
    target: Optional[int] = None,
    margin: float = 0.0,
    bounds: Bounds = PIXEL_BOUNDS,
    quantize: bool = True,
    progress: Optional[Progress] = None,
) -> AttackResult:
    """The fast gradient sign method (Goodfellow et al. 2015): one step of size ε, targeted or not.

    Same arguments and result as `pgd`; "success" needs only that the goal class wins (margin 0).
    """
    return _descend("FGSM", classifier, image, epsilon=epsilon, target=target, steps=1, step_size=epsilon,
                    margin=margin, bounds=bounds, quantize=quantize, progress=progress)


ATTACKS: dict[str, Callable[..., AttackResult]] = {"FGSM": fgsm, "PGD": pgd}


def attack_photo(
    photo: images.ImageSource,
    *,
    method: str = "PGD",
    backbone: str = backbones.DEFAULT,
    target: Optional[str] = None,
    epsilon: float = DEFAULT_EPSILON,
    steps: int = DEFAULT_STEPS,
    progress: Optional[Progress] = None,
) -> AttackResult:
    """Load any photo, fit it to the model's input (centre square, resized) and attack it.

    Args:
        photo: anything `images.load_rgb` accepts.
        method: a key of `ATTACKS` ("FGSM" or "PGD").
        backbone: a registry name, or "head:<key>" for a trained head (see `classifier.for_model`).
        target: one of the model's class names (e.g. "tabby", or a head's label); None or "" for untargeted.
        epsilon: L∞ bound in pixel units (1–16, i.e. 1/255–16/255).
        steps: the step cap for PGD (ignored by FGSM).

    Raises:
        images.ImageError, backbones.UnknownBackbone, weights.WeightsUnavailable, ValueError.
    """
    if method not in ATTACKS:
        raise ValueError(f"Expected a method among {sorted(ATTACKS)}. Received: {method!r}")
    _check("epsilon", epsilon, 1.0, MAX_EPSILON)
    _check("steps", steps, 1, MAX_STEPS)
    model = for_model(backbone)
    target_index = model.class_index(target) if target else None
    rgb = images.load_rgb(photo, min_side=256)
    square = images.fit(rgb, model.input_size)
    if method == "FGSM":
        return fgsm(model, square, epsilon=epsilon, target=target_index, progress=progress)
    return pgd(model, square, epsilon=epsilon, target=target_index, steps=steps, progress=progress)


@dataclasses.dataclass(frozen=True)
class Transfer:
    """How another model (a backbone or a trained head) classifies the original and the adversarial image."""

    backbone: str  # registry name, or "head:<key>"
    title: str
    top1_before: str
    top1_after: str
    p_after: float  # probability of top1_after
    # targeted, and the target is one of its classes: the target is its top class; else: its top class changed
    fooled: bool


def _uint8(image: np.ndarray) -> np.ndarray:
    return image if image.dtype == np.uint8 else np.clip(np.round(image), 0, 255).astype(np.uint8)


def transfer(result: AttackResult, *, source: str, others: Optional[list[str]] = None) -> tuple[list[Transfer], str]:
    """Classify an attack's images with other models: does the attack transfer?

    Args:
        result: an attack's result.
        source: the model that was attacked (skipped): a registry name or "head:<key>".
        others: models to try (registry names or "head:<key>"); default: every other backbone usable now
            without a download. A model without the target class counts as fooled when its top class changes.

    Returns:
        (checks, note): one `Transfer` per backbone that could be used, and a sentence saying which could not.
    """
    names_all = [s.name for s in backbones.SPECS if s.name != source]
    if others is None:
        others = [n for n in names_all if backbones.is_built(n) or backbones.spec(n).offline_ready]
        missing = [n for n in names_all if n not in others]
    else:
        others, missing = [n for n in others if n != source], []
    checks = []
    for name in others:
        try:
            model = for_model(name)
        except weights.WeightsUnavailable:
            missing.append(name)
            continue
        pair = np.stack([images.fit(_uint8(x), model.input_size) for x in (result.original, result.adversarial)])
        p = model.probabilities(pair)
        before, after = int(np.argmax(p[0])), int(np.argmax(p[1]))
        n = model.class_names
        fooled = n[after] == result.target_name if result.target_name in n else after != before
        checks.append(Transfer(name, model.name, n[before], n[after], float(p[1, after]), fooled))
    if not checks and not missing:
        note = "No other model was chosen for the transfer check."
    elif not checks:
        note = (f"No second backbone is available offline to check transfer ({', '.join(missing)} need their "
                "weights downloaded first).")
    elif missing:
        note = f"Not checked (weights not available now): {', '.join(missing)}."
    else:
        note = ""
    return checks, note


def success_rate(results: list[AttackResult]) -> float:
    """The fraction of successful attacks (0 for none)."""
    return sum(r.success for r in results) / len(results) if results else 0.0


__all__ = ["AttackResult", "Transfer", "fgsm", "pgd", "attack_photo", "transfer", "ATTACKS", "PIXEL_BOUNDS",
           "MAX_EPSILON", "MAX_STEPS", "success_rate"]
