"""Top-k ImageNet labels and Grad-CAM on real photos with the real MobileNet."""

from __future__ import annotations

import numpy as np
import pytest

from realdata import CAT_CLASSES, CHELSEA, SKIMAGE_DATA, imagenet_samples
from tl import classify, images


def test_chelsea_is_a_domestic_cat():
    result = classify.classify(CHELSEA, backbone="mobilenet")
    assert next(iter(result.labels)) in CAT_CLASSES
    assert list(result.labels.values()) == sorted(result.labels.values(), reverse=True)
    assert len(result.labels) == 5 and 0.5 < sum(result.labels.values()) <= 1.0 + 1e-6


def test_imagenet_samples_top1(mobilenet):
    """foolbox's 20 labelled ImageNet photos: at least 17 right. Feeding raw 0-255 pixels would fail this."""
    samples = imagenet_samples()
    batch = np.stack([images.fit(images.load_rgb(p), 224) for p, _ in samples])
    predicted = mobilenet.predict_probabilities(batch).argmax(axis=1)
    right = sum(int(p) == label for p, (_, label) in zip(predicted, samples))
    assert right >= 17, f"{right}/20 top-1"


def test_batched_and_single_predictions_agree(mobilenet):
    batch = np.stack([images.fit(images.load_rgb(p), 224) for p, _ in imagenet_samples()[:4]])
    together = mobilenet.predict_probabilities(batch)
    alone = np.concatenate([mobilenet.predict_probabilities(x) for x in batch])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def quadrants(top_left: np.ndarray, others: list[np.ndarray]) -> np.ndarray:
    tiles = [images.fit(t, 224) for t in [top_left, *others]]
    return np.concatenate([np.concatenate(tiles[:2], 1), np.concatenate(tiles[2:], 1)], 0)


def heat_in_box(cam: np.ndarray, box: tuple[float, float, float, float]) -> float:
    """Share of the Grad-CAM mass inside a box given as fractions (top, left, bottom, right)."""
    from PIL import Image

    up = np.asarray(Image.fromarray(cam.astype(np.float32)).resize((224, 224), Image.Resampling.BILINEAR))
    t, l, b, r = (int(v * 224) for v in box)
    return float(up[t:b, l:r].sum() / up.sum())


def test_gradcam_puts_the_heat_on_the_cat():
    """Chelsea in one quadrant, three non-animal photos in the others: the cat's box gets most heat."""
    others = [images.load_rgb(SKIMAGE_DATA / f) for f in ("coffee.png", "rocket.jpg", "astronaut.png")]
    for corner in range(4):
        tiles = others[:]
        tiles.insert(corner, images.load_rgb(CHELSEA))
        grid = quadrants(tiles[0], tiles[1:])
        result = classify.classify(grid, cam_class="Egyptian_cat")
        top, left = divmod(corner, 2)
        share = heat_in_box(result.cam, (top / 2, left / 2, top / 2 + 0.5, left / 2 + 0.5))
        assert share > 0.5, f"cat in quadrant {corner}: {share:.2f} of the heat"


def test_gradcam_on_chelsea_alone_looks_at_the_face():
    """The box around Chelsea's eyes and nose (in the model's centred crop) holds more than half the heat."""
    result = classify.classify(CHELSEA)
    # chelsea is 451×300; the crop is x 75..375. Face (eyes to nose): x 120..370, y 60..280 of the original.
    box = (60 / 300, (120 - 75) / 300, 280 / 300, (370 - 75) / 300)
    assert heat_in_box(result.cam, box) > 0.5


def test_a_chosen_class_is_explained():
    result = classify.classify(CHELSEA, cam_class="tabby")
    assert result.cam_class == "tabby" and result.heatmap.dtype == np.uint8 and result.heatmap.ndim == 3


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"cam_class": "unicorn"}, "Unknown ImageNet class"),
        ({"top_k": 0}, "top_k must be between"),
        ({"backbone": "alexnet"}, "Unknown backbone"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        classify.classify(CHELSEA, **kwargs)


def test_class_names_are_forgiving():
    assert classify.class_index("egyptian cat") == classify.class_index("Egyptian_cat") == 285


def test_concurrent_requests_share_batches_and_get_their_own_answers(mobilenet):
    """Eight threads classify different photos at once: each gets exactly its own single-image answer."""
    from concurrent.futures import ThreadPoolExecutor

    photos = [p for p, _ in imagenet_samples()[:8]]
    crops = [images.fit(images.load_rgb(p), 224) for p in photos]
    alone = [mobilenet.predict_probabilities(c)[0] for c in crops]
    before = len(mobilenet._batcher.batch_sizes)
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(lambda c: mobilenet.classify_one(c)[0], crops * 3))
    for got, want in zip(together, alone * 3):
        np.testing.assert_allclose(got, want, atol=1e-5)
    sizes = list(mobilenet._batcher.batch_sizes)[before:]
    assert sum(sizes) == 24 and max(sizes) > 1
