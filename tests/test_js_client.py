"""The JS client (@gradio/client, pinned in tests/js) classifies through the launched app, as the README shows."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from realdata import CHELSEA, ROOT

JS = ROOT / "tests" / "js"


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_js_client_classifies(app_url):
    assert (JS / "node_modules" / "@gradio" / "client").is_dir(), "run `make setup` (npm ci in tests/js)"
    out = subprocess.run(["node", "classify.mjs", app_url, str(CHELSEA)], cwd=JS, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    label, explained = out.stdout.strip().splitlines()[-1].split(" | ")
    assert label in {"Egyptian_cat", "tabby", "tiger_cat"} and "Grad-CAM explains" in explained
