"""Transfer-learning studio: the Gradio layout and wiring. All the work happens in `tl`."""

from __future__ import annotations

import functools
import logging
import os
import threading
from pathlib import Path
from typing import Any, Callable

import gradio as gr

from tl import backbones, classify, images, weights

log = logging.getLogger("app")
ASSETS = Path(__file__).parent / "assets"

# Errors whose message is written for a person: shown as they are.
USER_ERRORS = (images.ImageError, weights.WeightsUnavailable, ValueError)


def user_errors(fn: Callable) -> Callable:
    """Turn `tl`'s validation errors into `gr.Error`; anything else becomes a short apology, never a trace."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except USER_ERRORS as e:
            raise gr.Error(str(e), print_exception=False) from None
        except Exception as e:  # noqa: BLE001 - the user gets a message, the log gets the trace
            log.exception("unexpected error in %s", fn.__name__)
            raise gr.Error(f"Something went wrong on our side ({type(e).__name__}). Please try again.") from None

    return wrapper

from gradio.events import Dependency

class ImageInput(gr.Image):
    """`gr.Image` whose decoding errors (a non-image, a damaged file) reach the user as a clear message."""

    def get_block_name(self) -> str:
        return "image"  # render with gr.Image's own front end

    def preprocess(self, payload):  # noqa: ANN001, ANN201 - gradio's own signature
        try:
            return super().preprocess(payload)
        except Exception:  # noqa: BLE001
            raise gr.Error(
                "This file is not an image we can read. Use JPEG, PNG, WebP, GIF, BMP or TIFF.",
                print_exception=False,
            ) from None
    from typing import Callable, Literal, Sequence, Any, TYPE_CHECKING
    from gradio.blocks import Block
    if TYPE_CHECKING:
        from gradio.components import Timer
        from gradio.components.base import Component


def image_input(label: str) -> gr.Image:
    """The image input used on every tab: upload, paste or webcam; handed to `tl` as a file path."""
    return ImageInput(label=label, type="filepath", sources=["upload", "clipboard", "webcam"], height=320)


def backbone_choices() -> list[tuple[str, str]]:
    """Dropdown entries: every registry row, saying whether it works offline."""
    return [(f"{s.title} ({backbones.status(s.name)})", s.name) for s in backbones.SPECS]


def example_photos() -> list[str]:
    """The example photos shipped in assets/ (their sources and licenses are in assets/SOURCES.md)."""
    return sorted(str(p) for p in ASSETS.glob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp"))


# --- callbacks: convert Gradio values, call one tl function, format the result ---------------------


@user_errors
def classify_image(image: str | None, backbone: str, cam_class: str | None) -> tuple[dict[str, float], Any, str]:
    if not image:
        raise gr.Error("Upload, paste or take a photo first.", print_exception=False)
    result = classify.classify(image, backbone=backbone, top_k=5, cam_class=cam_class or None)
    return result.labels, result.heatmap, f"Grad-CAM explains **{result.cam_class}**."


@user_errors
def class_names() -> gr.Dropdown:
    return gr.Dropdown(choices=list(classify.imagenet_classes()))


# --- layout ---------------------------------------------------------------------------------------


def build() -> gr.Blocks:
    with gr.Blocks(title="Transfer-learning studio") as demo:
        gr.Markdown(
            "# Transfer-learning studio\n"
            "See a pretrained ImageNet network classify a photo and where it looked (Grad-CAM)."
        )
        with gr.Tab("Classify"):
            with gr.Row():
                with gr.Column():
                    photo = image_input("Photo")
                    backbone = gr.Dropdown(backbone_choices(), value=backbones.DEFAULT, label="Backbone")
                    cam_class = gr.Dropdown(
                        [], value=None, label="Explain class (empty: the top class)", filterable=True
                    )
                    run = gr.Button("Classify", variant="primary")
                with gr.Column():
                    labels = gr.Label(num_top_classes=5, label="Top 5 (ImageNet)")
                    heatmap = gr.Image(label="Grad-CAM", type="numpy", interactive=False, height=320)
                    explained = gr.Markdown()
            gr.Examples(example_photos(), inputs=photo, label="Example photos")
            inputs, outputs = [photo, backbone, cam_class], [labels, heatmap, explained]
            run.click(classify_image, inputs, outputs, api_name="classify")
            photo.upload(classify_image, inputs, outputs, api_name=False)
        demo.load(class_names, None, cam_class, api_name=False)
    return demo


def warm_up() -> None:
    """Load the default backbone and the class names in the background, so the first visitor waits less."""
    try:
        classify.imagenet_classes()
        backbones.get_backbone(backbones.DEFAULT)
    except Exception:  # noqa: BLE001 - the first request will report it properly
        log.exception("warm-up failed")


demo = build()

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    threading.Thread(target=warm_up, daemon=True).start()
    demo.queue(default_concurrency_limit=int(os.environ.get("TL_CONCURRENCY", 2)), max_size=64).launch()