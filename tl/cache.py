"""Content-addressed, bounded, atomic on-disk store for pooled features and trained heads.

Layout under `cache_dir()`:

    features/<backbone>-<weights id>/<image hash>.npz   one array per view name (F floats each)
    heads/<key>/head.keras + meta.json                  a trained head and what it was trained on

Every write goes to a temporary name first and is renamed into place, so a reader never sees half an
entry. A head whose files are missing, truncated or do not match the checksum in its metadata is
dropped (and retrained by the caller), never a crash. Both stores are bounded and evict the least
recently used entries (a hit touches the entry's modification time).

The head API the tabs use: `list_heads()`, `load_head(key)` and `head_choice()/parse_choice()` for a
dropdown value such as ``"head:<key>"``.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from tl import weights

log = logging.getLogger(__name__)

HEAD_FILE, META_FILE = "head.keras", "meta.json"
HEAD_PREFIX = "head:"  # a dropdown value naming a trained head rather than an ImageNet backbone
_lock = threading.RLock()


def cache_dir() -> Path:
    """Where features and heads are kept: `$TL_CACHE_DIR`; else `/data/tl-cache` when /data is a writable
    directory (persistent storage on Hugging Face Spaces); else `$XDG_CACHE_HOME/tl-studio` (~/.cache)."""
    if os.environ.get("TL_CACHE_DIR"):
        return Path(os.environ["TL_CACHE_DIR"])
    if Path("/data").is_dir() and os.access("/data", os.W_OK):
        return Path("/data/tl-cache")
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tl-studio"


def max_heads() -> int:
    """How many trained heads are kept (`TL_CACHE_MAX_HEADS`, default 32)."""
    return int(os.environ.get("TL_CACHE_MAX_HEADS", 32))


def max_feature_files() -> int:
    """How many images' features are kept (`TL_CACHE_MAX_FEATURES`, default 20000; ~25 KB each)."""
    return int(os.environ.get("TL_CACHE_MAX_FEATURES", 20000))


def digest(*parts: Any) -> str:
    """A short, stable hex digest of JSON-serializable parts (the cache's key function)."""
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:32]


_file_sha256 = weights.file_sha256


@functools.cache
def _weights_id(path: str, size: int, mtime: float) -> str:
    return _file_sha256(Path(path))[:16]


def weights_id(path: Path) -> str:
    """A short content id for a weights file (memoized per path, size and modification time)."""
    st = path.stat()
    return _weights_id(str(path), st.st_size, st.st_mtime)


def _touch(path: Path) -> None:
    try:
        os.utime(path)
    except OSError:
        pass


def _evict(root: Path, keep: int, pattern: str) -> list[Path]:
    """Remove the least recently used entries under `root` beyond `keep`; returns what was removed."""
    entries = [p for p in root.glob(pattern) if not p.name.startswith(".tmp")]
    if len(entries) <= keep:
        return []
    entries.sort(key=lambda p: p.stat().st_mtime)
    gone = entries[: len(entries) - keep]
    for p in gone:
        shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
    log.info("cache: evicted %d entries from %s", len(gone), root)
    return gone


# --- features ---------------------------------------------------------------------------------------


def _feature_path(space: str, image_hash: str) -> Path:
    return cache_dir() / "features" / space / f"{image_hash}.npz"


def load_features(space: str, image_hash: str) -> dict[str, np.ndarray]:
    """The cached views of one image in one feature space (backbone + weights); {} when none or unreadable."""
    path = _feature_path(space, image_hash)
    try:
        with np.load(path) as z:
            views = {k: z[k] for k in z.files}
    except FileNotFoundError:
        return {}
    except Exception:  # noqa: BLE001 - a damaged entry is recomputed
        log.warning("cache: dropping unreadable features %s", path)
        path.unlink(missing_ok=True)
        return {}
    _touch(path)
    return views


def save_features(space: str, image_hash: str, views: dict[str, np.ndarray], evict: bool = True) -> None:
    """Store (merge) views of one image atomically, then (unless `evict` is False) keep the store within
    its bound; a caller saving many images evicts once at the end with `evict_features()`."""
    path = _feature_path(space, image_hash)
    path.parent.mkdir(parents=True, exist_ok=True)
    merged = {**load_features(space, image_hash), **views}
    fd, tmp = tempfile.mkstemp(prefix=".tmp", suffix=".npz", dir=path.parent)
    with os.fdopen(fd, "wb") as f:
        np.savez(f, **{k: np.asarray(v, np.float32) for k, v in merged.items()})
    os.replace(tmp, path)
    if evict:
        evict_features()


def evict_features() -> None:
    """Remove the least recently used images' features beyond `max_feature_files()`."""
    with _lock:
        _evict(cache_dir() / "features", max_feature_files(), "*/*.npz")


# --- heads ------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class HeadInfo:
    """A cached head as listed for a dropdown."""

    key: str
    name: str
    backbone: str
    labels: tuple[str, ...]
    created: float
    meta: dict


@dataclasses.dataclass(frozen=True)
class Head:
    """A loaded head: a Keras model from pooled backbone features (N×F) to class probabilities (N×k)."""

    info: HeadInfo
    model: Any  # keras.Model; its layer "logits" gives the pre-softmax scores


def _head_dir(key: str) -> Path:
    if not key or not all(c in "0123456789abcdef" for c in key):
        raise ValueError(f"Expected a head key (hex digits). Received: {key!r}")
    return cache_dir() / "heads" / key


def _read_meta(path: Path) -> dict:
    meta = json.loads((path / META_FILE).read_text())
    if not isinstance(meta, dict) or "labels" not in meta or "sha256" not in meta:
        raise ValueError("incomplete metadata")
    return meta


def _drop(path: Path, why: str) -> None:
    log.warning("cache: dropping head %s (%s)", path.name, why)
    shutil.rmtree(path, ignore_errors=True)
    _load_model.cache_clear()


def save_head(key: str, model: Any, meta: dict) -> HeadInfo:
    """Store a head and its metadata atomically under `key`, then evict beyond `max_heads()`.

    Args:
        key: the content key (see `fewshot.head_key`).
        model: the Keras head.
        meta: JSON-serializable metadata; must hold "labels", "name" and "backbone".

    Returns:
        The stored entry's `HeadInfo`.
    """
    final = _head_dir(key)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp", dir=final.parent))
    try:
        model.save(tmp / HEAD_FILE)
        meta = {**meta, "key": key, "created": time.time(), "sha256": _file_sha256(tmp / HEAD_FILE)}
        (tmp / META_FILE).write_text(json.dumps(meta, indent=1, default=float))
        with _lock:
            if final.exists():
                shutil.rmtree(final, ignore_errors=True)
            os.replace(tmp, final)
            _evict(final.parent, max_heads(), "*")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return _info(key, meta)


def _info(key: str, meta: dict) -> HeadInfo:
    return HeadInfo(key, meta.get("name", key[:8]), meta["backbone"], tuple(meta["labels"]), meta.get("created", 0.0), meta)


def head_meta(key: str) -> HeadInfo | None:
    """The metadata of a valid cached head (checksum verified), or None; a broken entry is dropped."""
    path = _head_dir(key)
    if not path.exists():
        return None
    try:
        meta = _read_meta(path)
        if _file_sha256(path / HEAD_FILE) != meta["sha256"]:
            raise ValueError("checksum mismatch")
    except Exception as e:  # noqa: BLE001 - any damage: drop it, the caller retrains
        _drop(path, f"{type(e).__name__}: {e}")
        return None
    _touch(path)
    return _info(key, meta)


@functools.lru_cache(maxsize=16)
def _load_model(path: str, sha256: str) -> Any:
    import keras

    return keras.saving.load_model(path, safe_mode=True, compile=False)


def load_head(key: str) -> Head | None:
    """Load a cached head (Keras `safe_mode=True`), or None when it is missing or damaged (then dropped).

    Args:
        key: a head key, as in `HeadInfo.key`.
    """
    info = head_meta(key)
    if info is None:
        return None
    path = _head_dir(key)
    try:
        model = _load_model(str(path / HEAD_FILE), info.meta["sha256"])
    except Exception as e:  # noqa: BLE001
        _drop(path, f"does not load: {type(e).__name__}")
        return None
    return Head(info, model)


def list_heads() -> list[HeadInfo]:
    """Every valid cached head, newest first."""
    root = cache_dir() / "heads"
    out = []
    for p in root.glob("*") if root.exists() else []:
        if p.name.startswith(".tmp"):
            continue
        try:
            out.append(_info(p.name, _read_meta(p)))
        except Exception:  # noqa: BLE001 - listed entries are verified when loaded
            continue
    return sorted(out, key=lambda h: -h.created)


def head_choice(info: HeadInfo) -> tuple[str, str]:
    """A dropdown entry for a head: ("my model: <name>", "head:<key>")."""
    return f"my model: {info.name}", HEAD_PREFIX + info.key


def parse_choice(value: str) -> str | None:
    """The head key in a dropdown value "head:<key>", or None when the value names a backbone."""
    return value[len(HEAD_PREFIX):] if value and value.startswith(HEAD_PREFIX) else None
