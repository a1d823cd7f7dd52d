"""The Train tab through the real app and gradio_client: concurrent sessions stay isolated, the cache answers
repeats, bad input gets a clear message, export works, and the trained model appears in Classify."""

from __future__ import annotations

import os
import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from fewshot_photos import ANIMALS, CHELSEA, GRADIO, OBJECTS, SKIMAGE, imagenet

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402

ROWS = 20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory):
    """The real app, queued as in production, on a free loopback port, with a private cache."""
    old = os.environ.get("TL_CACHE_DIR")
    os.environ["TL_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    import app

    app.demo.queue(default_concurrency_limit=2)
    _, url, _ = app.demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=free_port(), quiet=True)
    yield url
    app.demo.close()
    os.environ.pop("TL_CACHE_DIR") if old is None else os.environ.__setitem__("TL_CACHE_DIR", old)


def train_args(classes: list[tuple[str, list[str]]], name: str = "", augment: str = "fast") -> list:
    """The /train endpoint's inputs: backbone, model name, augmentation, then (name, files) for every row."""
    args: list = ["mobilenet", name, augment]
    for i in range(ROWS):
        label, files = classes[i] if i < len(classes) else ("", [])
        args += [label, [handle_file(p) for p in files] or None]
    return args


def model_choices(update: dict) -> dict[str, str]:
    return {value: label for label, value in update["choices"]}


TASK_A = [("animal", ANIMALS[:4]), ("object", OBJECTS[:4])]
TASK_B = [("big cat", [str(GRADIO / "cheetah.jpg"), str(GRADIO / "cheetah1.jpg"), str(GRADIO / "lion.jpg")]),
          ("vehicle", imagenet("06_609", "07_609") + [str(SKIMAGE / "motorcycle_left.png")])]


def test_two_sessions_train_at_once_and_stay_isolated(app_url):
    a, b = Client(app_url, verbose=False), Client(app_url, verbose=False)
    with ThreadPoolExecutor(2) as pool:
        job_a = pool.submit(a.predict, *train_args(TASK_A), api_name="/train")
        job_b = pool.submit(b.predict, *train_args(TASK_B), api_name="/train")
        out_a, out_b = job_a.result(timeout=600), job_b.result(timeout=600)
    summary_a, *_, dropdown_a = out_a
    summary_b, *_, dropdown_b = out_b
    assert "animal vs object" in summary_a and "big cat vs vehicle" in summary_b
    heads_a = {v for v in model_choices(dropdown_a) if v.startswith("head:")}
    heads_b = {v for v in model_choices(dropdown_b) if v.startswith("head:")}
    assert len(heads_a) == len(heads_b) == 1 and heads_a != heads_b  # each session lists only its own model
    (head_a,), (head_b,) = heads_a, heads_b
    assert model_choices(dropdown_a)[head_a] == "my model: animal vs object"

    labels_a, _, said_a = a.predict(handle_file(CHELSEA), head_a, None, api_name="/classify")
    labels_b, _, _ = b.predict(handle_file(CHELSEA), head_b, None, api_name="/classify")
    assert {c["label"] for c in labels_a["confidences"]} == {"animal", "object"} and labels_a["label"] == "animal"
    assert {c["label"] for c in labels_b["confidences"]} == {"big cat", "vehicle"} and labels_b["label"] == "big cat"
    assert "Grad-CAM explains **animal**" in said_a
    with pytest.raises(AppError):  # session B was never offered session A's model
        b.predict(handle_file(CHELSEA), head_a, None, api_name="/classify")


def test_the_same_task_again_comes_from_the_cache_and_exports(app_url, tmp_path):
    client = Client(app_url, verbose=False, download_files=str(tmp_path))
    first = client.predict(*train_args(TASK_A, name="pets"), api_name="/train")
    again = client.predict(*train_args(TASK_A, name="pets"), api_name="/train")
    assert "from cache" in again[0] and "pets" in again[0]
    assert again[1] == first[1]  # the same per-class accuracies
    files = client.predict(api_name="/export")
    names = sorted(Path(f).name for f in files)
    assert names == ["pets.keras", "pets.labels.json"]


def test_export_before_training_says_so(app_url):
    with pytest.raises(AppError, match="Train a model first"):
        Client(app_url, verbose=False).predict(api_name="/export")


@pytest.fixture
def not_an_image(tmp_path: Path) -> str:
    path = tmp_path / "holiday.jpg"
    path.write_text("this is a text file with an image's name")
    return str(path)


@pytest.mark.parametrize(
    "classes, message",
    [
        ([("animal", ANIMALS[:2])], "Expected between 2 and 20 classes"),
        ([("animal", ANIMALS[:2]), ("object", [])], "Every class needs at least one image. Received: class 'object'"),
        ([("animal", ANIMALS[:2]), ("Animal", OBJECTS[:2])], "Class names must be different"),
        ([("animal", ANIMALS[:2]), ("", OBJECTS[:2])], "Every class needs a name"),
        ([("animal", ANIMALS[:2]), ("object", ["NOT_AN_IMAGE"])], "Class 'object', file 'holiday.jpg': This file is not an image"),
        ([("animal", ANIMALS[:5]), ("object", OBJECTS[:2])], "At most 4 images per class. Received: 5 images in 'animal'"),
    ],
    ids=["one-class", "empty-class", "duplicate-names", "empty-name", "not-an-image", "over-the-cap"],
)
def test_bad_input_gets_a_clear_message(app_url, monkeypatch, not_an_image, classes, message):
    import tl.fewshot

    monkeypatch.setattr(tl.fewshot, "MAX_IMAGES_PER_CLASS", 4)
    classes = [(n, [not_an_image if f == "NOT_AN_IMAGE" else f for f in files]) for n, files in classes]
    with pytest.raises(AppError, match=message):
        Client(app_url, verbose=False).predict(*train_args(classes), api_name="/train")


def test_a_failed_train_leaves_the_classes_in_place(app_url):
    """Training never writes to the class names or uploads, so an error cannot clear them."""
    import app

    config = app.demo.get_config_file()
    train = next(d for d in config["dependencies"] if d.get("api_name") == "train")
    assert not set(train["inputs"][4:]) & set(train["outputs"])  # the 20 (name, files) rows


def test_example_task_ships_with_the_app():
    import app

    task = app.example_task()
    assert [name for name, _ in task] == ["animal", "object"]
    assert all(len(files) >= 5 for _, files in task)
    values = app.fill_example()
    assert values[0] == 2 and "animal" in values and "object" in values


def test_a_german_browser_gets_the_results_in_german(app_url):
    """Result texts follow the request's Accept-Language; the class and model names stay the user's own."""
    german = Client(app_url, verbose=False, headers={"accept-language": "de-DE,de;q=0.9,en;q=0.8"})
    summary, *_, dropdown = german.predict(*train_args(TASK_A), api_name="/train")
    assert summary.startswith("**animal vs object: Validierungsgenauigkeit ")
    assert summary.endswith("** Jetzt im Tab Klassifizieren wählbar als *my model: animal vs object*.")
    (head,) = [v for v in model_choices(dropdown) if v.startswith("head:")]
    _, _, said = german.predict(handle_file(CHELSEA), head, None, api_name="/classify")
    assert said == "Grad-CAM erklärt **animal**."


def test_train_labelled_takes_photos_and_one_label_each(app_url):
    """The API-friendly form of /train: a flat list of photos and a label per photo."""
    client = Client(app_url, verbose=False)
    photos = ANIMALS[:4] + OBJECTS[:4]
    labels = ",".join(["animal"] * 4 + ["object"] * 4)
    summary, *_, model = client.predict("mobilenet", "", "fast", [handle_file(p) for p in photos], labels,
                                        api_name="/train_labelled")
    assert "animal vs object" in summary and model["value"].startswith("head:")
    got, _, _ = client.predict(handle_file(CHELSEA), model["value"], None, api_name="/classify")
    assert got["label"] == "animal"
    with pytest.raises(AppError, match="Expected one label per photo"):
        client.predict("mobilenet", "", "fast", [handle_file(p) for p in photos], "animal", api_name="/train_labelled")
