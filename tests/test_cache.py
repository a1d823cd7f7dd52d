"""The head and feature cache: hits return identical heads, damage is recovered, the bound evicts the LRU."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from fewshot_photos import ANIMALS, OBJECTS
from tl import cache, fewshot

TASK = [("animal", ANIMALS[:3]), ("object", OBJECTS[:3])]
HP = fewshot.HParams(epochs=5)


@pytest.fixture(autouse=True)
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TL_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def weights_of(key: str) -> list[np.ndarray]:
    head = cache.load_head(key)
    assert head is not None
    return head.model.get_weights()


def test_cache_hit_returns_the_identical_head(cache_dir):
    first = fewshot.train(TASK, hp=HP)
    before = weights_of(first.key)
    again = fewshot.train(list(reversed(TASK)), hp=HP, name="same task, other order")
    assert again.from_cache and again.key == first.key and "from cache" in again.summary()
    assert again.accuracy == first.accuracy and np.array_equal(again.confusion, first.confusion)
    assert all(np.array_equal(a, b) for a, b in zip(before, weights_of(again.key)))
    other = fewshot.train(TASK, hp=fewshot.HParams(epochs=6))  # other hyperparameters: another key
    assert not other.from_cache and other.key != first.key
    assert not list(cache_dir.rglob(".tmp*"))  # atomic writes leave nothing behind


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: (d / cache.HEAD_FILE).write_bytes((d / cache.HEAD_FILE).read_bytes()[:1000]),  # truncated
        lambda d: (d / cache.META_FILE).write_text("{not json"),
        lambda d: (d / cache.HEAD_FILE).unlink(),
        lambda d: (d / cache.META_FILE).unlink(),
    ],
    ids=["truncated-head", "garbled-meta", "missing-head", "missing-meta"],
)
def test_damaged_head_is_dropped_and_retrained(cache_dir, damage):
    first = fewshot.train(TASK, hp=HP)
    damage(cache_dir / "heads" / first.key)
    assert cache.load_head(first.key) is None
    again = fewshot.train(TASK, hp=HP)
    assert not again.from_cache and again.key == first.key
    assert cache.load_head(first.key) is not None


def test_head_that_loads_but_fails_checksum_is_dropped(cache_dir):
    """A head rewritten in place (e.g. by another process) without updating its checksum is not trusted."""
    first = fewshot.train(TASK, hp=HP)
    other = fewshot.train(TASK, hp=fewshot.HParams(epochs=6))
    head_dir = cache_dir / "heads"
    (head_dir / first.key / cache.HEAD_FILE).write_bytes((head_dir / other.key / cache.HEAD_FILE).read_bytes())
    assert cache.head_meta(first.key) is None and not (head_dir / first.key).exists()


def test_damaged_features_are_recomputed(cache_dir):
    fewshot.train(TASK, hp=HP)
    files = sorted((cache_dir / "features").rglob("*.npz"))
    assert len(files) == 6
    files[0].write_bytes(b"garbage")
    result = fewshot.train(TASK, hp=fewshot.HParams(epochs=7))
    assert not result.from_cache and np.load(files[0]).files


def test_bound_evicts_the_least_recently_used_head(cache_dir, monkeypatch):
    monkeypatch.setenv("TL_CACHE_MAX_HEADS", "2")
    model = fewshot.build_head(4, 2, HP)  # a tiny head: the point here is the store, not the model
    keys = [cache.digest("task", i) for i in range(3)]
    meta = {"labels": ["a", "b"], "name": "t", "backbone": "mobilenet"}
    cache.save_head(keys[0], model, meta)
    time.sleep(0.05)
    cache.save_head(keys[1], model, meta)
    time.sleep(0.05)
    assert cache.load_head(keys[0]) is not None  # a hit: keys[0] is now more recent than keys[1]
    time.sleep(0.05)
    cache.save_head(keys[2], model, meta)
    assert {h.key for h in cache.list_heads()} == {keys[0], keys[2]}


def test_features_bound(cache_dir, monkeypatch):
    monkeypatch.setenv("TL_CACHE_MAX_FEATURES", "3")
    for i in range(5):
        cache.save_features("space", f"{i:02x}", {"v": np.ones(4)})
        time.sleep(0.02)
    assert sorted(p.stem for p in (cache_dir / "features" / "space").glob("*.npz")) == ["02", "03", "04"]


def test_heads_load_in_safe_mode_only(cache_dir):
    """A head holding a Lambda layer (arbitrary Python) is refused and dropped, never run."""
    import keras

    inputs = keras.Input((4,))
    outputs = keras.layers.Lambda(lambda x: x * 2.0, name="logits")(inputs)
    key = cache.digest("lambda")
    cache.save_head(key, keras.Model(inputs, outputs), {"labels": ["a", "b"], "name": "l", "backbone": "mobilenet"})
    assert cache.head_meta(key) is not None  # files are intact...
    assert cache.load_head(key) is None  # ...but it does not load in safe mode: dropped
    assert not (cache_dir / "heads" / key).exists()


def test_cache_dir_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TL_CACHE_DIR", str(tmp_path / "x"))
    assert cache.cache_dir() == tmp_path / "x"
    monkeypatch.delenv("TL_CACHE_DIR")
    expected = Path("/data/tl-cache") if Path("/data").is_dir() and os.access("/data", os.W_OK) else None
    assert cache.cache_dir() == expected or cache.cache_dir().name == "tl-studio"
    with pytest.raises(ValueError, match="Expected a head key"):
        cache.load_head("../../etc")
