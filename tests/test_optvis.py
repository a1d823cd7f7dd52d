"""Feature visualization: transforms and parameterizations on tiny arrays, then ideal images on MobileNet."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from tl import classifier  # noqa: E402
from tl.optvis import objectives, param, render, transform  # noqa: E402

A22 = np.array([[0.0, 1.0], [2.0, 3.0]], np.float32)[None, :, :, None]  # 1×2×2×1
A33 = np.arange(9, dtype=np.float32).reshape(1, 3, 3, 1)
SEED = tf.constant([7, 3], tf.int32)


def run(t: transform.Transform, image: np.ndarray, seed=SEED) -> np.ndarray:
    return t(tf.constant(image), seed).numpy()


# --- transforms: exact expectations ---------------------------------------------------------------

EXACT_TRANSFORMS = [
    ("pad constant", transform.pad(1, constant_value=0.5), A22,
     np.pad(A22, [(0, 0), (1, 1), (1, 1), (0, 0)], constant_values=0.5)),
    ("pad reflect", transform.pad(1, mode="reflect"), A22,
     np.pad(A22, [(0, 0), (1, 1), (1, 1), (0, 0)], mode="reflect")),
    ("pad 0", transform.pad(0), A22, A22),
    ("jitter 0", transform.jitter(0), A33, A33),
    ("scale 1", transform.random_scale([1.0]), A33, A33),
    ("scale 2, bilinear half-pixel", transform.random_scale([2.0]), np.array([[[[0.0], [1.0]]]], np.float32),
     np.array([[[[0.0], [0.25], [0.75], [1.0]]] * 2], np.float32)),
    ("scale 0.5: the centre of 2x2", transform.random_scale([0.5]), A22, np.array([[[[1.5]]]], np.float32)),
    ("rotate 0", transform.random_rotate([0]), A33, A33),
    ("rotate 90: counter-clockwise", transform.random_rotate([90]), A33, np.rot90(A33[0, :, :, 0])[None, :, :, None]),
    ("rotate 180", transform.random_rotate([180]), A33, A33[:, ::-1, ::-1, :]),
    ("crop 4x4 -> centre 2x2", transform.center_crop_or_pad(2), np.arange(16.0).reshape(1, 4, 4, 1),
     np.array([[5.0, 6.0], [9.0, 10.0]])[None, :, :, None]),
    ("pad 2x2 -> 4x4", transform.center_crop_or_pad(4, fill=0.5), A22,
     np.pad(A22, [(0, 0), (1, 1), (1, 1), (0, 0)], constant_values=0.5)),
    ("resize 2x2 -> 1x1", transform.resize(1), A22, np.array([[[[1.5]]]], np.float32)),
    ("compose nothing", transform.compose([]), A33, A33),
    ("compose pad then crop", transform.compose([transform.pad(3), transform.center_crop_or_pad(3)]), A33, A33),
]


@pytest.mark.parametrize("name,t,image,expected", EXACT_TRANSFORMS, ids=[c[0] for c in EXACT_TRANSFORMS])
def test_transform_exact(name, t, image, expected):
    np.testing.assert_allclose(run(t, image), expected, atol=1e-5)


@pytest.mark.parametrize("d", [1, 2])
def test_jitter_is_a_crop_at_every_offset(d):
    image = np.arange(25, dtype=np.float32).reshape(1, 5, 5, 1)
    seen = set()
    for i in range(64):
        out = run(transform.jitter(d), image, tf.constant([i, 0], tf.int32))
        assert out.shape == (1, 5 - d, 5 - d, 1)
        dy, dx = int(out[0, 0, 0, 0]) // 5, int(out[0, 0, 0, 0]) % 5
        np.testing.assert_array_equal(out, image[:, dy : dy + 5 - d, dx : dx + 5 - d])
        seen.add((dy, dx))
    assert seen == set(itertools.product(range(d + 1), repeat=2))


def test_transforms_are_seeded():
    t = transform.compose(transform.standard_transforms)
    image = np.random.default_rng(0).random((1, 32, 32, 3), np.float32)
    a, b = run(t, image, tf.constant([1, 2])), run(t, image, tf.constant([1, 2]))
    np.testing.assert_array_equal(a, b)
    outs = [run(t, image, tf.constant([1, i])) for i in range(4)]
    assert any(o.shape != outs[0].shape or not np.array_equal(o, outs[0]) for o in outs[1:])


@pytest.mark.parametrize("factory,args", [(transform.pad, (-1,)), (transform.jitter, (-2,)),
                                          (transform.random_scale, ([0.0],)), (transform.pad, (1, "wrap"))])
def test_transform_validation(factory, args):
    with pytest.raises(ValueError, match="Expected"):
        factory(*args)


# --- parameterizations ------------------------------------------------------------------------------


def test_pixel_image_is_identity():
    params, image_fn = param.pixel_image((1, 2, 2, 3), sd=0.0)
    np.testing.assert_array_equal(params[0].numpy(), np.zeros((1, 2, 2, 3)))
    x = tf.constant(np.arange(12, dtype=np.float32).reshape(1, 2, 2, 3))
    np.testing.assert_array_equal(image_fn((x,)).numpy(), x.numpy())


def test_rfft2d_freqs():
    np.testing.assert_allclose(
        param.rfft2d_freqs(4, 4),
        np.sqrt(np.add.outer(np.array([0, 0.25, 0.5, -0.25]) ** 2, np.array([0, 0.25, 0.5]) ** 2)),
    )


@pytest.mark.parametrize("h,w", [(4, 4), (4, 6), (5, 3)])
def test_fft_image_dc_is_a_flat_image(h, w):
    # the DC coefficient alone is a flat image
    (spectrum,), image_fn = param.fft_image((1, h, w, 3), sd=0.0)
    assert spectrum.shape == (1, 3, h, w // 2 + 1, 2)
    dc = np.zeros(spectrum.shape, np.float32)
    dc[0, :, 0, 0, 0] = [1.0, 2.0, -1.0]
    out = image_fn((tf.constant(dc),)).numpy()
    # the DC scale is max(h, w); "ortho" inverse divides by sqrt(h·w); lucent divides by 4
    expected = np.array([1.0, 2.0, -1.0]) * max(h, w) / np.sqrt(h * w) / param.FFT_MAGIC
    np.testing.assert_allclose(out, np.broadcast_to(expected, (1, h, w, 3)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("j", range(3))
def test_decorrelate_colors_maps_a_basis_vector_to_a_column(j):
    e = np.zeros((1, 1, 1, 3), np.float32)
    e[..., j] = 1.0
    out = param.decorrelate_colors(tf.constant(e)).numpy()[0, 0, 0]
    np.testing.assert_allclose(out, param.COLOR_CORRELATION[:, j], rtol=1e-6)


@pytest.mark.parametrize("decorrelate", [True, False])
def test_to_valid_rgb_of_zero_is_mid_grey(decorrelate):
    image_fn = param.to_valid_rgb(lambda p: p[0], decorrelate)
    np.testing.assert_allclose(image_fn((tf.zeros((1, 2, 2, 3)),)).numpy(), 0.5)


@pytest.mark.parametrize("fft", [True, False])
def test_image_is_valid_and_seeded(fft):
    (p1, f1), (p2, f2), (p3, f3) = (param.image(8, fft=fft, seed=s) for s in (1, 1, 2))
    a, b, c = f1(p1).numpy(), f2(p2).numpy(), f3(p3).numpy()
    assert a.shape == (1, 8, 8, 3) and 0.0 < a.min() and a.max() < 1.0
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


# --- objectives -----------------------------------------------------------------------------------

SEEN = objectives.Seen(
    logits=tf.constant([[0.0, np.log(3.0)]], tf.float32),
    image=tf.constant(np.array([[0.0, 1.0], [0.0, 1.0]], np.float32)[None, :, :, None]),
)
OBJECTIVES = [
    ("logprob", objectives.class_logprob(1), np.log(0.75)),
    ("logit", objectives.class_logit(1), np.log(3.0)),
    ("tv: one unit step across, none down", objectives.total_variation(), 1.0),
    ("sum", objectives.class_logit(1) + objectives.total_variation(), np.log(3.0) + 1.0),
    ("scale", 2.0 * objectives.total_variation(), 2.0),
    ("scale right", objectives.total_variation() * 3, 3.0),
    ("difference", objectives.class_logprob(1) - 0.5 * objectives.total_variation(), np.log(0.75) - 0.5),
    ("negation", -objectives.class_logit(1), -np.log(3.0)),
    ("sum()", sum([objectives.class_logit(1), objectives.class_logit(0)]), np.log(3.0)),
    ("tensor weight", tf.constant(4.0) * objectives.total_variation(), 4.0),
]


@pytest.mark.parametrize("image,expected", [
    (np.zeros((3, 3)), 0.0),
    (np.array([[0.0, 1.0], [0.0, 1.0]]), 1.0),  # right: 1, down: 0
    (np.array([[0.0, 0.0], [1.0, 1.0]]), 1.0),  # right: 0, down: 1
    (np.array([[0.0, 1.0], [1.0, 0.0]]), 2.0),  # both 1 at the one pixel that has both neighbours
    (np.indices((3, 3)).sum(0) * 0.5, 1.0),  # a ramp: 0.5 right, 0.5 down everywhere
])
def test_total_variation_exact(image, expected):
    rgb = np.repeat(np.asarray(image, np.float32)[None, :, :, None], 3, axis=-1)
    seen = objectives.Seen(logits=None, image=tf.constant(rgb))
    assert float(objectives.total_variation()(seen)) == pytest.approx(expected)


@pytest.mark.parametrize("name,objective,expected", OBJECTIVES, ids=[c[0] for c in OBJECTIVES])
def test_objective_values(name, objective, expected):
    assert float(objective(SEEN)) == pytest.approx(expected, rel=1e-6)


# --- ideal images on real weights ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def model() -> classifier.Classifier:
    return classifier.imagenet("mobilenet")


@pytest.mark.parametrize("name,index", [("tabby", 281), ("goldfish", 1)])
def test_ideal_image_is_classified_as_its_class(model, name, index):
    frames = list(render.ideal_image(model, index, steps=24, seed=0))
    assert [f.step for f in frames] == [0, 8, 16, 24]
    assert frames[0].probability < 0.05  # noise is not a tabby
    assert all(0.0 <= f.probability <= 1.0 for f in frames)
    last = frames[-1]
    assert last.image.dtype == np.uint8 and last.image.shape == (224, 224, 3)
    assert last.probability >= 0.9
    # the probability reported is that of exactly the uint8 image handed out
    assert float(model.probabilities(last.image)[0, index]) == pytest.approx(last.probability)
    assert render.robustness(model, last.image, index, k=16) >= 0.5


def test_same_seed_same_image(model):
    def final(seed: int) -> np.ndarray:
        return list(render.ideal_image(model, 281, steps=6, every=6, seed=seed))[-1].image

    a, b, c = final(5), final(5), final(6)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_a_stopped_run_keeps_its_last_image(model):
    run = render.ideal_image(model, 281, steps=500, every=2, seed=1)
    frames = list(itertools.islice(run, 3))
    run.close()
    assert [f.step for f in frames] == [0, 2, 4]
    assert frames[-1].image.shape == (224, 224, 3)


def test_robustness_is_seeded_and_bounded(model):
    from realdata import imagenet_samples
    from tl import images

    path, label = imagenet_samples()[0]
    photo = images.fit(images.load_rgb(path), 224)
    a = render.robustness(model, photo, label, k=8, seed=3)
    assert a == render.robustness(model, photo, label, k=8, seed=3)
    assert 0.0 <= a <= 1.0


@pytest.mark.parametrize("kwargs", [
    {"steps": 0}, {"steps": render.MAX_STEPS + 1}, {"tv_weight": -1.0}, {"tv_weight": 1e6}, {"seed": -1},
])
def test_render_settings_are_checked(model, kwargs):
    with pytest.raises(ValueError, match="Expected .* Received"):
        next(render.ideal_image(model, 281, **kwargs))


@pytest.mark.parametrize("index", [-1, 1000, 2.5, True])
def test_class_index_is_checked(model, index):
    with pytest.raises(ValueError, match="Expected a class index"):
        next(render.ideal_image(model, index))


# --- fused composition: one warp equals the transforms applied one by one --------------------------


@pytest.mark.parametrize("seed", range(6))
def test_compose_fuses_integer_geometry_exactly(seed):
    pipeline = [transform.pad(2, constant_value=0.25), transform.jitter(3), transform.center_crop_or_pad(4, fill=0.25)]
    fused = transform.compose(pipeline)
    assert hasattr(fused, "geometry")  # it is one warp
    image = np.random.default_rng(seed).random((2, 6, 6, 3), np.float32)
    s = tf.constant([seed, 1])
    np.testing.assert_allclose(run(fused, image, s), run(transform.sequential(pipeline), image, s), atol=1e-6)


@pytest.mark.parametrize("seed", range(4))
def test_compose_fuses_lucents_pipeline_closely(seed):
    pipeline = [*transform.standard_transforms, transform.center_crop_or_pad(224)]
    y, x = np.mgrid[0:224, 0:224] / 224.0
    smooth = np.stack([0.5 + 0.4 * np.sin(6 * x), 0.5 + 0.4 * np.cos(5 * y), 0.5 + 0.3 * np.sin(4 * (x + y))], -1)
    s = tf.constant([seed, 2])
    a = run(transform.compose(pipeline), smooth[None].astype(np.float32), s)
    b = run(transform.sequential(pipeline), smooth[None].astype(np.float32), s)
    assert a.shape == b.shape == (1, 224, 224, 3)
    assert np.mean(np.abs(a - b)) < 0.01  # the same geometry; only the number of interpolations differs


def test_compose_does_not_fuse_reflect_padding():
    assert not hasattr(transform.compose([transform.pad(1, mode="reflect"), transform.jitter(1)]), "geometry")


def test_fft_image_nyquist_is_a_checkerboard():
    (spectrum,), image_fn = param.fft_image((1, 4, 4, 3), sd=0.0)
    coef = np.zeros(spectrum.shape, np.float32)
    coef[0, 0, 2, 2, 0] = 1.0  # the highest frequency in both directions, red channel
    out = image_fn((tf.constant(coef),)).numpy()[0, :, :, 0]
    # scale 1/f = 1/sqrt(0.5): the irfft of a lone Nyquist coefficient is ±1/(h·w), times sqrt(h·w) ("ortho")
    value = (1 / np.sqrt(0.5)) / 4 / param.FFT_MAGIC
    checkerboard = np.array([[(-1) ** (y + x) for x in range(4)] for y in range(4)])
    np.testing.assert_allclose(out, value * checkerboard, atol=1e-6)


def test_a_larger_tv_weight_gives_a_smoother_image(model):
    def tv_of_final(weight: float) -> float:
        image = list(render.ideal_image(model, 281, steps=32, every=32, tv_weight=weight, robustness_k=0))[-1].image
        seen = objectives.Seen(logits=None, image=tf.constant(image[None].astype(np.float32) / 255.0))
        return float(objectives.total_variation()(seen))

    assert tv_of_final(20.0) < 0.7 * tv_of_final(0.0)
