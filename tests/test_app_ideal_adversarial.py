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


def test_a_german_browser_gets_the_reports_in_german(app_url):
    german = gradio_client.Client(app_url, verbose=False, headers={"accept-language": "de-DE,de;q=0.9"})
    _, text = german.predict("tabby", "mobilenet", 8, 1.0, 0, api_name="/ideal_image")  # streamed: the last frame
    assert text.startswith("Schritt 8/8: p(tabby) dieses Bildes = **") and "\nRobustheit (mittleres p" in text
    *_, summary = german.predict(gradio_client.handle_file(str(DOG)), "mobilenet", "tabby", "PGD", 2, 20,
                                 api_name="/adversarial")
    assert "**PGD**, ε = 2/255: **getäuscht** (Ziel: **tabby**)" in summary and "Störung: L∞ = 2" in summary
    assert "Kein zweites Backbone ist offline verfügbar" in summary


@pytest.mark.parametrize("args,api,message", [
    (("unicorn", "mobilenet", 8, 1.0, 0), "/ideal_image", "Unknown class for this model"),
    (("tabby", "alexnet", 8, 1.0, 0), "/ideal_image", "alexnet"),
    ((gradio_client.handle_file(str(DOG)), "mobilenet", "unicorn", "PGD", 2, 20), "/adversarial",
     "Unknown class for this model"),
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


def test_a_trained_head_in_this_tab(app_url):
    """Train in one session; its head is then a model of this tab (ideal image and attack) in that session only."""
    from fewshot_photos import ANIMALS, OBJECTS, imagenet

    from tl import fewshot

    handle = gradio_client.handle_file
    client = gradio_client.Client(app_url, verbose=False)
    rows = [("animal", ANIMALS[:4]), ("object", OBJECTS[:4])] + [("", None)] * (fewshot.MAX_CLASSES - 2)
    out = client.predict("mobilenet", "", "fast", *[v for n, files in rows
                                                    for v in (n, files and [handle(f) for f in files])],
                         api_name="/train")
    ideal_models, attack_models, transfer_models, classify_models = out[-4:]
    (head,) = [v for _, v in classify_models["choices"] if v.startswith("head:")]
    for update in (ideal_models, attack_models, transfer_models):
        assert ("my model: animal vs object", head) in [tuple(c) for c in update["choices"]]

    image, text = client.predict("animal", head, 16, 1.0, 0, api_name="/ideal_image")
    assert np.asarray(Image.open(image)).shape[:2] == (224, 224) and "Step 16/16: p(animal)" in text

    beaker = imagenet("02_438")[0]
    adv, _, before, after, summary = client.predict(
        handle(beaker), head, "animal", "PGD", 4, 20, "mobilenet", api_name="/adversarial")
    assert {c["label"] for c in before["confidences"]} == {"animal", "object"}
    assert before["label"] == "object" and after["label"] == "animal"
    assert "make it say **animal**" in summary and "fooled" in summary
    assert "Transfer to MobileNet (v1, 1.0, 224)" in summary  # ImageNet has no "animal": did its top class change?

    with pytest.raises(Exception, match=r"Unknown class for this model\. Expected one of \['animal', 'object'\]"):
        client.predict(handle(beaker), head, "tabby", "PGD", 4, 20, api_name="/adversarial")
    other = gradio_client.Client(app_url, verbose=False)  # another session was never offered this head
    with pytest.raises(Exception, match="not in the list of choices"):
        other.predict("animal", head, 8, 1.0, 0, api_name="/ideal_image")
