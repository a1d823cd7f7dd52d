"""Real photos from installed packages for the few-shot tests: an "animal" vs "object" task and held-out photos."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the repository on sys.path (tests/conftest.py, where present, does the same)
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)  # located, not imported: only the photos are used
    assert spec and spec.submodule_search_locations, f"{name} (requirements-dev.txt) is not installed"
    return Path(spec.submodule_search_locations[0])


SKIMAGE = _package_dir("skimage") / "data"
FOOLBOX = _package_dir("foolbox") / "data"
GRADIO = _package_dir("gradio") / "media_assets" / "images"


def imagenet(*names: str) -> list[str]:
    """foolbox's ImageNet photos by "NN_LABEL", e.g. "16_251" (a dalmatian)."""
    return [str(FOOLBOX / f"imagenet_{n}.jpg") for n in names]


ANIMALS = [str(GRADIO / "cheetah.jpg"), str(GRADIO / "cheetah1.jpg"), str(GRADIO / "lion.jpg")] + imagenet(
    "00_243", "14_129", "17_22", "19_305"
)
OBJECTS = [str(SKIMAGE / "coffee.png"), str(SKIMAGE / "rocket.jpg")] + imagenet(
    "06_609", "08_915", "13_471", "10_541", "01_559", "09_455"
)
# Never trained on: photos of other animals and other things.
HELD_OUT = {
    str(SKIMAGE / "chelsea.png"): "animal",
    imagenet("16_251")[0]: "animal",  # dalmatian
    imagenet("15_99")[0]: "animal",  # goose
    imagenet("07_609")[0]: "object",  # another jeep
    imagenet("02_438")[0]: "object",  # beaker
    str(SKIMAGE / "motorcycle_left.png"): "object",
}
CHELSEA = str(SKIMAGE / "chelsea.png")
