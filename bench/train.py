"""Few-shot training figures, measured in one run: speed against the bare forward passes, and accuracy of our
head against a Teachable-Machine-style head on the same features and splits.

    python bench/train.py                 # speed (2 classes × 5/10/20 photos) + accuracy on assets/fewshot
    python bench/train.py --data DIR      # accuracy at 1, 5, 10, 20 shots per class on DIR/<class>/<images>

Speed: "cold" is `fewshot.train` from nothing cached (decode, hash, features, split, fit, save), with the
backbone already built; "forward" is the backbone's compiled forward pass over the same, already decoded
photos; "warm" is a retrain with every feature cached (another learning rate, so the head is not cached).
Keras traces a head's training step on its first fit in a process; that one-time cost is printed apart,
like the backbone's build.
Accuracy ("ours": default augment="fast"; "ours+full": augment="full"): for each shot count, repeated random stratified splits (n photos per class to train, every other
photo to test); both heads see the same features and the same splits. Teachable Machine's head is
Dense(100, relu) -> Dense(k, softmax), Adam 1e-3, 50 epochs, batch 16, on the plain features.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from tl import backbones, fewshot, images  # noqa: E402

SITE = Path(np.__file__).parents[1]
FOOLBOX = SITE / "foolbox" / "data"
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")


def speed_pool() -> dict[str, list[str]]:
    """2 classes × 20+ real photos: the example task's photos, topped up with foolbox's CIFAR-10 photos
    (animals: labels 2–7; vehicles: 0, 1, 8, 9). CIFAR photos are 32×32, upscaled like any small upload."""
    animal = sorted(str(p) for p in (ROOT / "assets/fewshot/animal").iterdir())
    thing = sorted(str(p) for p in (ROOT / "assets/fewshot/object").iterdir())
    for p in sorted(FOOLBOX.glob("cifar10_*.png")):
        (animal if int(p.stem.split("_")[-1]) in range(2, 8) else thing).append(str(p))
    return {"animal": animal, "object": thing}


def read_folder(root: Path) -> dict[str, list[str]]:
    """DIR/<class>/<image> -> {class: [paths]}."""
    data = {d.name: sorted(str(p) for p in d.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)
            for d in sorted(root.iterdir()) if d.is_dir()}
    data = {k: v for k, v in data.items() if v}
    if len(data) < 2:
        raise SystemExit(f"Expected DIR/<class>/<images> with at least 2 classes. Received: {root}")
    return data


def timed(fn):  # noqa: ANN001, ANN201
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def speed(net: backbones.Backbone) -> None:
    pool = speed_pool()
    x = np.random.default_rng(0).random((8, net.spec.feature_size)).astype(np.float32)
    _, first = timed(lambda: fewshot.fit_head(x, np.arange(8) % 2, 2, fewshot.HParams()))
    print(f"First head fit in this process (Keras traces the training step once): {first:.2f} s")
    print("\n## Speed: 2 classes, MobileNet, default hyperparameters (augment='fast', 15 epochs)")
    print(f"{'photos/class':>12} {'forward s':>10} {'cold s':>8} {'cold/fwd':>9} {'warm s':>8}  validation")
    for n in (5, 10, 20):
        task = [(name, paths[:n]) for name, paths in pool.items()]
        squares = np.stack([images.fit(images.load_rgb(p, min_side=224), 224) for _, ps in task for p in ps])
        net.features(squares[:2])  # the compiled function is traced already; this warms caches
        _, forward = timed(lambda: net.features(squares))
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["TL_CACHE_DIR"] = tmp
            result, cold = timed(lambda: fewshot.train(task))
            _, warm = timed(lambda: fewshot.train(task, hp=fewshot.HParams(learning_rate=0.004)))
        print(f"{n:>12} {forward:>10.3f} {cold:>8.2f} {cold / forward:>8.1f}× {warm:>8.2f}  {result.validation}")
    n = 10
    task = [(name, paths[:n]) for name, paths in pool.items()]
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["TL_CACHE_DIR"] = tmp
        _, cold = timed(lambda: fewshot.train(task, hp=fewshot.HParams(augment="full")))
        _, warm = timed(lambda: fewshot.train(task, hp=fewshot.HParams(augment="full", learning_rate=0.004)))
    print(f"augment='full' (mirror + 2 random crops with colour jitter, 4 forward passes per photo), {n} photos/class: "
          f"cold {cold:.2f} s, warm {warm:.2f} s")


def teachable_machine_head(x: np.ndarray, y: np.ndarray, k: int):  # noqa: ANN201
    import keras

    model = keras.Sequential([
        keras.Input((x.shape[1],)),
        keras.layers.Dense(100, activation="relu"),
        keras.layers.Dense(k, activation="softmax"),
    ])
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=50, batch_size=16, verbose=0)
    return model


def accuracy(net: backbones.Backbone, data: dict[str, list[str]], repeats: int) -> None:
    names = list(data)
    classes = [(n, data[n]) for n in names]
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["TL_CACHE_DIR"] = tmp
        samples = fewshot.load_samples(classes, net.spec.input_size)
        hp = fewshot.HParams()
        views = fewshot.extract(samples, net, "full")  # every view; each head below picks its own
    labels = np.array([s.label for s in samples])
    k, smallest = len(names), int(np.bincount(labels).min())
    windows = len(fewshot._windows(*fewshot._map_shape(net)))
    ours_views = fewshot.view_names(hp.augment, windows)
    full_views = fewshot.view_names("full", windows)
    plain = [f"{fewshot.VIEWS_VERSION}:full"]
    print(f"\n## Accuracy: {k} classes ({', '.join(f'{n}: {int((labels == i).sum())}' for i, n in enumerate(names))}), "
          f"{repeats} random splits per shot count, test = every photo not trained on")
    print(f"{'shots':>5} {'test':>5} {'ours acc':>9} {'ours+full':>10} {'TM acc':>7} {'ours s':>7} {'TM s':>6}")
    rng = np.random.default_rng(0)
    for shots in (1, 5, 10, 20):
        if shots >= smallest:
            print(f"{shots:>5}  (skipped: the smallest class has {smallest} photos)")
            continue
        acc_o, acc_f, acc_t, t_o, t_t = [], [], [], [], []
        for _ in range(repeats):
            train = np.concatenate([rng.permutation(np.flatnonzero(labels == c))[:shots] for c in range(k)])
            test = np.setdiff1d(np.arange(len(labels)), train)
            x_test, y_test = fewshot._stack(views, test, plain, labels)
            x, y = fewshot._stack(views, train, ours_views, labels)
            (model, _), seconds = timed(lambda: fewshot.fit_head(x, y, k, hp))
            acc_o.append(float((model(x_test).numpy().argmax(1) == y_test).mean()))
            t_o.append(seconds)
            x, y = fewshot._stack(views, train, full_views, labels)
            model, _ = fewshot.fit_head(x, y, k, hp)
            acc_f.append(float((model(x_test).numpy().argmax(1) == y_test).mean()))
            x, y = fewshot._stack(views, train, plain, labels)
            model, seconds = timed(lambda: teachable_machine_head(x, y, k))
            acc_t.append(float((model(x_test).numpy().argmax(1) == y_test).mean()))
            t_t.append(seconds)
        print(f"{shots:>5} {len(test):>5} {np.mean(acc_o):>9.1%} {np.mean(acc_f):>10.1%} {np.mean(acc_t):>7.1%} "
              f"{np.mean(t_o):>7.2f} {np.mean(t_t):>6.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, help="a folder per class; only the accuracy table is printed")
    parser.add_argument("--repeats", type=int, default=10, help="random splits per shot count")
    args = parser.parse_args()
    (net, built) = timed(lambda: backbones.get_backbone("mobilenet"))
    print(f"MobileNet built in {built:.1f} s (once per process; not part of the figures below)")
    if args.data:
        accuracy(net, read_folder(args.data), args.repeats)
        return
    speed(net)
    accuracy(net, read_folder(ROOT / "assets/fewshot"), args.repeats)


if __name__ == "__main__":
    main()
