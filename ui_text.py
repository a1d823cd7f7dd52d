"""The UI's words in English and German: static texts as `gr.I18n` data, result texts and error messages as tables.

The browser picks the static texts by its language (gradio's front end does it); result texts (`say`) and
error messages (`translate`) are made on the server in the request's language (from its Accept-Language header,
set by app.py's wrappers for the duration of a callback). ImageNet class names stay as they are.
"""

from __future__ import annotations

import contextlib
import contextvars
import re
import string
from typing import Any, Iterator

import gradio as gr

from tl import fewshot

MAX_ROWS = fewshot.MAX_CLASSES

# --- static texts: key -> English, key -> German ------------------------------------------------------

EN: dict[str, str] = {
    "app.intro": (
        "# Transfer-learning studio\n"
        "Classify a photo with a pretrained ImageNet network and see where it looked (Grad-CAM); "
        "teach it a new task from a few examples; make it dream up its ideal image or fool it."
    ),
    # Classify
    "classify.tab": "Classify",
    "classify.photo": "Photo",
    "common.backbone": "Backbone",
    "backbone.loaded": "loaded",
    "backbone.offline": "available offline",
    "backbone.needs_internet": "needs internet the first time (weights download)",
    "classify.explain_class": "Explain class (empty: the top class)",
    "classify.run": "Classify",
    "classify.hub_accordion": "Load a model from the Hugging Face Hub",
    "classify.hub_repo": "Hub repo id",
    "common.repo_placeholder": "your-name/cat-or-dog",
    "classify.hub_load": "Load from the Hub",
    "classify.top5": "Top 5 (ImageNet)",
    "classify.gradcam": "Grad-CAM",
    "classify.examples": "Example photos",
    # Train
    "train.tab": "Train",
    "train.intro": (
        f"Teach the network a new task: {fewshot.MIN_CLASSES}–{fewshot.MAX_CLASSES} classes, a few images "
        f"each (at most {fewshot.MAX_IMAGES_PER_CLASS} per class, {fewshot.MAX_IMAGES_TOTAL} in all). Only a "
        "small head is trained on the frozen backbone's features; features and heads are cached."
    ),
    **{f"train.class_{i}_name": f"Class {i} name" for i in range(1, MAX_ROWS + 1)},
    **{f"train.class_{i}_images": f"Class {i} images" for i in range(1, MAX_ROWS + 1)},
    "train.add": "Add class",
    "train.remove": "Remove last class",
    "train.example": "Try the example: animal vs object",
    "train.augment": "Augmentation",
    "train.augment_fast": "fast: feature-map crops (no extra cost)",
    "train.augment_full": "full: + flips, random crops, colour jitter (4× the forward passes, cached)",
    "train.augment_none": "none",
    "train.model_name": "Model name (empty: the class names)",
    "train.run": "Train",
    "train.per_class": "Per-class validation accuracy",
    "train.confusion": "Confusion matrix",
    "train.curves": "Loss and accuracy",
    "train.mistakes": "Misclassified validation images (what they were taken for)",
    "train.export": "Export (.keras: backbone + head, raw RGB in)",
    "train.download": "Download",
    "train.push_accordion": "Push to the Hugging Face Hub",
    "train.push_intro": "Your model, with a model card, in your own Hub repo. Needs a token with write access.",
    "train.push_intro_spaces": (
        "Your model, with a model card, in your own Hub repo. Needs a token with write access or signing in."
    ),
    "train.push_repo": "Your Hub repo id",
    "train.push_token": "Hugging Face token (write)",
    "train.push": "Push to the Hub",
    # Ideal & adversarial
    "ideal_adv.tab": "Ideal & adversarial",
    "ideal_adv.intro": (
        "**Ideal image**: start from noise and change the image until the network is sure of a class. "
        "**Adversarial image**: change a photo by at most ε per pixel until the network calls it something else."
    ),
    "ideal.tab": "Ideal image",
    "ideal.class": "Class (type to search)",
    "ideal.steps": "Steps",
    "ideal.tv_weight": "Smoothness (total-variation weight)",
    "ideal.seed": "Seed (same seed, same image)",
    "ideal.render": "Render",
    "ideal.stop": "Stop",
    "ideal.image": "Ideal image",
    "adv.tab": "Adversarial image",
    "adv.photo": "Photo",
    "adv.target": "Target class (type to search)",
    "adv.untargeted": "(untargeted: any other class)",
    "adv.method": "Method (FGSM: one step; PGD: iterative)",
    "adv.epsilon": "ε: largest change per pixel, in 1/255",
    "adv.steps": "Step cap (PGD)",
    "adv.transfer": "Transfer check: does the image fool another backbone too?",
    "adv.transfer_available": "every other backbone usable without a download",
    "adv.fool": "Fool it",
    "adv.image": "Adversarial image (PNG: download it, it stays adversarial)",
    "adv.perturbation": "Perturbation, amplified (grey = unchanged, full contrast = ±ε)",
    "adv.before": "Top 5 before",
    "adv.after": "Top 5 after",
    "adv.example": "Example photo",
}

DE: dict[str, str] = {
    "app.intro": (
        "# Transfer-learning studio\n"
        "Klassifiziere ein Foto mit einem auf ImageNet vortrainierten Netz und sieh, wohin es geschaut hat "
        "(Grad-CAM); bring ihm mit wenigen Beispielen eine neue Aufgabe bei; lass es sein ideales Bild "
        "erträumen oder führe es hinters Licht."
    ),
    "classify.tab": "Klassifizieren",
    "classify.photo": "Foto",
    "common.backbone": "Backbone",
    "backbone.loaded": "geladen",
    "backbone.offline": "offline verfügbar",
    "backbone.needs_internet": "braucht beim ersten Mal Internet (lädt die Gewichte)",
    "classify.explain_class": "Erklärte Klasse (leer: die wahrscheinlichste)",
    "classify.run": "Klassifizieren",
    "classify.hub_accordion": "Ein Modell vom Hugging Face Hub laden",
    "classify.hub_repo": "Hub-Repo-ID",
    "common.repo_placeholder": "dein-name/katze-oder-hund",
    "classify.hub_load": "Vom Hub laden",
    "classify.top5": "Top 5 (ImageNet)",
    "classify.gradcam": "Grad-CAM",
    "classify.examples": "Beispielfotos",
    "train.tab": "Trainieren",
    "train.intro": (
        f"Bring dem Netz eine neue Aufgabe bei: {fewshot.MIN_CLASSES}–{fewshot.MAX_CLASSES} Klassen mit je "
        f"einigen Bildern (höchstens {fewshot.MAX_IMAGES_PER_CLASS} pro Klasse, {fewshot.MAX_IMAGES_TOTAL} "
        "insgesamt). Trainiert wird nur ein kleiner Kopf auf den Merkmalen des eingefrorenen Backbones; "
        "Merkmale und Köpfe werden zwischengespeichert."
    ),
    **{f"train.class_{i}_name": f"Name der Klasse {i}" for i in range(1, MAX_ROWS + 1)},
    **{f"train.class_{i}_images": f"Bilder der Klasse {i}" for i in range(1, MAX_ROWS + 1)},
    "train.add": "Klasse hinzufügen",
    "train.remove": "Letzte Klasse entfernen",
    "train.example": "Beispiel ausprobieren: Tier oder Gegenstand",
    "train.augment": "Augmentierung",
    "train.augment_fast": "schnell: Ausschnitte der Merkmalskarten (ohne Mehraufwand)",
    "train.augment_full": "voll: + Spiegeln, zufällige Ausschnitte, Farbvariation (4× so viele Durchläufe, zwischengespeichert)",
    "train.augment_none": "keine",
    "train.model_name": "Modellname (leer: die Klassennamen)",
    "train.run": "Trainieren",
    "train.per_class": "Validierungsgenauigkeit je Klasse",
    "train.confusion": "Konfusionsmatrix",
    "train.curves": "Verlust und Genauigkeit",
    "train.mistakes": "Falsch klassifizierte Validierungsbilder (wofür sie gehalten wurden)",
    "train.export": "Exportieren (.keras: Backbone + Kopf, rohes RGB als Eingabe)",
    "train.download": "Herunterladen",
    "train.push_accordion": "Auf den Hugging Face Hub hochladen",
    "train.push_intro": "Dein Modell mit Modellkarte in deinem eigenen Hub-Repo. Braucht ein Token mit Schreibrecht.",
    "train.push_intro_spaces": (
        "Dein Modell mit Modellkarte in deinem eigenen Hub-Repo. Braucht ein Token mit Schreibrecht oder eine Anmeldung."
    ),
    "train.push_repo": "Deine Hub-Repo-ID",
    "train.push_token": "Hugging-Face-Token (Schreibrecht)",
    "train.push": "Auf den Hub hochladen",
    "ideal_adv.tab": "Ideal & adversarial",
    "ideal_adv.intro": (
        "**Ideales Bild**: Beginne mit Rauschen und verändere das Bild, bis das Netz sich einer Klasse sicher ist. "
        "**Adversariales Bild**: Verändere ein Foto um höchstens ε pro Pixel, bis das Netz es für etwas anderes hält."
    ),
    "ideal.tab": "Ideales Bild",
    "ideal.class": "Klasse (tippen zum Suchen)",
    "ideal.steps": "Schritte",
    "ideal.tv_weight": "Glätte (Gewicht der totalen Variation)",
    "ideal.seed": "Seed (gleicher Seed, gleiches Bild)",
    "ideal.render": "Erzeugen",
    "ideal.stop": "Stopp",
    "ideal.image": "Ideales Bild",
    "adv.tab": "Adversariales Bild",
    "adv.photo": "Foto",
    "adv.target": "Zielklasse (tippen zum Suchen)",
    "adv.untargeted": "(ungezielt: irgendeine andere Klasse)",
    "adv.method": "Methode (FGSM: ein Schritt; PGD: iterativ)",
    "adv.epsilon": "ε: größte Änderung pro Pixel, in 1/255",
    "adv.steps": "Höchstzahl der Schritte (PGD)",
    "adv.transfer": "Übertragbarkeit: Täuscht das Bild auch ein anderes Backbone?",
    "adv.transfer_available": "jedes andere Backbone, das ohne Download nutzbar ist",
    "adv.fool": "Täuschen",
    "adv.image": "Adversariales Bild (PNG: herunterladen, es bleibt adversarial)",
    "adv.perturbation": "Störung, verstärkt (grau = unverändert, voller Kontrast = ±ε)",
    "adv.before": "Top 5 vorher",
    "adv.after": "Top 5 nachher",
    "adv.example": "Beispielfoto",
}

I18N = gr.I18n(en=EN, de=DE)
"""Pass to `demo.launch(i18n=I18N)`; `t(key)` marks a static text for the browser to translate."""


def t(key: str) -> gr.i18n.I18nData:
    """A static text by key, translated in the browser (English when the browser speaks neither language)."""
    if key not in EN:
        raise KeyError(f"No UI text with key {key!r}")
    return I18N(key)


_STATUS_KEYS = {EN[k]: k for k in ("backbone.loaded", "backbone.offline", "backbone.needs_internet")}


def backbone_status(status: str) -> str:
    """`tl.backbones.status(...)` as text for a dropdown entry's name (its key embedded: the browser translates it)."""
    key = _STATUS_KEYS.get(status)
    return str(t(key)) if key else status


# --- the visitor's language: from the request --------------------------------------------------------

LANGUAGES = ("en", "de")


def language(request: gr.Request | None) -> str:
    """The first of our languages in the request's Accept-Language header (by q-value); English otherwise."""
    header = ""
    if request is not None and getattr(request, "headers", None) is not None:
        header = request.headers.get("accept-language", "") or ""
    ranked = []
    for n, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        ranked.append((-q, n, tag.strip().lower().split("-")[0]))
    for _, _, lang in sorted(ranked):
        if lang in LANGUAGES:
            return lang
    return "en"


# --- result texts: formatted on the server in the visitor's language ----------------------------------

_LANGUAGE: contextvars.ContextVar[str] = contextvars.ContextVar("ui_language", default="en")


@contextlib.contextmanager
def speaking(lang: str) -> Iterator[None]:
    """Inside: `say` (and `phrase`) speak `lang`. app.py's wrappers set it around every call of a callback."""
    if lang not in LANGUAGES:
        raise ValueError(f"Expected a language among {LANGUAGES}. Received: {lang!r}")
    token = _LANGUAGE.set(lang)
    try:
        yield
    finally:
        _LANGUAGE.reset(token)


def current_language() -> str:
    """The language of the callback being served; English outside one (e.g. when `tl` is used directly)."""
    return _LANGUAGE.get()


# key -> English template, key -> German template; both take the same fields (tests/test_ui_text.py checks).
SAY_EN: dict[str, str] = {
    "progress.first_use": "Loading {title}: first use only",
    "progress.step": "step {step}/{steps}",
    # Classify
    "classify.explains": "Grad-CAM explains **{cls}**.",
    "classify.hub_no_gradcam": "Grad-CAM is not available for models loaded from the Hub.",
    # Train
    "train.accuracy": "{accuracy:.0%}",
    "train.not_measured": "not measured",
    "train.from_cache": "from cache",
    "train.trained_in": "trained in {seconds:.1f} s",
    "train.summary": "{name}: validation accuracy {accuracy} ({validation}); {source}.",
    "train.selectable": "**{summary}** Now selectable in the Classify tab as *{choice}*.",
    "train.mistake": "{true} taken for {predicted} ({confidence:.0%})",
    "train.pushed": "Pushed: [{url}]({url}) (with a model card). Load it in the Classify tab by its repo id.",
    # Ideal image
    "ideal.step_image": "Step {step}/{steps}: p({cls}) of this image = **{p:.3f}**",
    "ideal.step_view": "Step {step}/{steps}: p({cls}) of this step's random view = **{p:.3f}**",
    "ideal.robustness": "Robustness (mean p over 32 random shifts, zooms and rotations): **{robustness:.3f}**",
    # Adversarial image
    "adv.goal_untargeted": "change its top class",
    "adv.goal_target": "make it say **{target}**",
    "adv.fooled": "**fooled**",
    "adv.not_fooled": "**not fooled** within the step cap (try a larger ε or more steps)",
    "adv.verdict": "**{method}**, ε = {epsilon:g}/255: {verdict} ({goal}), {steps} step(s).",
    "adv.norms": (
        "Perturbation: L∞ = {linf:g}, L2 = {l2:.1f} (pixel units, 0–255); "
        "the PNG shown is exactly the image that was verified."
    ),
    "adv.transfers": "Transfer to {title}: {before} → **{after}** ({p:.2f}): transfers.",
    "adv.does_not_transfer": "Transfer to {title}: {before} → **{after}** ({p:.2f}): does not transfer.",
}

SAY_DE: dict[str, str] = {
    "progress.first_use": "{title} wird geladen: nur beim ersten Mal",
    "progress.step": "Schritt {step}/{steps}",
    "classify.explains": "Grad-CAM erklärt **{cls}**.",
    "classify.hub_no_gradcam": "Grad-CAM ist für Modelle vom Hub nicht verfügbar.",
    "train.accuracy": "{accuracy:.0%}",
    "train.not_measured": "nicht gemessen",
    "train.from_cache": "aus dem Zwischenspeicher",
    "train.trained_in": "trainiert in {seconds:.1f} s",
    "train.summary": "{name}: Validierungsgenauigkeit {accuracy} ({validation}); {source}.",
    "train.selectable": "**{summary}** Jetzt im Tab Klassifizieren wählbar als *{choice}*.",
    "train.mistake": "{true} für {predicted} gehalten ({confidence:.0%})",
    "train.pushed": (
        "Hochgeladen: [{url}]({url}) (mit Modellkarte). Lade es im Tab Klassifizieren über seine Repo-ID."
    ),
    "ideal.step_image": "Schritt {step}/{steps}: p({cls}) dieses Bildes = **{p:.3f}**",
    "ideal.step_view": "Schritt {step}/{steps}: p({cls}) der zufälligen Ansicht dieses Schritts = **{p:.3f}**",
    "ideal.robustness": (
        "Robustheit (mittleres p über 32 zufällige Verschiebungen, Zooms und Drehungen): **{robustness:.3f}**"
    ),
    "adv.goal_untargeted": "Ziel: eine andere wahrscheinlichste Klasse",
    "adv.goal_target": "Ziel: **{target}**",
    "adv.fooled": "**getäuscht**",
    "adv.not_fooled": (
        "**nicht getäuscht** innerhalb der Höchstzahl der Schritte (versuche ein größeres ε oder mehr Schritte)"
    ),
    "adv.verdict": "**{method}**, ε = {epsilon:g}/255: {verdict} ({goal}), {steps} Schritt(e).",
    "adv.norms": (
        "Störung: L∞ = {linf:g}, L2 = {l2:.1f} (in Pixelwerten, 0–255); "
        "das gezeigte PNG ist genau das Bild, das geprüft wurde."
    ),
    "adv.transfers": "Übertragung auf {title}: {before} → **{after}** ({p:.2f}): überträgt sich.",
    "adv.does_not_transfer": "Übertragung auf {title}: {before} → **{after}** ({p:.2f}): überträgt sich nicht.",
}
_SAY = {"en": SAY_EN, "de": SAY_DE}


def fields(template: str) -> set[str]:
    """The names of the fields a template takes."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def say(key: str, **values: Any) -> str:
    """The result text `key`, formatted with `values`, in the current language (see `speaking`).

    Raises:
        KeyError: no result text has this key, or a field is missing.
    """
    if key not in SAY_EN:
        raise KeyError(f"No result text with key {key!r}")
    return _SAY[current_language()][key].format(**values)


def phrase(text: str) -> str:
    """One of `tl`'s English phrases inside a result (how accuracy was validated, a transfer-check note), in
    the current language; unchanged if `PHRASES_DE` does not have it."""
    return translate(text, current_language())


# --- error messages and tl's phrases: translated on the server -----------------------------------------

N = r"[\d.,]+"
# (English message as a regex, German template): named groups carry the dynamic parts into the template;
# a group named `detail` is itself translated. Messages not matched here stay English.
ERRORS_DE: list[tuple[str, str]] = [
    # images
    (r"This file is not an image we can read\. Use JPEG, PNG, WebP, GIF, BMP or TIFF\.",
     "Diese Datei ist kein Bild, das wir lesen können. Verwende JPEG, PNG, WebP, GIF, BMP oder TIFF."),
    (r"The image file is damaged or truncated and cannot be decoded \((?P<why>.*)\)\.",
     "Die Bilddatei ist beschädigt oder unvollständig und kann nicht dekodiert werden ({why})."),
    (r"The image is too large to decode safely \((?P<why>.*)\)\.",
     "Das Bild ist zu groß, um es sicher zu dekodieren ({why})."),
    (rf"The image is too large: (?P<wh>\S+) = (?P<mp>{N}) megapixels; the limit is (?P<limit>{N}) megapixels\. "
     r"Received: (?P<received>.*)",
     "Das Bild ist zu groß: {wh} = {mp} Megapixel; die Grenze liegt bei {limit} Megapixeln. Erhalten: {received}"),
    (r"The image is too small to classify: each side must be at least (?P<min>\d+) pixels\. Received: (?P<received>.*)",
     "Das Bild ist zu klein zum Klassifizieren: Jede Seite muss mindestens {min} Pixel lang sein. "
     "Erhalten: {received}"),
    (r"No such image file\. Received: (?P<received>.*)", "Keine solche Bilddatei. Erhalten: {received}"),
    # classes and models
    (r"Unknown ImageNet class\. Expected a name such as 'tabby' or 'Egyptian_cat'\. Received: (?P<received>.*)",
     "Unbekannte ImageNet-Klasse. Erwartet wird ein Name wie 'tabby' oder 'Egyptian_cat'. Erhalten: {received}"),
    (r"Unknown class for this model\. Expected one of (?P<names>.*)\. Received: (?P<received>.*)",
     "Unbekannte Klasse für dieses Modell. Erwartet wird eine von {names}. Erhalten: {received}"),
    (r"Unknown backbone\. Expected one of (?P<names>.*)\. Received: (?P<received>.*)",
     "Unbekanntes Backbone. Erwartet wird eines von {names}. Erhalten: {received}"),
    (r"This trained model is no longer available; please train it again\. Received: key (?P<key>.*)",
     "Dieses trainierte Modell ist nicht mehr verfügbar; bitte trainiere es erneut. Erhalten: Schlüssel {key}"),
    (r"(?P<file>\S+) is not in the Keras cache \((?P<dir>.*)\) and cannot be downloaded now: "
     r"this backbone needs internet the first time it is used\.",
     "{file} ist nicht im Keras-Cache ({dir}) und kann jetzt nicht heruntergeladen werden: "
     "Dieses Backbone braucht beim ersten Einsatz Internet."),
    # training input (tl/fewshot.py)
    (r"Expected between (?P<lo>\d+) and (?P<hi>\d+) classes, each with a name and images\. "
     r"Received: (?P<n>\d+) class(es)?",
     "Erwartet werden {lo} bis {hi} Klassen, jede mit Namen und Bildern. Erhalten: {n} Klasse(n)"),
    (r"Every class needs a name\. Received: class (?P<i>\d+) has an empty name",
     "Jede Klasse braucht einen Namen. Erhalten: Klasse {i} hat keinen Namen"),
    (r"Class names must be different\. Received: (?P<a>.*) and (?P<b>.*)",
     "Die Klassennamen müssen verschieden sein. Erhalten: {a} und {b}"),
    (r"Every class needs at least one image\. Received: class (?P<name>.*) has none",
     "Jede Klasse braucht mindestens ein Bild. Erhalten: Klasse {name} hat keines"),
    (r"At most (?P<max>\d+) images per class\. Received: (?P<n>\d+) images in (?P<name>.*)",
     "Höchstens {max} Bilder pro Klasse. Erhalten: {n} Bilder in {name}"),
    (r"At most (?P<max>\d+) images in all\. Received: (?P<n>\d+)",
     "Höchstens {max} Bilder insgesamt. Erhalten: {n}"),
    (r"Each image must belong to one class\. Received: (?P<file>.*) in both (?P<a>.*) and (?P<b>.*)",
     "Jedes Bild darf nur zu einer Klasse gehören. Erhalten: {file} sowohl in {a} als auch in {b}"),
    (r"Class (?P<name>'.*'|\".*\"), file (?P<file>'.*'|\".*\"): (?P<detail>.*)",
     "Klasse {name}, Datei {file}: {detail}"),
    (r"A task needs at least (?P<n>\d+) classes\.", "Eine Aufgabe braucht mindestens {n} Klassen."),
    (r"Expected one label per photo\. Received: (?P<p>\d+) photos and (?P<l>\d+) labels",
     "Erwartet: ein Label pro Foto. Erhalten: {p} Fotos und {l} Labels"),
    # attacks and ideal images: the caps of the sliders
    (r"Expected (?P<name>\w+) between (?P<lo>\S+) and (?P<hi>\S+)\. Received: (?P<received>.*)",
     "Erwartet wird {name} zwischen {lo} und {hi}. Erhalten: {received}"),
    (r"Expected a method among (?P<names>.*)\. Received: (?P<received>.*)",
     "Erwartet wird eine Methode aus {names}. Erhalten: {received}"),
    # the Hub
    (r"Expected a Hub repo id such as 'your-name/cat-or-dog'\. Received: (?P<received>.*)",
     "Erwartet wird eine Hub-Repo-ID wie 'dein-name/katze-oder-hund'. Erhalten: {received}"),
    (r"To push to the Hub, sign in or paste a Hugging Face token with write access\.",
     "Um auf den Hub hochzuladen, melde dich an oder füge ein Hugging-Face-Token mit Schreibrecht ein."),
    (r"The Hub cannot be reached: this app runs offline \(HF_HUB_OFFLINE or TL_OFFLINE is set\)\.",
     "Der Hub ist nicht erreichbar: Diese App läuft offline (HF_HUB_OFFLINE oder TL_OFFLINE ist gesetzt)."),
    (r"The Hub did not accept the upload \((?P<why>.*)\)\.", "Der Hub hat den Upload nicht angenommen ({why})."),
    (r"(?P<repo>\S+) has no \.keras model with a \.labels\.json beside it\.",
     "{repo} enthält kein .keras-Modell mit einer .labels.json daneben."),
    (r"(?P<repo>\S+) does not hold a model this app can load safely \((?P<why>.*)\)\.",
     "{repo} enthält kein Modell, das diese App sicher laden kann ({why})."),
    (r"(?P<repo>\S+): the model has (?P<n>\d+) outputs but (?P<m>\d+) labels\.",
     "{repo}: Das Modell hat {n} Ausgaben, aber {m} Labels."),
    (r"No model repo (?P<repo>\S+) on the Hub \(or it is private\)\.",
     "Kein Modell-Repo {repo} auf dem Hub (oder es ist privat)."),
    (r"(?P<repo>\S+) is not in the local Hub cache, and the Hub cannot be reached now\.",
     "{repo} ist nicht im lokalen Hub-Cache, und der Hub ist gerade nicht erreichbar."),
    (r"Could not get (?P<repo>\S+) from the Hub \((?P<why>.*)\)\.",
     "{repo} konnte nicht vom Hub geholt werden ({why})."),
    # the app's own messages
    (r"Upload, paste or take a photo first\.", "Lade zuerst ein Foto hoch, füge eines ein oder nimm eines auf."),
    (r"Train a model first\.", "Trainiere zuerst ein Modell."),
    (r"Choose a class first\.", "Wähle zuerst eine Klasse."),
    (r"Something went wrong on our side \((?P<kind>\w+)\)\. Please try again\.",
     "Bei uns ist etwas schiefgegangen ({kind}). Bitte versuche es noch einmal."),
]
# Phrases `tl` puts into results (tl/fewshot.py `folds`, tl/attacks.py `transfer`), in the same form.
PHRASES_DE: list[tuple[str, str]] = [
    (r"stratified hold-out of (?P<n>\d+) images, (?P<pct>\d+)% per class",
     "stratifizierte Hold-out-Menge von {n} Bildern, {pct}% pro Klasse"),
    (r"(?P<k>\d+)-fold cross-validation \(a class has only (?P<n>\d+) images\)",
     "{k}-fache Kreuzvalidierung (eine Klasse hat nur {n} Bilder)"),
    (r"not measured: a class has a single image", "nicht gemessen: Eine Klasse hat nur ein Bild"),
    (r"No other model was chosen for the transfer check\.",
     "Für die Übertragbarkeitsprüfung wurde kein anderes Modell gewählt."),
    (r"No second backbone is available offline to check transfer \((?P<names>.*) need their weights "
     r"downloaded first\)\.",
     "Kein zweites Backbone ist offline verfügbar, um die Übertragbarkeit zu prüfen ({names} müssen erst ihre "
     "Gewichte herunterladen)."),
    (r"Not checked \(weights not available now\): (?P<names>.*)\.",
     "Nicht geprüft (Gewichte gerade nicht verfügbar): {names}."),
]
_ERRORS_DE = [(re.compile(pattern, re.DOTALL), template) for pattern, template in ERRORS_DE + PHRASES_DE]


def translate(message: str, lang: str) -> str:
    """`message` (one of tl's or the app's English error messages or result phrases) in `lang`; unchanged if
    not in the tables."""
    if lang != "de":
        return message
    for pattern, template in _ERRORS_DE:
        m = pattern.fullmatch(message)
        if m:
            parts: dict[str, Any] = {k: v or "" for k, v in m.groupdict().items()}
            if "detail" in parts:
                parts["detail"] = translate(parts["detail"], lang)
            return template.format(**parts)
    return message
