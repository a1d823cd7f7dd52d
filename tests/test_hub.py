"""The Hugging Face Hub: a pushed model loads back from the local Hub cache offline; push says why it can't."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fewshot_photos import ANIMALS, CHELSEA, OBJECTS
from tl import cache, classify, fewshot, heads, hub

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("hub-heads")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TL_CACHE_DIR", str(root))
        result = fewshot.train([("animal", ANIMALS[:4]), ("object", OBJECTS[:4])], hp=fewshot.HParams(augment="fast"))
    return result, root


def seed_hub_cache(hub_cache: Path, repo_id: str, folder: Path) -> None:
    """Lay out files exactly as huggingface_hub's cache keeps a downloaded snapshot."""
    repo = hub_cache / f"models--{repo_id.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(COMMIT)
    shutil.copytree(folder, repo / "snapshots" / COMMIT)


def test_a_pushed_model_loads_from_the_local_hub_cache_offline(trained, tmp_path, monkeypatch):
    result, root = trained
    monkeypatch.setenv("TL_CACHE_DIR", str(root))
    folder = tmp_path / "repo"
    heads.export(result.key, folder, name="model")
    (folder / "README.md").write_text(hub.model_card(heads.load(result.key).info, "someone/animal-or-object"))
    seed_hub_cache(tmp_path / "hub", "someone/animal-or-object", folder)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("TL_OFFLINE", "1")

    got = hub.classify(CHELSEA, "someone/animal-or-object", top_k=2)
    want = classify.classify(CHELSEA, backbone=cache.HEAD_PREFIX + result.key, top_k=2).labels
    assert list(got) == list(want) == ["animal", "object"]
    assert got["animal"] == pytest.approx(want["animal"], abs=1e-4)


def test_a_repo_missing_from_the_cache_offline_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty"))
    monkeypatch.setenv("TL_OFFLINE", "1")
    with pytest.raises(hub.HubError, match="not in the local Hub cache"):
        hub.load("someone/never-pushed")


@pytest.mark.parametrize("repo_id", ["", "no-slash", "a/b/c", "spaces in/name", "../etc"])
def test_bad_repo_ids(repo_id):
    with pytest.raises(ValueError, match="Expected a Hub repo id"):
        hub.load(repo_id)


def test_push_without_a_token_or_network_says_why(trained, monkeypatch):
    result, root = trained
    monkeypatch.setenv("TL_CACHE_DIR", str(root))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    with pytest.raises(hub.HubError, match="token"):
        hub.push(result.key, "someone/animal-or-object", token=None)
    monkeypatch.setenv("TL_OFFLINE", "1")
    with pytest.raises(hub.HubError, match="offline"):
        hub.push(result.key, "someone/animal-or-object", token="hf_not_a_real_token")


def test_model_card_has_labels_metrics_and_how_to_load(trained, monkeypatch):
    result, root = trained
    monkeypatch.setenv("TL_CACHE_DIR", str(root))
    card = hub.model_card(heads.load(result.key).info, "someone/animal-or-object")
    assert card.startswith("---\nlibrary_name: keras")
    assert "animal" in card and "object" in card and "mobilenet" in card
    assert 'hf_hub_download("someone/animal-or-object", "model.keras")' in card
    assert "safe_mode=True" in card


def test_the_app_loads_a_hub_model_by_repo_id_and_classifies_with_it(trained, tmp_path, monkeypatch):
    """The launched app, offline, with the model in its local Hub cache: load by repo id, then classify."""
    from gradio_client import Client, handle_file

    from realdata import launch_app

    result, root = trained
    monkeypatch.setenv("TL_CACHE_DIR", str(root))
    folder = tmp_path / "repo"
    heads.export(result.key, folder, name="model")
    seed_hub_cache(tmp_path / "hub", "someone/animal-or-object", folder)
    proc, url = launch_app({"HF_HUB_CACHE": str(tmp_path / "hub"), "HF_HUB_OFFLINE": "1", "TL_CACHE_DIR": str(tmp_path / "c")})
    try:
        client = Client(url, verbose=False)
        update = client.predict("someone/animal-or-object", api_name="/load_hub_model")
        dropdown = update["value"]
        assert dropdown == "hub:someone/animal-or-object"
        assert ["Hub: someone/animal-or-object", dropdown] in update["choices"]
        labels, heatmap, said = client.predict(handle_file(str(CHELSEA)), dropdown, None, api_name="/classify")
        assert labels["label"] == "animal" and "not available" in said
        with pytest.raises(Exception, match="not in the local Hub cache"):
            client.predict("someone/never-pushed", api_name="/load_hub_model")
        with pytest.raises(Exception, match="Train a model first"):  # this session has trained nothing
            client.predict("someone/animal-or-object", "", api_name="/push_to_hub")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
