"""Few-shot training on real MobileNet weights and real photos: accuracy on held-out photos, honest splits,
the feature cache, input validation, Grad-CAM through a head, and the exported model in a fresh Python."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fewshot_photos import ANIMALS, CHELSEA, HELD_OUT, OBJECTS, imagenet
from tl import backbones, cache, classify, fewshot, heads, images


@pytest.fixture(autouse=True)
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TL_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[fewshot.TrainResult, str]:
    """Animal vs object, with the full augmentation (flips, crops, colour jitter), in its own cache dir."""
    root = tmp_path_factory.mktemp("trained")
    old = os.environ.get("TL_CACHE_DIR")
    os.environ["TL_CACHE_DIR"] = str(root)
    try:
        result = fewshot.train([("animal", ANIMALS), ("object", OBJECTS)], hp=fewshot.HParams(augment="full"))
    finally:
        os.environ.pop("TL_CACHE_DIR") if old is None else os.environ.__setitem__("TL_CACHE_DIR", old)
    return result, str(root)


def test_held_out_real_photos_are_classified_right(trained, monkeypatch):
    result, root = trained
    monkeypatch.setenv("TL_CACHE_DIR", root)
    assert result.labels == ("animal", "object") and not result.from_cache
    assert "hold-out" in result.validation and result.accuracy is not None
    assert result.confusion.sum() == len(result.mistakes) + int(np.trace(result.confusion))
    assert heads.choices([result.key]) == [("my model: animal vs object", cache.HEAD_PREFIX + result.key)]
    assert heads.choices(["0" * 32]) == []  # a vanished head is left out
    for path, truth in HELD_OUT.items():
        prediction = classify.classify(path, backbone=cache.HEAD_PREFIX + result.key, top_k=2)
        assert max(prediction.labels, key=prediction.labels.get) == truth, (Path(path).name, prediction.labels)


def test_gradcam_through_backbone_and_head(trained, monkeypatch):
    result, root = trained
    monkeypatch.setenv("TL_CACHE_DIR", root)
    top = classify.classify(CHELSEA, backbone=cache.HEAD_PREFIX + result.key)
    other = classify.classify(CHELSEA, backbone=cache.HEAD_PREFIX + result.key, cam_class="object")
    assert top.cam_class == "animal" and other.cam_class == "object"
    assert set(top.labels) == {"animal", "object"} and sum(top.labels.values()) == pytest.approx(1.0, abs=1e-5)
    assert top.cam.shape == (7, 7) and 0.0 <= top.cam.min() and top.cam.max() == pytest.approx(1.0, abs=1e-3)
    assert not np.allclose(top.cam, other.cam)
    assert top.heatmap.dtype == np.uint8 and top.heatmap.shape[2] == 3
    with pytest.raises(ValueError, match="Expected one of"):
        classify.classify(CHELSEA, backbone=cache.HEAD_PREFIX + result.key, cam_class="tabby")


def test_imagenet_path_unchanged():
    prediction = classify.classify(CHELSEA, top_k=5)
    assert len(prediction.labels) == 5
    assert any(cat in prediction.labels for cat in ("Egyptian_cat", "tabby", "tiger_cat"))


def test_export_round_trip_in_a_fresh_python(trained, monkeypatch, tmp_path):
    result, root = trained
    monkeypatch.setenv("TL_CACHE_DIR", root)
    model_path, labels_path = heads.export(result.key, tmp_path)
    assert json.loads(labels_path.read_text())["labels"] == ["animal", "object"]
    app_probs = classify.classify(CHELSEA, backbone=cache.HEAD_PREFIX + result.key, top_k=2).labels
    # Plain keras, no `tl`: the model takes the raw 224×224 RGB centre crop and does its own preprocessing.
    code = f"""
import json, numpy as np, keras
from PIL import Image
model = keras.saving.load_model({str(model_path)!r}, safe_mode=True)
img = Image.open({CHELSEA!r}).convert("RGB")
w, h = img.size; s = min(w, h)
img = img.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s)).resize((224, 224), Image.BILINEAR)
print(json.dumps(model.predict(np.asarray(img)[None].astype("float32"), verbose=0)[0].tolist()))
"""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    probs = json.loads(out.stdout.strip().splitlines()[-1])
    assert probs == pytest.approx([app_probs["animal"], app_probs["object"]], abs=1e-4)


def test_retraining_extracts_only_the_new_image(monkeypatch):
    net = backbones.get_backbone()
    seen: list[int] = []
    real = net.feature_maps
    monkeypatch.setattr(net, "feature_maps", lambda x: seen.append(len(x)) or real(x))
    hp = fewshot.HParams(augment="fast", epochs=5)
    fewshot.train([("animal", ANIMALS[:3]), ("object", OBJECTS[:3])], hp=hp)
    assert sum(seen) == 6
    seen.clear()
    again = fewshot.train([("animal", ANIMALS[:4]), ("object", OBJECTS[:3])], hp=hp)
    assert sum(seen) == 1 and not again.from_cache
    seen.clear()
    fewshot.train([("animal", ANIMALS[:4]), ("object", OBJECTS[:3])], hp=fewshot.HParams(augment="full", epochs=5))
    assert sum(seen) == 7 * 3  # flip and two random crops per image: the plain views are cached


def test_augmented_views_are_deterministic_and_differ():
    sample = fewshot.load_samples([("a", [CHELSEA])], 224)[0]
    crops = [fewshot.render_view(sample, "crop0", 224) for _ in range(2)]
    assert np.array_equal(*crops) and crops[0].shape == (224, 224, 3)
    assert not np.array_equal(crops[0], fewshot.render_view(sample, "crop1", 224))
    assert np.array_equal(fewshot.render_view(sample, "flip", 224), sample.square[:, ::-1])


@pytest.mark.parametrize(
    "per_class, expected, n_sets",
    [((6, 8), "hold-out", 1), ((3, 7), "3-fold cross-validation", 3), ((2, 2), "2-fold", 2), ((1, 5), "not measured", 0)],
)
def test_validation_split_is_per_image_and_stratified(per_class, expected, n_sets):
    labels = np.repeat(np.arange(len(per_class)), per_class)
    hashes = [f"{i:04d}" for i in range(len(labels))]
    how, sets = fewshot.folds(labels, hashes, fewshot.HParams())
    assert expected in how and len(sets) == n_sets
    for val in sets:
        assert set(labels[val]) == set(labels)  # at least one image of every class held out
    if n_sets > 1:  # k-fold: every image is held out exactly once
        assert sorted(np.concatenate(sets).tolist()) == list(range(len(labels)))


def test_validation_images_never_train(monkeypatch):
    """No view of a held-out image reaches `fit_head`'s training data."""
    calls = []
    real = fewshot.fit_head
    monkeypatch.setattr(fewshot, "fit_head", lambda x, y, k, hp, val=None, *a, **kw: calls.append((x, val)) or real(x, y, k, hp, val, *a, **kw))
    fewshot.train([("animal", ANIMALS[:3]), ("object", OBJECTS[:3])], hp=fewshot.HParams(epochs=3))
    assert len(calls) == 4  # 3 folds + the final head
    for x, val in calls[:3]:
        train_rows = {row.tobytes() for row in np.round(x / np.linalg.norm(x, axis=1, keepdims=True), 5)}
        val_x = val[0] / np.linalg.norm(val[0], axis=1, keepdims=True)
        assert not any(np.round(v, 5).tobytes() in train_rows for v in val_x)
        assert len(x) == 4 * 6  # 4 training images × 6 views (plain + 5 feature-map crops)


@pytest.mark.parametrize(
    "classes, message",
    [
        ([("cat", [CHELSEA])], "Expected between 2 and 20 classes"),
        ([("cat", [CHELSEA]), ("", ANIMALS[:1])], "Every class needs a name"),
        ([("cat", [CHELSEA]), ("Cat ", ANIMALS[:1])], "Class names must be different"),
        ([("cat", [CHELSEA]), ("dog", [])], "Every class needs at least one image. Received: class 'dog'"),
        ([(f"c{i}", [CHELSEA]) for i in range(21)], "Received: 21 classes"),
    ],
)
def test_bad_classes_are_refused_with_a_message(classes, message):
    with pytest.raises(ValueError, match=message):
        fewshot.train(classes)


def test_too_many_images_and_bad_files(monkeypatch, tmp_path):
    monkeypatch.setattr(fewshot, "MAX_IMAGES_PER_CLASS", 3)
    with pytest.raises(ValueError, match="At most 3 images per class. Received: 4 images in 'animal'"):
        fewshot.train([("animal", ANIMALS[:4]), ("object", OBJECTS[:2])])
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    with pytest.raises(images.ImageError, match="Class 'object', file 'notes.png': This file is not an image"):
        fewshot.train([("animal", ANIMALS[:2]), ("object", [OBJECTS[0], str(text)])])
    with pytest.raises(ValueError, match="Each image must belong to one class"):
        fewshot.train([("animal", ANIMALS[:2]), ("object", [OBJECTS[0], ANIMALS[0]])])


def test_duplicate_photo_in_one_class_counts_once(tmp_path):
    copy = tmp_path / "same_cat.png"
    copy.write_bytes(Path(CHELSEA).read_bytes())
    result = fewshot.train([("animal", [CHELSEA, str(copy)] + imagenet("16_251")), ("object", OBJECTS[:2])],
                           hp=fewshot.HParams(epochs=3))
    assert result.counts == {"animal": 2, "object": 2}


def test_progress_runs_through_features_and_epochs():
    seen: list[tuple[float, str]] = []
    result = fewshot.train([("animal", ANIMALS[:5]), ("object", OBJECTS[:5])], progress=lambda f, m: seen.append((f, m)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any(m.startswith("Features") for _, m in seen)
    assert any(f"epoch {result.history and len(result.history['loss'])}/" in m for _, m in seen)
    assert len(result.history["val_accuracy"]) == fewshot.HParams().epochs
