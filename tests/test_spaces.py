"""Hugging Face Spaces: the README front matter is valid and agrees with requirements.txt."""

from __future__ import annotations

import re

import yaml

from realdata import ROOT

REQUIRED = ["title", "emoji", "colorFrom", "colorTo", "sdk", "sdk_version", "python_version", "app_file", "license", "short_description"]
COLORS = {"red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray"}


def front_matter() -> dict:
    text = (ROOT / "README.md").read_text()
    match = re.match(r"^---\n(.*?)\n---\n", text, re.S)
    assert match, "README.md must start with a --- YAML block (Spaces front matter)"
    return yaml.safe_load(match.group(1))


def pins() -> dict[str, str]:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    pairs = (line.split("#")[0].strip().split("==") for line in lines)
    return {p[0].split("[")[0].lower().replace("_", "-"): p[1] for p in pairs if len(p) == 2}


def test_front_matter_has_every_field_spaces_reads():
    meta = front_matter()
    assert [k for k in REQUIRED if k not in meta] == []
    assert meta["sdk"] == "gradio"
    assert meta["colorFrom"] in COLORS and meta["colorTo"] in COLORS
    assert len(meta["short_description"]) <= 60
    assert (ROOT / meta["app_file"]).is_file()
    assert str(meta["python_version"]) == "3.11"


def test_sdk_version_is_the_pinned_gradio():
    assert front_matter()["sdk_version"] == pins()["gradio"]


def test_every_requirement_is_pinned():
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        assert not line or "==" in line, f"unpinned requirement: {line}"
