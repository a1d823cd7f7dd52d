"""The UI's two languages: the static texts, the result texts (`say`) and the German error table, on the messages
`tl` really raises and the callbacks really return."""

from __future__ import annotations

import contextvars
import dataclasses
import io
import re
import threading
from types import SimpleNamespace

import gradio as gr
import numpy as np
import pytest
from PIL import Image

import ui_text
from realdata import CAT_CLASSES, CHELSEA
from tl import attacks, backbones, classify, fewshot, images

GERMAN = gr.Request(headers={"accept-language": "de-DE,de;q=0.9,en;q=0.8"})


def raised(fn, *args, **kwargs) -> str:
    """The message of the user-facing error `fn(*args, **kwargs)` raises."""
    with pytest.raises((ValueError, RuntimeError)) as e:
        fn(*args, **kwargs)
    return str(e.value)


def png(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.zeros((height, width, 3), np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def test_both_languages_have_every_key_and_no_empty_text():
    assert set(ui_text.EN) == set(ui_text.DE)
    assert all(text.strip() for text in [*ui_text.EN.values(), *ui_text.DE.values()])
    assert ui_text.I18N.translations_dict == {"en": ui_text.EN, "de": ui_text.DE}
    with pytest.raises(KeyError):
        ui_text.t("no.such.key")


@pytest.mark.parametrize("pattern, template", ui_text.ERRORS_DE + ui_text.PHRASES_DE, ids=lambda x: x[:40])
def test_every_german_template_formats_with_its_patterns_groups(pattern, template):
    groups = set(re.compile(pattern).groupindex)
    assert template.format(**{g: f"<{g}>" for g in groups})
    assert set(re.findall(r"{(\w+)}", template)) <= groups  # nothing the pattern does not capture
    assert ("Received: " in pattern) == ("Erhalten: " in template)  # the details stay


# (the English message tl or the app raises, its exact German translation)
EXACT = [
    (lambda: raised(images.load_rgb, b"this is not a picture"),
     "Diese Datei ist kein Bild, das wir lesen können. Verwende JPEG, PNG, WebP, GIF, BMP oder TIFF."),
    (lambda: raised(images.load_rgb, png(8, 40)),
     "Das Bild ist zu klein zum Klassifizieren: Jede Seite muss mindestens "
     f"{images.MIN_SIDE} Pixel lang sein. Erhalten: 8×40"),
    (lambda: raised(classify.class_index, "tabbby"),
     "Unbekannte ImageNet-Klasse. Erwartet wird ein Name wie 'tabby' oder 'Egyptian_cat'. Erhalten: 'tabbby'"),
    (lambda: raised(backbones.spec, "vgg99"),
     f"Unbekanntes Backbone. Erwartet wird eines von {sorted(backbones.REGISTRY)}. Erhalten: 'vgg99'"),
    (lambda: raised(fewshot.validate_classes, [("cat", ["a.jpg"]), ("", ["b.jpg"])]),
     "Jede Klasse braucht einen Namen. Erhalten: Klasse 2 hat keinen Namen"),
    (lambda: raised(fewshot.validate_classes, [("Cat", ["a.jpg"]), ("cat", ["b.jpg"])]),
     "Die Klassennamen müssen verschieden sein. Erhalten: 'Cat' und 'cat'"),
    (lambda: raised(fewshot.validate_classes, [("cat", ["a.jpg"]), ("dog", [])]),
     "Jede Klasse braucht mindestens ein Bild. Erhalten: Klasse 'dog' hat keines"),
    (lambda: raised(fewshot.validate_classes, [("cat", ["a.jpg"])]),
     f"Erwartet werden {fewshot.MIN_CLASSES} bis {fewshot.MAX_CLASSES} Klassen, jede mit Namen und Bildern. "
     "Erhalten: 1 Klasse(n)"),
    (lambda: raised(attacks.attack_photo, "x.jpg", method="PGD", backbone="mobilenet", epsilon=99.0, steps=1),
     f"Erwartet wird epsilon zwischen 1 und {attacks.MAX_EPSILON:g}. Erhalten: epsilon=99.0"),
    (lambda: "Class 'cat', file 'notes.png': This file is not an image we can read. "
             "Use JPEG, PNG, WebP, GIF, BMP or TIFF.",
     "Klasse 'cat', Datei 'notes.png': Diese Datei ist kein Bild, das wir lesen können. "
     "Verwende JPEG, PNG, WebP, GIF, BMP oder TIFF."),
    (lambda: "Upload, paste or take a photo first.", "Lade zuerst ein Foto hoch, füge eines ein oder nimm eines auf."),
    (lambda: "Train a model first.", "Trainiere zuerst ein Modell."),
]


@pytest.mark.parametrize("message, german", EXACT)
def test_messages_users_hit_map_exactly(message, german):
    english = message()
    assert ui_text.translate(english, "de") == german
    assert ui_text.translate(english, "en") == english


def test_an_unknown_message_stays_english():
    assert ui_text.translate("Something nobody wrote a translation for.", "de") == (
        "Something nobody wrote a translation for."
    )


@pytest.mark.parametrize("header, lang", [
    ("de-DE,de;q=0.9,en;q=0.8", "de"),
    ("en-US,en;q=0.9,de;q=0.8", "en"),
    ("fr-FR,fr;q=0.9,de;q=0.5", "de"),  # the first language we have
    ("en;q=0.5,de-AT;q=0.8", "de"),  # by quality, not by order
    ("fr-FR", "en"),
    ("", "en"),
])
def test_language_from_accept_language(header, lang):
    assert ui_text.language(SimpleNamespace(headers={"accept-language": header})) == lang
    assert ui_text.language(None) == "en"


def test_user_errors_translates_for_the_request_that_gradio_injects():
    import app
    from gradio.helpers import special_args

    @app.user_errors
    def pick(name: str) -> int:
        return classify.class_index(name)

    german = gr.Request(headers={"accept-language": "de-DE,de;q=0.9"})
    inputs, *_ = special_args(pick, ["tabbby"], request=gr.Request())  # gradio finds the parameter
    assert len(inputs) == 2 and isinstance(inputs[1], gr.Request)
    with pytest.raises(gr.Error, match="Unbekannte ImageNet-Klasse"):
        pick("tabbby", german)
    with pytest.raises(gr.Error, match="Unknown ImageNet class"):
        pick("tabbby", None)
    assert pick("tabby") == classify.class_index("tabby")  # a direct call needs no request

    @app.user_errors
    def export(last: list | None) -> list:
        raise gr.Error("Train a model first.", print_exception=False)

    with pytest.raises(gr.Error, match="Trainiere zuerst ein Modell"):  # the app's own messages too
        export(None, german)


def test_every_backbone_status_has_a_translation():
    """Dropdown entries say whether a backbone works offline; tl's wording must stay in ui_text's table."""
    for spec in backbones.SPECS:
        assert "__i18n__" in ui_text.backbone_status(backbones.status(spec.name))
    assert {"available offline", "needs internet the first time (weights download)", "loaded"} == set(
        ui_text._STATUS_KEYS
    )


# --- result texts ------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(ui_text.SAY_EN))
def test_every_result_text_is_in_both_languages_with_the_same_fields(key):
    assert set(ui_text.SAY_DE) == set(ui_text.SAY_EN)
    en, de = ui_text.SAY_EN[key], ui_text.SAY_DE[key]
    assert en.strip() and de.strip()
    assert ui_text.fields(en) == ui_text.fields(de)
    values = {name: 0.5 for name in ui_text.fields(en)}  # numbers format as text too
    assert ui_text.say(key, **values) == en.format(**values)
    with ui_text.speaking("de"):
        assert ui_text.say(key, **values) == de.format(**values)


def test_say_speaks_english_unless_a_callback_set_the_language():
    assert ui_text.current_language() == "en"
    assert ui_text.say("classify.explains", cls="tabby") == "Grad-CAM explains **tabby**."
    with ui_text.speaking("de"):
        assert ui_text.say("classify.explains", cls="tabby") == "Grad-CAM erklärt **tabby**."
        with ui_text.speaking("en"):
            assert ui_text.current_language() == "en"
        assert ui_text.current_language() == "de"
        seen = []
        other = threading.Thread(target=lambda: seen.append(ui_text.current_language()))
        other.start()
        other.join()
        assert seen == ["en"]  # another visitor's thread is not affected
    assert ui_text.current_language() == "en"
    with pytest.raises(KeyError):
        ui_text.say("no.such.key")
    with pytest.raises(ValueError):
        ui_text.speaking("fr").__enter__()


PHRASES = [  # (the English phrase tl really puts into a result, its German)
    (lambda: fewshot.folds(np.repeat([0, 1], 5), [f"{i:02}" for i in range(10)], fewshot.HParams(val_fraction=0.2))[0],
     "stratifizierte Hold-out-Menge von 2 Bildern, 20% pro Klasse"),
    (lambda: fewshot.folds(np.repeat([0, 1], 3), [f"{i:02}" for i in range(6)], fewshot.HParams())[0],
     "3-fache Kreuzvalidierung (eine Klasse hat nur 3 Bilder)"),
    (lambda: fewshot.folds(np.array([0, 1, 1]), ["a", "b", "c"], fewshot.HParams())[0],
     "nicht gemessen: Eine Klasse hat nur ein Bild"),
    (lambda: attacks.transfer(None, source="mobilenet", others=[])[1],
     "Für die Übertragbarkeitsprüfung wurde kein anderes Modell gewählt."),
]


@pytest.mark.parametrize("english, german", PHRASES)
def test_tls_phrases_in_results_are_translated(english, german):
    assert ui_text.phrase(english()) == english()
    with ui_text.speaking("de"):
        assert ui_text.phrase(english()) == german


def test_a_wrapped_callback_answers_a_german_browser_in_german():
    import app

    labels, _, said = app.classify_image(str(CHELSEA), "mobilenet", None, request=GERMAN)
    top = max(labels, key=labels.get)
    assert top in CAT_CLASSES and said == f"Grad-CAM erklärt **{top}**."  # ImageNet's class names stay as they are
    _, _, said = app.classify_image(str(CHELSEA), "mobilenet", None, request=None)
    assert said.startswith("Grad-CAM explains **")
    assert ui_text.current_language() == "en"  # the call's language ended with it


def test_a_streaming_callback_speaks_german_at_every_step_whatever_the_context():
    """Gradio may run each step of a generator in another thread (another context): the wrapper sets the
    language around each one."""
    import app

    @app.user_errors_stream
    def count(n: int):
        for i in range(1, n + 1):
            yield ui_text.say("progress.step", step=i, steps=n)

    frames = count(3, GERMAN)
    said = [contextvars.Context().run(next, frames) for _ in range(3)]  # each step in a fresh context
    assert said == ["Schritt 1/3", "Schritt 2/3", "Schritt 3/3"]
    assert list(count(2)) == ["step 1/2", "step 2/2"]


def test_the_train_summary_in_english_is_tls_own():
    import app

    base = fewshot.TrainResult(
        key="k", name="animal vs object", backbone="mobilenet", labels=("animal", "object"), from_cache=False,
        validation="3-fold cross-validation (a class has only 3 images)", accuracy=0.875, per_class={},
        confusion=np.zeros((2, 2)), history={}, mistakes=[], seconds=2.34, counts={"animal": 3, "object": 3},
    )

    for result in (base, dataclasses.replace(base, from_cache=True, accuracy=None)):
        assert app.train_summary(result) == result.summary()
    with ui_text.speaking("de"):
        assert app.train_summary(base) == (
            "animal vs object: Validierungsgenauigkeit 88% (3-fache Kreuzvalidierung (eine Klasse hat nur 3 Bilder)); "
            "trainiert in 2.3 s."
        )


def test_the_adversarial_report_in_german():
    import app

    r = SimpleNamespace(target=281, target_name="tabby", success=True, method="PGD", epsilon=2.0, steps=7,
                        linf=2.0, l2=123.45)
    checks = [attacks.Transfer("vgg16", "VGG16", "bull_mastiff", "tabby", 0.61, True)]
    english = app.attack_summary(r, checks, "")
    assert english.startswith("**PGD**, ε = 2/255: **fooled** (make it say **tabby**), 7 step(s).")
    with ui_text.speaking("de"):
        german = app.attack_summary(r, checks, "Not checked (weights not available now): resnet50.")
    assert german.split("  \n") == [
        "**PGD**, ε = 2/255: **getäuscht** (Ziel: **tabby**), 7 Schritt(e).",
        "Störung: L∞ = 2, L2 = 123.5 (in Pixelwerten, 0–255); "
        "das gezeigte PNG ist genau das Bild, das geprüft wurde.",
        "Übertragung auf VGG16: bull_mastiff → **tabby** (0.61): überträgt sich.",
        "Nicht geprüft (Gewichte gerade nicht verfügbar): resnet50.",
    ]
