"""The Hugging Face Hub: push a trained model with its model card; load a model back by repo id.

What is pushed is `heads.export`'s end-to-end model (raw RGB 0–255 in, probabilities out, preprocessing
inside), its labels file and a model card. Loading uses `huggingface_hub.snapshot_download`, so the Hub's
local cache serves it when offline (`HF_HUB_OFFLINE=1` or `TL_OFFLINE=1`), and it loads with Keras
`safe_mode=True`.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from tl import cache, heads, images, weights

REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
MODEL_FILE, LABELS_FILE = "model.keras", "model.labels.json"


class HubError(RuntimeError):
    """A Hub action could not be done; the message says why, for a person."""


def check_repo_id(repo_id: str) -> str:
    """A stripped repo id of the form "user/name".

    Raises:
        ValueError: anything else.
    """
    repo_id = (repo_id or "").strip()
    if not REPO_ID.match(repo_id):
        raise ValueError(f"Expected a Hub repo id such as 'your-name/cat-or-dog'. Received: {repo_id!r}")
    return repo_id


def offline() -> bool:
    """True when neither the Hub nor any other download may be tried."""
    from huggingface_hub import constants

    return weights.offline() or bool(constants.HF_HUB_OFFLINE)


def model_card(info: cache.HeadInfo, repo_id: str) -> str:
    """The README.md pushed with a model: labels, backbone, metrics and how to load it."""
    meta = info.meta
    accuracy = meta.get("accuracy")
    per_class = dict(zip(info.labels, meta.get("per_class") or [None] * len(info.labels)))
    counts = meta.get("counts") or {}
    rows = "\n".join(
        f"| {label} | {counts.get(label, '–')} | " + (f"{per_class[label]:.2f}" if per_class[label] is not None else "–") + " |"
        for label in info.labels
    )
    return f"""---
library_name: keras
pipeline_tag: image-classification
tags: [image-classification, transfer-learning, few-shot, keras]
---

# {info.name}

A few-shot image classifier trained in the transfer-learning studio: a frozen ImageNet **{info.backbone}**
backbone, global average pooling, and a small trained head.

- Labels: {", ".join(info.labels)}
- Backbone: {info.backbone} (ImageNet weights, frozen)
- Validation ({meta.get("validation", "hold-out")}): accuracy {f"{accuracy:.2f}" if accuracy is not None else "n/a"}

| label | training images | validation accuracy |
| --- | --- | --- |
{rows}

## How to use

The model takes RGB images in [0, 255] (float32, N×224×224×3: the centred square of the photo, resized)
and returns class probabilities in the order of `{LABELS_FILE}`. Preprocessing is inside the model.

```python
import json, keras, numpy as np
from huggingface_hub import hf_hub_download
from PIL import Image

model = keras.saving.load_model(hf_hub_download("{repo_id}", "{MODEL_FILE}"), safe_mode=True)
labels = json.load(open(hf_hub_download("{repo_id}", "{LABELS_FILE}")))["labels"]
img = Image.open("photo.jpg").convert("RGB")
s = min(img.size)
img = img.crop(((img.width - s) // 2, (img.height - s) // 2, (img.width + s) // 2, (img.height + s) // 2))
probs = model.predict(np.asarray(img.resize((224, 224)))[None].astype("float32"))[0]
print(dict(zip(labels, probs.round(3))))
```
"""


def push(key: str, repo_id: str, token: str | None = None, private: bool = False) -> str:
    """Push a trained head (as an end-to-end model) with a model card to the user's Hub repo.

    Args:
        key: a head key.
        repo_id: "user/name"; created when missing.
        token: a Hugging Face token with write access; `HF_TOKEN` when None.
        private: create the repo as private.

    Returns:
        The repo's URL.

    Raises:
        ValueError: a bad repo id or unknown head. HubError: no token, offline, or the Hub refused.
    """
    repo_id = check_repo_id(repo_id)
    token = (token or os.environ.get("HF_TOKEN") or "").strip()
    if not token:
        raise HubError("To push to the Hub, sign in or paste a Hugging Face token with write access.")
    if offline():
        raise HubError("The Hub cannot be reached: this app runs offline (HF_HUB_OFFLINE or TL_OFFLINE is set).")
    info = heads.load(key).info
    from huggingface_hub import HfApi

    with tempfile.TemporaryDirectory() as tmp:
        heads.export(key, tmp, name=Path(MODEL_FILE).stem)
        (Path(tmp) / "README.md").write_text(model_card(info, repo_id))
        try:
            api = HfApi(token=token)
            api.create_repo(repo_id, private=private, exist_ok=True)
            api.upload_folder(folder_path=tmp, repo_id=repo_id, commit_message=f"Upload {info.name} from the transfer-learning studio")
        except Exception as e:  # noqa: BLE001 - network, auth and permission errors all end here
            raise HubError(f"The Hub did not accept the upload ({type(e).__name__}: {str(e)[:200]}).") from None
    return f"https://huggingface.co/{repo_id}"


@dataclasses.dataclass(frozen=True)
class HubModel:
    """A model loaded from the Hub: raw RGB in, probabilities out."""

    repo_id: str
    labels: tuple[str, ...]
    input_size: int
    predict: Any  # compiled: float32 N×S×S×3 in [0, 255] -> N×k probabilities


@functools.lru_cache(maxsize=8)
def _load_folder(folder: str, repo_id: str) -> HubModel:
    import keras
    import tensorflow as tf

    model_files = sorted(Path(folder).glob("*.keras"))
    label_files = sorted(Path(folder).glob("*.labels.json"))
    if not model_files or not label_files:
        raise HubError(f"{repo_id} has no .keras model with a .labels.json beside it.")
    try:
        model = keras.saving.load_model(model_files[0], safe_mode=True, compile=False)
        labels = tuple(json.loads(label_files[0].read_text())["labels"])
    except Exception as e:  # noqa: BLE001
        raise HubError(f"{repo_id} does not hold a model this app can load safely ({type(e).__name__}).") from None
    size = int(model.input_shape[1])
    if model.output_shape[-1] != len(labels):
        raise HubError(f"{repo_id}: the model has {model.output_shape[-1]} outputs but {len(labels)} labels.")
    predict = tf.function(lambda x: model(x, training=False), input_signature=[tf.TensorSpec([None, size, size, 3], tf.float32)])
    return HubModel(repo_id, labels, size, predict)


def load(repo_id: str) -> HubModel:
    """Download (or, offline, take from the local Hub cache) a model pushed by `push`, and load it.

    Raises:
        ValueError: a bad repo id. HubError: not found, not cached while offline, or not loadable.
    """
    repo_id = check_repo_id(repo_id)
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError, RepositoryNotFoundError

    try:
        folder = snapshot_download(
            repo_id,
            allow_patterns=["*.keras", "*.labels.json", "README.md"],
            cache_dir=os.environ.get("HF_HUB_CACHE") or None,
            local_files_only=offline(),
        )
    except RepositoryNotFoundError:
        raise HubError(f"No model repo {repo_id} on the Hub (or it is private).") from None
    except LocalEntryNotFoundError:
        raise HubError(f"{repo_id} is not in the local Hub cache, and the Hub cannot be reached now.") from None
    except Exception as e:  # noqa: BLE001
        raise HubError(f"Could not get {repo_id} from the Hub ({type(e).__name__}).") from None
    return _load_folder(folder, repo_id)


def classify(image: images.ImageSource, repo_id: str, top_k: int = 5) -> dict[str, float]:
    """Top-k labels of a Hub model for one image (the same centred crop as everywhere else)."""
    model = load(repo_id)
    x = images.fit(images.load_rgb(image), model.input_size)[None].astype(np.float32)
    probs = model.predict(x).numpy()[0]
    best = np.argsort(probs)[::-1][: min(top_k, len(model.labels))]
    return {model.labels[i]: float(probs[i]) for i in best}
