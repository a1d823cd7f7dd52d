"""A trained head in feature visualization and attacks, on real MobileNet weights and real photos: its ideal
image, a targeted attack that survives a PNG round trip, transfer to ImageNet, and clear errors."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fewshot_photos import ANIMALS, OBJECTS, imagenet
from tl import attacks, cache, classifier, classify, fewshot, heads, images
from tl.optvis import render

BEAKER = imagenet("02_438")[0]  # an object never trained on


@pytest.fixture(scope="module")
def head_choice(tmp_path_factory: pytest.TempPathFactory):
    """"head:<key>" of an animal-vs-object head, trained in (and served from) its own cache dir."""
    old = os.environ.get("TL_CACHE_DIR")
    os.environ["TL_CACHE_DIR"] = str(tmp_path_factory.mktemp("head-cache"))
    try:
        result = fewshot.train([("animal", ANIMALS), ("object", OBJECTS)], hp=fewshot.HParams(augment="fast"))
        yield cache.HEAD_PREFIX + result.key
    finally:
        os.environ.pop("TL_CACHE_DIR") if old is None else os.environ.__setitem__("TL_CACHE_DIR", old)


@pytest.fixture(scope="module")
def model(head_choice) -> classifier.Classifier:
    return classifier.for_model(head_choice)


def png_round_trip(image: np.ndarray) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def test_for_model_names_a_backbone_or_a_head(head_choice, model):
    assert classifier.for_model("mobilenet") is classifier.imagenet("mobilenet")
    assert classifier.for_model(head_choice) is model  # one per head
    assert model.class_names == ("animal", "object") and model.key == head_choice
    assert model.name == "my model: animal vs object" and model.input_size == 224


def test_head_logits_are_the_heads_own_probabilities(head_choice, model):
    """The differentiable path (logits on raw pixels) agrees with the exported end-to-end model."""
    photos = np.stack([images.fit(images.load_rgb(p), 224) for p in (ANIMALS[0], BEAKER)])
    ours = model.probabilities(photos)
    theirs = heads.end_to_end(cache.parse_choice(head_choice))(photos.astype(np.float32)).numpy()
    np.testing.assert_allclose(ours, theirs, atol=1e-4)
    assert list(ours.argmax(axis=1)) == [0, 1]  # a lion-or-such animal, a beaker


def test_ideal_image_of_the_heads_class(head_choice, model):
    frames = list(render.ideal_image_for("animal", backbone=head_choice, steps=32, seed=0))
    last = frames[-1]
    assert last.step == 32 and last.image.shape == (224, 224, 3)
    assert last.probability > 0.95
    assert model.probabilities(last.image)[0, 0] == pytest.approx(last.probability, abs=1e-5)


@pytest.mark.parametrize("method,epsilon", [("PGD", 2.0), ("PGD", 4.0)])
def test_targeted_attack_turns_an_object_into_an_animal(head_choice, model, method, epsilon):
    r = attacks.attack_photo(BEAKER, method=method, backbone=head_choice, target="animal", epsilon=epsilon, steps=20)
    assert r.target_name == "animal" and next(iter(r.top5_before)) == "object"
    assert r.success and r.steps <= 20 and 0 < r.linf <= epsilon
    saved = png_round_trip(r.adversarial)  # what a person downloads
    np.testing.assert_array_equal(saved, r.adversarial)
    assert model.class_names[int(np.argmax(model.probabilities(saved)[0]))] == "animal"
    # and the Classify tab's own path (backbone + head, Grad-CAM) agrees
    assert next(iter(classify.classify(saved, backbone=head_choice).labels)) == "animal"


def test_transfer_between_a_head_and_imagenet(head_choice, model):
    r = attacks.attack_photo(BEAKER, backbone=head_choice, target="animal", epsilon=4.0, steps=20)
    checks, _ = attacks.transfer(r, source=head_choice, others=["mobilenet", head_choice])
    assert [c.backbone for c in checks] == ["mobilenet"]  # the source itself is skipped
    # ImageNet has no "animal": the check is whether its top class changed
    assert checks[0].fooled == (checks[0].top1_before != checks[0].top1_after)
    # and the other way round: an ImageNet attack checked on the head
    dog = attacks.attack_photo(ANIMALS[3], backbone="mobilenet", target="beaker", epsilon=4.0, steps=20)
    (check,), _ = attacks.transfer(dog, source="mobilenet", others=[head_choice])
    assert check.title == "my model: animal vs object" and check.top1_before == "animal"
    assert check.fooled == (check.top1_after != "animal")


@pytest.mark.parametrize("call", [
    lambda choice: list(render.ideal_image_for("tabby", backbone=choice, steps=8)),
    lambda choice: attacks.attack_photo(BEAKER, backbone=choice, target="tabby"),
], ids=["ideal image", "attack"])
def test_a_class_the_head_does_not_have(head_choice, call):
    with pytest.raises(ValueError, match=r"Unknown class for this model\. Expected one of \['animal', 'object'\]\. "
                                         r"Received: 'tabby'"):
        call(head_choice)


def test_class_names_are_matched_like_imagenet_ones(model):
    assert model.class_index("Animal") == 0 and model.class_index(" object ") == 1
    assert classifier.imagenet("mobilenet").class_index("Egyptian cat") == 285
    with pytest.raises(ValueError, match="Expected one of its 1000 classes"):
        classifier.imagenet("mobilenet").class_index("unicorn")


def test_a_head_that_is_not_cached_gets_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.setenv("TL_CACHE_DIR", str(tmp_path))
    with pytest.raises(ValueError, match="no longer available"):
        attacks.attack_photo(BEAKER, backbone="head:" + "0" * 32, target="animal")
