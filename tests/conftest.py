"""Shared test setup: the repository on sys.path, quiet TensorFlow, and the real photos tests use."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def foolbox_photos() -> list[tuple[Path, int]]:
    """foolbox 3.3.4's 20 ImageNet photos with their labels (file names are imagenet_NN_LABEL.jpg)."""
    import importlib.util

    spec = importlib.util.find_spec("foolbox")  # located, not imported: only its photos are used
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("foolbox (requirements-dev.txt) is not installed")
    data = Path(spec.submodule_search_locations[0]) / "data"
    return [(p, int(p.stem.split("_")[-1])) for p in sorted(data.glob("imagenet_*.jpg"))]
