"""Adversarial attacks on MobileNet with real photos: success, bounds, 8-bit round trips, bad input."""

from __future__ import annotations

import io
import numpy as np
import pytest
from PIL import Image

from realdata import FOOLBOX_DATA
from tl import attacks, backbones, classifier, images, weights

DOG = FOOLBOX_DATA / "imagenet_00_243.jpg"  # a bull mastiff (also assets/dog_bull_mastiff.jpg)
CATS = {"Egyptian_cat": 285, "tabby": 281, "tiger_cat": 282}


@pytest.fixture(scope="module")
def model() -> classifier.Classifier:
    return classifier.imagenet("mobilenet")


@pytest.fixture(scope="module")
def dog(model) -> np.ndarray:
    return images.fit(images.load_rgb(DOG), model.input_size)


def png_round_trip(image: np.ndarray) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def test_the_dog_is_a_bull_mastiff(model, dog):
    assert int(np.argmax(model.probabilities(dog)[0])) == 243


@pytest.mark.parametrize("epsilon", [2.0, 4.0])
@pytest.mark.parametrize("cat", sorted(CATS))
def test_targeted_pgd_turns_the_dog_into_a_cat(model, dog, cat, epsilon):
    r = attacks.pgd(model, dog, epsilon=epsilon, target=CATS[cat], steps=20)
    assert r.success and r.steps <= 20
    assert r.original_class == 243 and r.target == CATS[cat]
    assert next(iter(r.top5_after)) == cat and next(iter(r.top5_before)) == "bull_mastiff"
    assert 0 < r.linf <= epsilon and r.l2 > 0
    np.testing.assert_array_equal(r.original, dog)
    # what a person downloads is still the cat
    saved = png_round_trip(r.adversarial)
    np.testing.assert_array_equal(saved, r.adversarial)
    assert int(np.argmax(model.probabilities(saved)[0])) == CATS[cat]


def test_untargeted_attacks_change_the_class(model, dog):
    for attack in attacks.ATTACKS.values():
        r = attack(model, dog, epsilon=4.0)
        assert r.success and r.target is None
        assert int(np.argmax(model.probabilities(png_round_trip(r.adversarial))[0])) != 243


def test_fgsm_is_one_step_of_size_epsilon(model, dog):
    r = attacks.fgsm(model, dog, epsilon=3.0, target=281)
    assert r.method == "FGSM" and r.steps == 1
    # one signed step: every channel that is not clipped by the bounds moves by exactly ε
    moved = np.abs(r.perturbation)
    inside = (dog >= 3) & (dog <= 252)
    assert set(np.unique(moved[inside])) <= {0, 3} and (moved[inside] == 3).mean() > 0.9


@pytest.mark.parametrize("epsilon,quantize,bound", [(2.5, True, 2.0), (1.0, True, 1.0), (0.5, False, 0.5)])
def test_perturbation_stays_in_the_ball_and_the_bounds(model, epsilon, quantize, bound):
    bright = np.full((224, 224, 3), 254, np.uint8)  # near the upper bound: clipping must hold
    bright[::2] = 1  # and near the lower one
    r = attacks.pgd(model, bright, epsilon=epsilon, target=281, steps=3, margin=1e9, quantize=quantize)
    assert r.steps == 3 and not r.success
    assert r.linf <= bound + 1e-6
    assert r.adversarial.min() >= 0 and r.adversarial.max() <= 255


def test_amplified_perturbation_is_grey_where_nothing_changed(model, dog):
    r = attacks.pgd(model, dog, epsilon=4.0, target=281)
    shown = r.amplified()
    assert shown.dtype == np.uint8 and shown.shape == dog.shape
    assert np.all(shown[r.perturbation == 0] == 128)


def test_attack_photo_fits_any_photo(tmp_path):
    big = np.asarray(Image.open(DOG).resize((900, 700)))
    path = tmp_path / "big.png"
    Image.fromarray(big).save(path)
    r = attacks.attack_photo(str(path), method="PGD", target="tabby", epsilon=2, steps=20)
    assert r.adversarial.shape == (224, 224, 3) and r.success


def test_transfer_without_a_second_backbone_says_so(model, dog):
    r = attacks.pgd(model, dog, epsilon=2.0, target=281)
    checks, note = attacks.transfer(r, source="mobilenet")
    available = [s.name for s in backbones.SPECS if s.name != "mobilenet" and s.offline_ready]
    if available:
        pytest.skip(f"a second backbone is available here: {available}")
    assert checks == [] and note.startswith("No second backbone is available offline")


def test_transfer_reports_per_backbone(model, dog):
    # "transfer" to the same network: it must be fooled, which exercises the whole report
    r = attacks.pgd(model, dog, epsilon=2.0, target=281)
    checks, _ = attacks.transfer(r, source="none", others=["mobilenet"])
    assert [(c.backbone, c.top1_before, c.top1_after, c.fooled) for c in checks] == [
        ("mobilenet", "bull_mastiff", "tabby", True)]


def test_transfer_to_a_backbone_without_weights_says_so(model, dog, monkeypatch):
    monkeypatch.setenv("TL_OFFLINE", "1")
    missing = [s.name for s in backbones.SPECS if not s.offline_ready and not backbones.is_built(s.name)]
    if not missing:
        pytest.skip("every backbone is available here")
    r = attacks.pgd(model, dog, epsilon=2.0, target=281)
    checks, note = attacks.transfer(r, source="mobilenet", others=[missing[0]])
    assert checks == [] and missing[0] in note and "weights downloaded first" in note


BAD_CALLS = [
    ("epsilon 0", dict(epsilon=0.0), ValueError, "Expected epsilon between 1 and 16"),
    ("epsilon 17", dict(epsilon=17.0), ValueError, "Expected epsilon"),
    ("steps 0", dict(steps=0), ValueError, "Expected steps"),
    ("steps 201", dict(steps=201), ValueError, "Expected steps"),
    ("unknown method", dict(method="CW"), ValueError, "Expected a method"),
    ("unknown class", dict(target="unicorn"), ValueError, "Unknown class for this model"),
    ("unknown backbone", dict(backbone="alexnet"), backbones.UnknownBackbone, "Unknown backbone"),
    ("a non-image", dict(photo=b"not an image"), images.ImageError, "not an image"),
    ("a missing file", dict(photo="/nonexistent.jpg"), images.ImageError, "No such image file"),
]


@pytest.mark.parametrize("name,kwargs,error,message", BAD_CALLS, ids=[c[0] for c in BAD_CALLS])
def test_bad_input_gets_a_clear_error(name, kwargs, error, message):
    kwargs = {"photo": str(DOG), **kwargs}
    with pytest.raises(error, match=message):
        attacks.attack_photo(kwargs.pop("photo"), **kwargs)


def test_a_backbone_without_weights_gets_a_clear_error(monkeypatch):
    monkeypatch.setenv("TL_OFFLINE", "1")
    missing = [s.name for s in backbones.SPECS if not s.offline_ready and not backbones.is_built(s.name)]
    if not missing:
        pytest.skip("every backbone is available here")
    with pytest.raises(weights.WeightsUnavailable, match="cannot be downloaded now"):
        attacks.attack_photo(str(DOG), backbone=missing[0])


@pytest.mark.parametrize("kwargs,message", [
    (dict(target=1000), "Expected a target class index"),
    (dict(bounds=(1.0, 0.0)), "Expected bounds"),
    (dict(epsilon=0.5), "Expected epsilon between 1 and 16"),
])
def test_low_level_validation(model, dog, kwargs, message):
    with pytest.raises(ValueError, match=message):
        attacks.pgd(model, dog, **kwargs)


def test_image_shape_is_checked(model):
    with pytest.raises(ValueError, match=r"Expected an RGB image of shape \(224, 224, 3\)"):
        attacks.pgd(model, np.zeros((100, 100, 3), np.uint8))
