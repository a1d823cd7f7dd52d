"""Transfer-learning studio: the Gradio layout and wiring. All the work happens in `tl`."""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import inspect
import logging
import os
import re
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import gradio as gr
import numpy as np
from PIL import Image

import ui_text
from ui_text import say, t
from tl import attacks, backbones, cache, classify, fewshot, heads, hub, images, plots, weights
from tl.optvis import render

log = logging.getLogger("app")
ASSETS = Path(__file__).parent / "assets"
CONCURRENCY = int(os.environ.get("TL_CONCURRENCY", 2))  # heavy events (training, optimisation) at once
CLASSIFY_CONCURRENCY = int(os.environ.get("TL_CLASSIFY_CONCURRENCY", 16))
QUEUE_SIZE = int(os.environ.get("TL_QUEUE_SIZE", 64))
# The MCP server (tools for LLM agents at /gradio_api/mcp/sse) is on wherever gradio[mcp] is installed.
MCP_SERVER = os.environ.get("GRADIO_MCP_SERVER", str(importlib.util.find_spec("mcp") is not None)).lower() == "true"  # beyond this, visitors are told the app is busy

# Errors whose message is written for a person: shown as they are.
USER_ERRORS = (images.ImageError, weights.WeightsUnavailable, hub.HubError, ValueError)


@contextlib.contextmanager
def _as_user_error(where: str, lang: str) -> Iterator[None]:
    """Inside: `tl`'s validation errors become `gr.Error` in the visitor's language; anything else becomes a
    short apology, never a trace."""
    try:
        yield
    except gr.Error as e:
        e.message = ui_text.translate(e.message, lang)
        raise
    except USER_ERRORS as e:
        raise gr.Error(ui_text.translate(str(e), lang), print_exception=False) from None
    except Exception as e:  # noqa: BLE001 - the user gets a message, the log gets the trace
        log.exception("unexpected error in %s", where)
        apology = f"Something went wrong on our side ({type(e).__name__}). Please try again."
        raise gr.Error(ui_text.translate(apology, lang)) from None


def _with_request(fn: Callable, wrapper: Callable) -> tuple[Callable, int]:
    """Give `wrapper` the signature of `fn` plus a `request: gr.Request` parameter, so gradio injects the request
    (it injects only into positional parameters: the new one goes after them, or before `*args`).

    Returns the wrapper and the position of the request among its positional arguments.
    """
    sig = inspect.signature(fn)
    params = list(sig.parameters.values())
    at = next((i for i, p in enumerate(params) if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)),
              len(params))
    request = inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None,
                                annotation=Optional[gr.Request])
    wrapper.__signature__ = sig.replace(parameters=[*params[:at], request, *params[at:]])
    wrapper.__annotations__ = {**fn.__annotations__, "request": Optional[gr.Request]}
    return wrapper, at


def _split_request(args: tuple, kwargs: dict, at: int) -> tuple[tuple, str]:
    """Take the injected request out of a call's arguments; return the rest and the visitor's language.

    Gradio puts it (a `gr.Request`, or None without one) at position `at`; a direct call may leave it out.
    """
    request = kwargs.pop("request", None)
    if len(args) > at and (args[at] is None or isinstance(args[at], gr.Request)):
        request, args = args[at], args[:at] + args[at + 1 :]
    return args, ui_text.language(request)


def user_errors(fn: Callable) -> Callable:
    """Speak the visitor's language (from the request gradio injects) during `fn`: its result texts (`say`), and
    `tl`'s validation errors turned into `gr.Error`."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        args, lang = _split_request(args, kwargs, at)
        with ui_text.speaking(lang), _as_user_error(fn.__name__, lang):
            return fn(*args, **kwargs)

    wrapper, at = _with_request(fn, wrapper)
    return wrapper


class ImageInput(gr.Image):
    """`gr.Image` whose decoding errors (a non-image, a damaged file) reach the user as a clear message.

    Gradio decodes the upload before the callback runs, where no error can be translated; a file it cannot
    decode goes to the callback as it is, and `tl.images` says what is wrong with it (in the visitor's language,
    through `user_errors`).
    """

    def get_block_name(self) -> str:
        return "image"  # render with gr.Image's own front end

    def preprocess(self, payload):  # noqa: ANN001, ANN201 - gradio's own signature
        try:
            return super().preprocess(payload)
        except Exception:  # noqa: BLE001
            path = getattr(payload, "path", None)
            if self.type != "filepath" or not path:
                raise gr.Error(
                    "This file is not an image we can read. Use JPEG, PNG, WebP, GIF, BMP or TIFF.",
                    print_exception=False,
                ) from None
            return path


def image_input(label: Any) -> gr.Image:
    """The image input used on every tab: upload, paste or webcam; handed to `tl` as a file path."""
    return ImageInput(label=label, type="filepath", sources=["upload", "clipboard", "webcam"], height=320)


OUTPUT_DIR = Path(tempfile.gettempdir()) / "tl-studio-outputs"
OUTPUT_MAX_AGE_S = 3600


def image_file(rgb: np.ndarray, suffix: str = ".jpg") -> str:
    """Write an output image to a file of its own and return its path.

    Gradio writes returned arrays into its cache non-atomically, under a name derived from the content:
    two visitors getting the same image at once could read a half-written file. Its copy of a returned
    *file* is atomic, so outputs go through here. Files older than an hour are pruned as we go.
    """
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    fd, path = tempfile.mkstemp(suffix=suffix, dir=OUTPUT_DIR)
    with os.fdopen(fd, "wb") as f:
        Image.fromarray(rgb).save(f, format=Image.registered_extensions()[suffix], quality=90)
    cutoff = time.time() - OUTPUT_MAX_AGE_S
    for old in OUTPUT_DIR.iterdir():
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            pass  # another request pruned it first
    return path


def backbone_choices() -> list[tuple[str, str]]:
    """Dropdown entries: every registry row, saying whether it works offline."""
    return [(f"{s.title} ({ui_text.backbone_status(backbones.status(s.name))})", s.name) for s in backbones.SPECS]


def example_photos() -> list[str]:
    """The example photos shipped in assets/ (their sources and licenses are in assets/SOURCES.md)."""
    return sorted(str(p) for p in ASSETS.glob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp"))


# --- callbacks: convert Gradio values, call one tl function, format the result ---------------------


def first_use(backbone: str, progress: gr.Progress) -> None:
    """Say so while a backbone loads for the first time in this process (a few seconds, or a download)."""
    if backbone in backbones.REGISTRY and not backbones.is_built(backbone):
        progress(0, desc=say("progress.first_use", title=backbones.spec(backbone).title))


@user_errors
def classify_image(
    image: str | None, backbone: str, cam_class: str | None, progress: gr.Progress = gr.Progress()
) -> tuple[dict[str, float], Any, str]:
    """Classify a photo with a pretrained ImageNet network (or your trained model) and show where it looked.

    Args:
        image: the photo (JPEG, PNG, WebP, GIF, BMP or TIFF).
        backbone: "mobilenet" (works offline), "mobilenetv2", "vgg16", "resnet50", "efficientnetb0", or a
            trained model ("head:<key>") or Hub model ("hub:<repo id>") of this session.
        cam_class: the class Grad-CAM explains, e.g. "tabby"; empty for the top class.

    Returns:
        The top 5 classes with probabilities, the Grad-CAM heatmap image, and which class it explains.
    """
    if not image:
        raise gr.Error("Upload, paste or take a photo first.", print_exception=False)
    first_use(backbone, progress)
    if backbone.startswith(HUB_PREFIX):
        labels = hub.classify(image, backbone[len(HUB_PREFIX) :], top_k=5)
        return labels, None, say("classify.hub_no_gradcam")
    result = classify.classify(image, backbone=backbone, top_k=5, cam_class=cam_class or None)
    return result.labels, image_file(result.heatmap), say("classify.explains", cls=result.cam_class)


@user_errors
def class_names() -> gr.Dropdown:
    return gr.Dropdown(choices=list(classify.imagenet_classes()))


@user_errors
def explain_choices(model: str) -> gr.Dropdown:
    """The classes Grad-CAM can explain for the chosen model: ImageNet's, or a trained head's labels."""
    if model.startswith(HUB_PREFIX):
        return gr.Dropdown(choices=[], value=None)
    key = cache.parse_choice(model)
    head = cache.head_meta(key) if key else None
    names = list(head.labels) if head else list(classify.imagenet_classes())
    return gr.Dropdown(choices=names, value=None)


HUB_PREFIX = "hub:"  # a model dropdown value naming a model loaded from the Hugging Face Hub


@user_errors
def load_hub_model(repo_id: str, session_models: list | None) -> tuple[list, gr.Dropdown]:
    """Load a model pushed from this app by its Hub repo id and make it this session's chosen model."""
    model = hub.load(repo_id)
    choice = [f"Hub: {model.repo_id}", HUB_PREFIX + model.repo_id]
    session = [m for m in (session_models or []) if m[1] != choice[1]] + [choice]
    return session, gr.Dropdown(choices=backbone_choices() + [tuple(m) for m in session], value=choice[1])


@user_errors
def push_to_hub(last: list | None, repo_id: str, token: str, oauth_token: gr.OAuthToken | None = None) -> str:
    if not last:
        raise gr.Error("Train a model first.", print_exception=False)
    url = hub.push(last[0], repo_id, token=(token or "").strip() or (oauth_token.token if oauth_token else None))
    return say("train.pushed", url=url)


UNTARGETED = "(untargeted: any other class)"  # dropdown values; their names are ui_text's "adv.untargeted" and
TRANSFER_AVAILABLE = "every other backbone usable without a download"  # "adv.transfer_available"


def user_errors_stream(fn: Callable) -> Callable:
    """`user_errors` for generator callbacks: the language is set around each step of the generator (gradio may
    run each in another thread), and errors raised while streaming become `gr.Error` too."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        args, lang = _split_request(args, kwargs, at)
        done = object()
        with ui_text.speaking(lang), _as_user_error(fn.__name__, lang):
            frames = fn(*args, **kwargs)
        while True:
            with ui_text.speaking(lang), _as_user_error(fn.__name__, lang):
                item = next(frames, done)
            if item is done:
                return
            yield item

    wrapper, at = _with_request(fn, wrapper)
    return wrapper


@user_errors_stream
def ideal_image(class_name: str | None, backbone: str, steps: float, tv_weight: float, seed: float,
                progress: gr.Progress = gr.Progress()) -> Any:
    """Dream up the image a network is sure shows a class, starting from noise (streams frames).

    Args:
        class_name: an ImageNet class such as "tabby", "goldfish" or "jeep".
        backbone: the network, e.g. "mobilenet".
        steps: optimisation steps (8 to 320).
        tv_weight: smoothness: 0 none, 1 mild, 4 smooth, 20 very smooth.
        seed: the same seed gives the same image.

    Returns:
        The image and a report with the class probability and a robustness score.
    """
    if not class_name:
        raise gr.Error("Choose a class first.", print_exception=False)
    model_classes(backbone)  # a Hub model: a clear message
    first_use(backbone, progress)
    run = render.ideal_image_for(class_name, backbone=backbone, steps=int(steps), tv_weight=tv_weight, seed=int(seed))
    for f in run:
        progress(f.step / f.steps, desc=say("progress.step", step=f.step, steps=f.steps))
        seen = "ideal.step_image" if f.step in (0, f.steps) else "ideal.step_view"  # what p was measured on
        text = say(seen, step=f.step, steps=f.steps, cls=class_name, p=f.probability)
        if f.robustness is not None:
            text += "  \n" + say("ideal.robustness", robustness=f.robustness)
        yield image_file(f.image, ".png"), text


@user_errors
def adversarial_image(photo: str | None, backbone: str, target: str | None, method: str, epsilon: float,
                      steps: float, transfer_to: str | None = None,
                      progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
    """Change a photo by at most epsilon/255 per pixel until the network calls it another class.

    Args:
        photo: the photo to attack.
        backbone: the network to fool, e.g. "mobilenet".
        target: the class it should see, e.g. "tabby", or "(untargeted: any other class)".
        method: "PGD" (iterative) or "FGSM" (one step).
        epsilon: the largest change per pixel, in 1/255 (1 to 16).
        steps: the step cap for PGD (1 to 200).
        transfer_to: another backbone to check whether the attack transfers.

    Returns:
        The adversarial PNG, the amplified perturbation, top 5 before and after, and a report.
    """
    if not photo:
        raise gr.Error("Upload, paste or take a photo first.", print_exception=False)
    model_classes(backbone)  # a Hub model: a clear message
    first_use(backbone, progress)
    r = attacks.attack_photo(
        photo, method=method, backbone=backbone, target=None if target in (None, "", UNTARGETED) else target,
        epsilon=float(epsilon), steps=int(steps),
        progress=lambda i, n: progress(i / n, desc=say("progress.step", step=i, steps=n)),
    )
    others = None if transfer_to in (None, "", TRANSFER_AVAILABLE) else [transfer_to]
    checks, note = attacks.transfer(r, source=backbone, others=others)
    return (image_file(r.adversarial, ".png"), image_file(r.amplified(), ".png"), r.top5_before, r.top5_after,
            attack_summary(r, checks, note))


def attack_summary(r: attacks.AttackResult, checks: list[attacks.Transfer], note: str) -> str:
    """The adversarial result in a few Markdown lines, in the current language."""
    goal = say("adv.goal_untargeted") if r.target is None else say("adv.goal_target", target=r.target_name)
    verdict = say("adv.fooled" if r.success else "adv.not_fooled")
    lines = [
        say("adv.verdict", method=r.method, epsilon=r.epsilon, verdict=verdict, goal=goal, steps=r.steps),
        say("adv.norms", linf=r.linf, l2=r.l2),
    ]
    for c in checks:
        lines.append(say("adv.transfers" if c.fooled else "adv.does_not_transfer",
                         title=c.title, before=c.top1_before, after=c.top1_after, p=c.p_after))
    if note:
        lines.append(ui_text.phrase(note))
    return "  \n".join(lines)


@user_errors
def attack_targets() -> gr.Dropdown:
    return gr.Dropdown(choices=[(t("adv.untargeted"), UNTARGETED), *classify.imagenet_classes()])


def tab_models(session_models: list | None) -> tuple[gr.Dropdown, gr.Dropdown, gr.Dropdown]:
    """The Ideal & adversarial tab's model dropdowns (ideal image, attack, transfer check), offering this
    session's trained heads too (not its Hub models: those have no differentiable logits here)."""
    own = [tuple(m) for m in session_models or [] if cache.parse_choice(m[1])]
    return (gr.Dropdown(choices=backbone_choices() + own), gr.Dropdown(choices=backbone_choices() + own),
            gr.Dropdown(choices=[(TRANSFER_AVAILABLE, TRANSFER_AVAILABLE), *backbone_choices(), *own]))


def model_classes(model: str) -> list[str]:
    """The class names of a model choice: ImageNet's, or a trained head's labels."""
    if model.startswith(HUB_PREFIX):
        raise gr.Error("Models loaded from the Hub can be used in the Classify tab only; choose a backbone "
                       "or one of your trained models here.", print_exception=False)
    key = cache.parse_choice(model)
    if key is None:
        return list(classify.imagenet_classes())
    return list(heads.load(key).info.labels)


@user_errors
def ideal_classes(model: str, current: str | None) -> gr.Dropdown:
    """The ideal image's class choices for the chosen model; keeps the class when the model has it."""
    names = model_classes(model)
    return gr.Dropdown(choices=names, value=current if current in names else _first_class(names))


@user_errors
def target_classes(model: str, current: str | None) -> gr.Dropdown:
    """The attack's target choices for the chosen model; keeps the target when the model has it."""
    names = model_classes(model)
    return gr.Dropdown(choices=[UNTARGETED, *names],
                       value=current if current in (UNTARGETED, *names) else _first_class(names))


def _first_class(names: list[str]) -> str:
    return "tabby" if "tabby" in names else names[0]


# --- layout ---------------------------------------------------------------------------------------


def classify_tab() -> tuple[gr.Dropdown, gr.Dropdown, gr.State]:
    """The Classify tab; returns the class dropdown (filled when the page loads), the model dropdown and
    the session's own models (trained heads and Hub models: [label, value] pairs, never the models)."""
    session_models = gr.State([])
    with gr.Tab(t("classify.tab")):
        with gr.Row():
            with gr.Column():
                photo = image_input(t("classify.photo"))
                backbone = gr.Dropdown(backbone_choices(), value=backbones.DEFAULT, label=t("common.backbone"))
                cam_class = gr.Dropdown(
                    [], value=None, label=t("classify.explain_class"), filterable=True, allow_custom_value=True
                )
                run = gr.Button(t("classify.run"), variant="primary")
                with gr.Accordion(t("classify.hub_accordion"), open=False):
                    hub_repo = gr.Textbox(label=t("classify.hub_repo"), placeholder=t("common.repo_placeholder"))
                    hub_load = gr.Button(t("classify.hub_load"))
            with gr.Column():
                labels = gr.Label(num_top_classes=5, label=t("classify.top5"))
                heatmap = gr.Image(label=t("classify.gradcam"), type="filepath", interactive=False, height=320)
                explained = gr.Markdown()
        gr.Examples(example_photos(), inputs=photo, label=t("classify.examples"))
    inputs, outputs = [photo, backbone, cam_class], [labels, heatmap, explained]
    gr.on(
        [run.click, photo.upload],
        classify_image,
        inputs,
        outputs,
        api_name="classify",
        concurrency_limit=CLASSIFY_CONCURRENCY,  # cheap, and concurrent requests share forward passes
    )
    backbone.change(explain_choices, backbone, cam_class, api_name=False)  # also when training selects a model
    hub_load.click(load_hub_model, [hub_repo, session_models], [session_models, backbone], api_name="load_hub_model")
    return cam_class, backbone, session_models


# --- the Train tab -----------------------------------------------------------------------------------

CLASS_ROWS = fewshot.MAX_CLASSES  # rows exist up front; "Add class" / "Remove class" toggle visibility
EXAMPLE_TASK = ASSETS / "fewshot"  # one folder per class (sources in assets/SOURCES.md)
AUGMENT_CHOICES = [(t("train.augment_fast"), "fast"), (t("train.augment_full"), "full"), (t("train.augment_none"), "none")]


def _paths(files: Any) -> list[str]:
    """Gradio file values (paths, or objects with .name) -> paths."""
    if not files:
        return []
    return [f if isinstance(f, str) else getattr(f, "name", None) or f["path"] for f in files]


def example_task() -> list[tuple[str, list[str]]]:
    """The one-click example: (class name, photo paths) per folder of assets/fewshot."""
    return [(d.name, sorted(str(p) for p in d.iterdir())) for d in sorted(EXAMPLE_TASK.iterdir()) if d.is_dir()]


@user_errors
def train_classes(progress=gr.Progress(), *values: Any) -> tuple:  # noqa: ANN001 - gradio finds Progress by default value
    """values = backbone, model name, augment, session heads, then name_1, files_1, name_2, files_2, ...

    (`progress` comes first because gradio only injects it as a positional parameter, before `*values`.)
    """
    backbone, model_name, augment, session_heads, *rows = values
    classes = [(rows[i], _paths(rows[i + 1])) for i in range(0, len(rows), 2) if (rows[i] or "").strip() or rows[i + 1]]
    return _train(classes, backbone, model_name, augment, session_heads, progress)


@user_errors
def train_labelled(
    backbone: str, model_name: str, augment: str, session_heads: list | None, files: Any, labels: str,
    progress: gr.Progress = gr.Progress(),
) -> tuple:
    """Train a few-shot model from a list of photos and a label for each (the API-friendly form of /train).

    Args:
        backbone: e.g. "mobilenet".
        model_name: what the model is called; empty for "a vs b".
        augment: "fast", "full" or "none".
        files: the photos.
        labels: one class name per photo, in the same order, separated by commas or new lines.
    """
    paths = _paths(files)
    names = [n.strip() for n in re.split(r"[,\n]", labels or "") if n.strip()]
    if len(names) != len(paths):
        raise ValueError(f"Expected one label per photo. Received: {len(paths)} photos and {len(names)} labels")
    by_class: dict[str, list[str]] = {}
    for path, name in zip(paths, names):
        by_class.setdefault(name, []).append(path)
    return _train(list(by_class.items()), backbone, model_name, augment, session_heads, progress)


def _train(classes: list, backbone: str, model_name: str, augment: str, session_heads: list | None,
           progress: gr.Progress) -> tuple:
    """Train (or fetch from the cache), then every output of the Train tab."""
    result = fewshot.train(
        classes, backbone=backbone, hp=fewshot.HParams(augment=augment or "fast"), name=model_name,
        progress=lambda f, m: progress(f, desc=m),
    )
    choice = (f"my model: {result.name}", cache.HEAD_PREFIX + result.key)
    session = [h for h in (session_heads or []) if h[1] != choice[1]] + [list(choice)]
    mistakes = [(m.thumbnail, say("train.mistake", true=m.true, predicted=m.predicted, confidence=m.confidence))
                for m in result.mistakes]
    per_class = {c: a for c, a in result.per_class.items() if a is not None}
    return (
        say("train.selectable", summary=train_summary(result), choice=choice[0]),
        per_class or None,
        plots.confusion_figure(result.confusion, result.labels) if result.accuracy is not None else None,
        plots.curves_figure(result.history),
        mistakes,
        session,
        [result.key, result.name],
        *tab_models(session),
        gr.Dropdown(choices=backbone_choices() + [tuple(h) for h in session], value=choice[1]),
    )


def train_summary(result: fewshot.TrainResult) -> str:
    """`result.summary()` in the current language (the same words in English)."""
    accuracy = say("train.not_measured") if result.accuracy is None else say("train.accuracy", accuracy=result.accuracy)
    source = say("train.from_cache") if result.from_cache else say("train.trained_in", seconds=result.seconds)
    return say("train.summary", name=result.name, accuracy=accuracy, validation=ui_text.phrase(result.validation),
               source=source)


@user_errors
def export_head(last: list | None) -> list[str]:
    if not last:
        raise gr.Error("Train a model first.", print_exception=False)
    key, name = last
    return [str(p) for p in heads.export(key, name=name)]


def show_rows(n: int) -> list:
    n = max(fewshot.MIN_CLASSES, min(CLASS_ROWS, int(n)))
    return [n] + [gr.update(visible=i < n) for i in range(CLASS_ROWS)]


@user_errors
def clear_row(n: int) -> list:
    """Remove the last visible class: hide its row and clear its name and images."""
    n = int(n)
    if n <= fewshot.MIN_CLASSES:
        raise gr.Error(f"A task needs at least {fewshot.MIN_CLASSES} classes.", print_exception=False)
    cleared = [gr.update()] * (2 * CLASS_ROWS)
    cleared[2 * (n - 1)], cleared[2 * (n - 1) + 1] = "", None
    return [*show_rows(n - 1), *cleared]


def fill_example() -> list:
    task = example_task()
    values: list[Any] = []
    for i in range(CLASS_ROWS):
        name, files = task[i] if i < len(task) else ("", None)
        values += [name, files]
    return [*show_rows(len(task)), *values]


def train_tab(classify_model: gr.Dropdown, session_heads: gr.State) -> Callable[[list[gr.Dropdown]], None]:
    """The Train tab: classes (name + images), a backbone, Train; results; export. Trained heads are added
    to this session's `classify_model` choices ("my model: <name>"). Returns `connect(models)`, which wires
    Train once the Ideal & adversarial tab exists: its model dropdowns (see `tab_models`) get the heads too."""
    with gr.Tab(t("train.tab")):
        gr.Markdown(t("train.intro"))
        n_rows = gr.State(2)
        last_key = gr.State(None)  # [key, name] of this session's latest model
        rows, fields = [], []
        for i in range(CLASS_ROWS):
            with gr.Row(visible=i < 2) as row:
                name = gr.Textbox(label=t(f"train.class_{i + 1}_name"), scale=1)
                files = gr.File(label=t(f"train.class_{i + 1}_images"), file_count="multiple", scale=3, height=120)
            rows.append(row)
            fields += [name, files]
        with gr.Row():
            add = gr.Button(t("train.add"))
            remove = gr.Button(t("train.remove"))
            example = gr.Button(t("train.example"))
        with gr.Row():
            backbone = gr.Dropdown(backbone_choices(), value=backbones.DEFAULT, label=t("common.backbone"))
            augment = gr.Dropdown(AUGMENT_CHOICES, value="fast", label=t("train.augment"))
            model_name = gr.Textbox(label=t("train.model_name"))
        run = gr.Button(t("train.run"), variant="primary")
        summary = gr.Markdown()
        with gr.Row():
            per_class = gr.Label(label=t("train.per_class"))
            confusion = gr.Plot(label=t("train.confusion"))
        curves = gr.Plot(label=t("train.curves"))
        mistakes = gr.Gallery(
            label=t("train.mistakes"), columns=6, fit_columns=False, height=240, object_fit="contain"
        )
        with gr.Row():
            export = gr.Button(t("train.export"))
            exported = gr.File(label=t("train.download"), file_count="multiple", height=120)
        with gr.Accordion(t("train.push_accordion"), open=False):
            gr.Markdown(t("train.push_intro_spaces" if os.environ.get("SPACE_ID") else "train.push_intro"))
            if os.environ.get("SPACE_ID"):  # on Hugging Face Spaces: OAuth login
                gr.LoginButton()
            with gr.Row():
                push_repo = gr.Textbox(label=t("train.push_repo"), placeholder=t("common.repo_placeholder"))
                push_token = gr.Textbox(label=t("train.push_token"), type="password")
            push = gr.Button(t("train.push"))
            pushed = gr.Markdown()

    add.click(lambda n: show_rows(n + 1), n_rows, [n_rows, *rows], api_name=False)
    remove.click(clear_row, n_rows, [n_rows, *rows, *fields], api_name=False)
    export.click(export_head, last_key, exported, api_name="export")
    push.click(push_to_hub, [last_key, push_repo, push_token], pushed, api_name="push_to_hub")

    def connect(models: list[gr.Dropdown]) -> None:
        # The dropdowns are outputs of training itself (not a .then): an API client's session sees them too.
        outputs = [summary, per_class, confusion, curves, mistakes, session_heads, last_key, *models, classify_model]
        inputs = [backbone, model_name, augment, session_heads, *fields]
        run.click(train_classes, inputs, outputs, api_name="train")
        # API only (hidden): the same training from a list of photos and one label per photo.
        files_in, labels_in, train_api = gr.File(file_count="multiple", visible=False), gr.Textbox(visible=False), gr.Button(visible=False)
        train_api.click(train_labelled, [backbone, model_name, augment, session_heads, files_in, labels_in], outputs,
                        api_name="train_labelled")
        example.click(fill_example, None, [n_rows, *rows, *fields], api_name=False).then(
            train_classes, inputs, outputs, api_name=False
        )

    return connect


def ideal_adversarial_tab() -> tuple[gr.Dropdown, gr.Dropdown, list[gr.Dropdown]]:
    """The Ideal & adversarial tab; returns the two class dropdowns that are filled when the page loads and
    the three model dropdowns (ideal image, attack, transfer check) that training adds heads to."""
    with gr.Tab(t("ideal_adv.tab")):
        gr.Markdown(t("ideal_adv.intro"))
        with gr.Tab(t("ideal.tab")):
            with gr.Row():
                with gr.Column():
                    ideal_class = gr.Dropdown(["tabby"], value="tabby", label=t("ideal.class"),
                                              filterable=True, allow_custom_value=True)  # tl validates names
                    ideal_backbone = gr.Dropdown(backbone_choices(), value=backbones.DEFAULT, label=t("common.backbone"))
                    steps = gr.Slider(8, 320, value=render.DEFAULT_STEPS, step=8, label=t("ideal.steps"))
                    tv_weight = gr.Slider(0, 20, value=render.DEFAULT_TV_WEIGHT, step=0.5,
                                          label=t("ideal.tv_weight"))
                    seed = gr.Number(0, precision=0, minimum=0, maximum=2**31 - 1, label=t("ideal.seed"))
                    with gr.Row():
                        dream = gr.Button(t("ideal.render"), variant="primary")
                        stop = gr.Button(t("ideal.stop"), variant="stop")
                with gr.Column():
                    ideal = gr.Image(label=t("ideal.image"), type="filepath", interactive=False, height=320)
                    ideal_text = gr.Markdown()
            running = dream.click(ideal_image, [ideal_class, ideal_backbone, steps, tv_weight, seed],
                                  [ideal, ideal_text], api_name="ideal_image")
            stop.click(None, None, None, cancels=[running], api_name=False)
            ideal_backbone.change(ideal_classes, [ideal_backbone, ideal_class], ideal_class, api_name=False)
        with gr.Tab(t("adv.tab")):
            with gr.Row():
                with gr.Column():
                    photo = image_input(t("adv.photo"))
                    adv_backbone = gr.Dropdown(backbone_choices(), value=backbones.DEFAULT, label=t("common.backbone"))
                    target = gr.Dropdown([(t("adv.untargeted"), UNTARGETED), "tabby"], value="tabby", label=t("adv.target"),
                                         filterable=True, allow_custom_value=True)
                    method = gr.Radio(list(attacks.ATTACKS), value="PGD",
                                      label=t("adv.method"))
                    epsilon = gr.Slider(1, attacks.MAX_EPSILON, value=attacks.DEFAULT_EPSILON, step=1,
                                        label=t("adv.epsilon"))
                    adv_steps = gr.Slider(1, attacks.MAX_STEPS, value=attacks.DEFAULT_STEPS, step=1,
                                          label=t("adv.steps"))
                    transfer_to = gr.Dropdown([(t("adv.transfer_available"), TRANSFER_AVAILABLE), *backbone_choices()],
                                              value=TRANSFER_AVAILABLE,
                                              label=t("adv.transfer"))
                    fool = gr.Button(t("adv.fool"), variant="primary")
                with gr.Column():
                    adversarial = gr.Image(label=t("adv.image"),
                                           type="filepath", interactive=False, height=320)
                    perturbation = gr.Image(label=t("adv.perturbation"),
                                            type="filepath", interactive=False, height=200)
                    with gr.Row():
                        before = gr.Label(num_top_classes=5, label=t("adv.before"))
                        after = gr.Label(num_top_classes=5, label=t("adv.after"))
                    summary = gr.Markdown()
            gr.Examples([str(ASSETS / "dog_bull_mastiff.jpg")], inputs=photo, label=t("adv.example"))
            fool.click(adversarial_image, [photo, adv_backbone, target, method, epsilon, adv_steps, transfer_to],
                       [adversarial, perturbation, before, after, summary], api_name="adversarial")
            adv_backbone.change(target_classes, [adv_backbone, target], target, api_name=False)
    return ideal_class, target, [ideal_backbone, adv_backbone, transfer_to]


class Studio(gr.Blocks):
    """`gr.Blocks` that speaks the UI's languages however it is served: `demo.launch(...)` (gradio takes the
    translations at launch, so every caller would have to pass them) or `gr.mount_gradio_app`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.i18n_instance = ui_text.I18N  # what gr.mount_gradio_app serves unless given its own

    def launch(self, *args: Any, i18n: gr.I18n | None = None, **kwargs: Any) -> Any:
        return super().launch(*args, i18n=i18n or ui_text.I18N, **kwargs)


def build() -> gr.Blocks:
    with Studio(title="Transfer-learning studio") as demo:
        gr.Markdown(t("app.intro"))
        cam_class, model, session_models = classify_tab()
        connect_training = train_tab(model, session_models)
        ideal_class, attack_target, tab_model_dropdowns = ideal_adversarial_tab()
        connect_training(tab_model_dropdowns)
        # The class lists come with the page, not at import (reading them may seed the Keras cache).
        demo.load(lambda: (class_names(), class_names(), attack_targets()), None,
                  [cam_class, ideal_class, attack_target], api_name=False)
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)
    return demo


def warm_up() -> None:
    """Load the default backbone and the class names in the background, so the first visitor waits less."""
    try:
        classify.imagenet_classes()
        net = backbones.get_backbone(backbones.DEFAULT)
        fewshot.prepare(net.spec.feature_size)  # the Train tab's first two-class head
    except Exception:  # noqa: BLE001 - the first request will report it properly
        log.exception("warm-up failed")


demo = build()

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    threading.Thread(target=warm_up, daemon=True).start()
    demo.launch(mcp_server=MCP_SERVER)
