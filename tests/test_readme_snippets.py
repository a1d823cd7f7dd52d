"""The README's API snippets run as they are against the launched app."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from realdata import ROOT

README = (ROOT / "README.md").read_text()
API = README[README.index("## API") : README.index("\n## ", README.index("## API") + 5)]
SNIPPETS = re.findall(r"```python\n(.*?)```", API, re.S)


def test_there_is_a_snippet_for_every_action():
    endpoints = set(re.findall(r'api_name="(/[a-z_]+)"', API))
    assert {"/classify", "/train_labelled", "/export", "/ideal_image", "/adversarial", "/push_to_hub", "/load_hub_model"} <= endpoints


@pytest.mark.parametrize("code", SNIPPETS, ids=[f"snippet{i}" for i in range(len(SNIPPETS))])
def test_snippet_runs(code, app_url):
    code = code.replace('"http://127.0.0.1:7860/"', repr(app_url))
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
