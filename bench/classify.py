"""Classify speed, measured in one run: the app's classify path vs a bare compiled forward vs model.predict,
and the time from process start to the first prediction served by the launched app.

Usage: python bench/classify.py [--backbone mobilenet] [--repeats 30]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PHOTOS = sorted((ROOT / "assets").glob("*.jp*g")) + sorted((ROOT / "assets").glob("*.png"))


def median_ms(fn, repeats: int) -> float:
    """Median wall time of `fn()` in milliseconds, after two warm-up calls."""
    fn()
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def in_process(backbone: str, repeats: int) -> dict[str, float]:
    import numpy as np

    from tl import backbones, classify, images

    net = backbones.get_backbone(backbone)
    size = net.spec.input_size
    batches = [images.fit(images.load_rgb(p), size)[None].astype(np.float32) for p in PHOTOS]
    preprocessed = [net.preprocess(b.copy()) for b in batches]
    k = iter(range(10**9))

    def pick(seq):
        return seq[next(k) % len(seq)]

    return {
        "app classify path (decode + crop + forward + Grad-CAM + top-5)": median_ms(
            lambda: classify.classify(pick(PHOTOS), backbone=backbone), repeats
        ),
        "bare compiled forward (tf.function on the preprocessed tensor)": median_ms(
            lambda: net._logits(pick(batches)).numpy(), repeats
        ),
        "model.predict per request": median_ms(lambda: net.net.predict(pick(preprocessed), verbose=0), repeats),
    }


def launched_app(repeats: int) -> tuple[float, float]:
    """Seconds from `python app.py` to the first classify answered over HTTP (gradio_client), and the
    median milliseconds of later classify requests over HTTP."""
    from gradio_client import Client, handle_file

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port)}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.perf_counter() - start > 300:
                    raise RuntimeError("app.py did not start")
                time.sleep(0.1)
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        client.predict(handle_file(str(PHOTOS[0])), "mobilenet", None, api_name="/classify")
        cold = time.perf_counter() - start
        k = iter(range(10**9))
        http = median_ms(
            lambda: client.predict(handle_file(str(PHOTOS[next(k) % len(PHOTOS)])), "mobilenet", None, api_name="/classify"),
            repeats,
        )
        return cold, http
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", default="mobilenet")
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()

    cold, http = launched_app(args.repeats)
    rows = in_process(args.backbone, args.repeats)
    bare = rows["bare compiled forward (tf.function on the preprocessed tensor)"]
    print(f"backbone: {args.backbone}; {len(PHOTOS)} photos from assets/; median of {args.repeats} per row\n")
    for name, ms in rows.items():
        print(f"{ms:8.1f} ms  {ms / bare:5.2f}x bare   {name}")
    path = rows["app classify path (decode + crop + forward + Grad-CAM + top-5)"]
    print(f"\nclassify path / bare forward: {path / bare:.2f}x (goal <= 1.25x)")
    print(f"model.predict / classify path: {rows['model.predict per request'] / path:.2f}x")
    print(f"one classify over HTTP (gradio_client -> launched app): {http:.1f} ms = {http / bare:.1f}x bare")
    print(f"process start -> first prediction served: {cold:.1f} s (goal <= 20 s)")


if __name__ == "__main__":
    main()
