"""The UI's two languages: the static texts and the German error table, on the messages `tl` really raises."""

from __future__ import annotations

import io
import re
from types import SimpleNamespace

import gradio as gr
import numpy as np
import pytest
from PIL import Image

import ui_text
from tl import attacks, backbones, classify, fewshot, images


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


@pytest.mark.parametrize("pattern, template", ui_text.ERRORS_DE, ids=lambda x: x[:40])
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
