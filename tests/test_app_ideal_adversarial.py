"""The Ideal & adversarial tab of the launched app, through gradio_client: streaming, Stop, the PNG, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

gradio_client = pytest.importorskip("gradio_client")

ROOT = Path(__file__).resolve().parents[1]
DOG = ROOT / "assets" / "dog_bull_mastiff.jpg"


@pytest.fixture(scope="module")
def client(app_url):
    return gradio_client.Client(app_url, verbose=False)


def test_adversarial_png_is_the_target(client):
    from tl import classifier

    adv, amplified, before, after, summary = client.predict(
        gradio_client.handle_file(str(DOG)), "mobilenet", "tabby", "PGD", 2, 20, api_name="/adversarial"
    )
    assert Path(adv).suffix == ".png"
    png = np.asarray(Image.open(adv).convert("RGB"))
    assert png.shape == (224, 224, 3)
    assert int(np.argmax(classifier.imagenet("mobilenet").probabilities(png)[0])) == 281
    assert before["label"] == "bull_mastiff" and after["label"] == "tabby"
    assert "fooled" in summary and "No second backbone is available offline" in summary


def test_ideal_image_streams_frames(client):
    job = client.submit("tabby", "mobilenet", 32, 1.0, 0, api_name="/ideal_image")
    image, text = job.result(timeout=300)
    assert len(job.outputs()) >= 3  # noise, intermediate frames, the last one
    assert np.asarray(Image.open(image)).shape[:2] == (224, 224)
    assert "Step 32/32" in text and "Robustness" in text


@pytest.mark.parametrize("args,api,message", [
    (("unicorn", "mobilenet", 8, 1.0, 0), "/ideal_image", "Unknown ImageNet class"),
    (("tabby", "alexnet", 8, 1.0, 0), "/ideal_image", "alexnet"),
    ((gradio_client.handle_file(str(DOG)), "mobilenet", "unicorn", "PGD", 2, 20), "/adversarial",
     "Unknown ImageNet class"),
    ((gradio_client.handle_file(str(DOG)), "mobilenet", "tabby", "PGD", 99, 20), "/adversarial", "99"),
])
def test_bad_input_is_a_clear_error(client, args, api, message):
    with pytest.raises(Exception, match=message):
        client.predict(*args, api_name=api)


def test_a_non_image_is_a_clear_error(client, tmp_path):
    bad = tmp_path / "notes.jpg"
    bad.write_text("not an image")
    with pytest.raises(Exception, match="not an image"):
        client.predict(gradio_client.handle_file(str(bad)), "mobilenet", "tabby", "PGD", 2, 20, api_name="/adversarial")


def test_stopping_a_run_keeps_its_last_image(client):
    import time

    job = client.submit("goldfish", "mobilenet", 320, 1.0, 0, api_name="/ideal_image")
    deadline = time.monotonic() + 120
    while len(job.outputs()) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    job.cancel()
    while not job.done() and time.monotonic() < deadline:
        time.sleep(0.1)
    outputs = job.outputs()
    assert outputs, "no frame arrived before the deadline"
    image, text = outputs[-1]
    assert np.asarray(Image.open(image)).shape[:2] == (224, 224)
    assert "Step 320/320" not in text  # it really stopped early
