"""The real app, launched as the README launches it, called over HTTP with gradio_client."""

from __future__ import annotations

import pytest
from gradio_client import Client, handle_file

from realdata import CHELSEA, imagenet_samples
from tl import classify


@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False)


def test_classify_endpoint_returns_the_same_top5_as_tl(client):
    labels, heatmap, explained = client.predict(handle_file(str(CHELSEA)), "mobilenet", None, api_name="/classify")
    expected = classify.classify(CHELSEA, backbone="mobilenet", top_k=5).labels
    got = {c["label"]: c["confidence"] for c in labels["confidences"]}
    assert list(got) == list(expected)
    for name, p in expected.items():
        assert got[name] == pytest.approx(p, abs=1e-5)
    assert heatmap and "Egyptian_cat" in explained


def test_chosen_class_for_gradcam(client):
    path, label = imagenet_samples()[0]
    _, _, explained = client.predict(handle_file(str(path)), "mobilenet", "tabby", api_name="/classify")
    assert "tabby" in explained


@pytest.mark.parametrize(
    "content, suffix, message",
    [
        (b"just some text, not a photo", ".jpg", "not an image"),
        (b"%PDF-1.4 fake", ".pdf", "not an image"),
    ],
)
def test_bad_uploads_get_a_clear_message_and_the_app_keeps_serving(client, tmp_path, content, suffix, message):
    bad = tmp_path / f"upload{suffix}"
    bad.write_bytes(content)
    with pytest.raises(Exception, match=message):
        client.predict(handle_file(str(bad)), "mobilenet", None, api_name="/classify")
    labels, _, _ = client.predict(handle_file(str(CHELSEA)), "mobilenet", None, api_name="/classify")
    assert labels["label"] in {"Egyptian_cat", "tabby", "tiger_cat"}


def test_tiny_image_and_unknown_class_are_explained(client, tmp_path):
    from PIL import Image

    tiny = tmp_path / "tiny.png"
    Image.new("RGB", (10, 10)).save(tiny)
    with pytest.raises(Exception, match="too small"):
        client.predict(handle_file(str(tiny)), "mobilenet", None, api_name="/classify")
    with pytest.raises(Exception, match="Unknown ImageNet class"):
        client.predict(handle_file(str(CHELSEA)), "mobilenet", "unicorn", api_name="/classify")


def test_backbone_without_offline_weights_says_so(client, monkeypatch):
    from tl import backbones

    missing = [s.name for s in backbones.SPECS if not s.offline_ready]
    if not missing:
        pytest.skip("every backbone's weights are cached on this machine")
    with pytest.raises(Exception, match="internet"):
        client.predict(handle_file(str(CHELSEA)), missing[0], None, api_name="/classify")


def test_overload_is_answered_with_a_clear_busy_message():
    """A full queue answers at once that it is full; the requests it took are served; nothing else fails."""
    from concurrent.futures import ThreadPoolExecutor

    from realdata import launch_app

    proc, url = launch_app({"TL_QUEUE_SIZE": "1", "TL_CONCURRENCY": "1"})
    try:
        def ideal(seed: int) -> str:
            try:
                Client(url, verbose=False).predict("tabby", "mobilenet", 96, 2.0, seed, api_name="/ideal_image")
                return "served"
            except Exception as e:  # noqa: BLE001
                return str(e)

        with ThreadPoolExecutor(6) as pool:
            answers = list(pool.map(ideal, range(6)))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    busy = [a for a in answers if "Queue is full" in a]
    assert busy and "served" in answers
    assert all(a == "served" or a in busy for a in answers), answers
