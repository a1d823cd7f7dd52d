"""Real photos shipped in installed packages, and launching the real app: shared by every test."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def package_dir(name: str) -> Path:
    import importlib.util

    spec = importlib.util.find_spec(name)
    assert spec and spec.submodule_search_locations, f"{name} is not installed (requirements-dev.txt)"
    return Path(list(spec.submodule_search_locations)[0])


SKIMAGE_DATA = package_dir("skimage") / "data"
FOOLBOX_DATA = package_dir("foolbox") / "data"
CHELSEA = SKIMAGE_DATA / "chelsea.png"
CAT_CLASSES = {"Egyptian_cat", "tabby", "tiger_cat"}


def imagenet_samples() -> list[tuple[Path, int]]:
    """foolbox's 20 labelled ImageNet photos: (path, ImageNet class index)."""
    files = sorted(FOOLBOX_DATA.glob("imagenet_*.jpg"))
    assert len(files) == 20
    return [(f, int(f.stem.split("_")[-1])) for f in files]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_app(env: dict[str, str] | None = None, timeout: float = 120.0):
    """Start `python app.py` as the README does; returns (process, url) once it answers."""
    port = free_port()
    full_env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "GRADIO_SERVER_NAME": "127.0.0.1", **(env or {})}
    proc = subprocess.Popen(
        [sys.executable, "app.py"], cwd=ROOT, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"app.py exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("app.py did not start listening in time")
