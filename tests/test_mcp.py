"""The MCP server: started with the app where gradio[mcp] is installed; classify and the generators are tools."""

from __future__ import annotations

import importlib.util
import json
import urllib.request

import pytest

pytestmark = pytest.mark.skipif(importlib.util.find_spec("mcp") is None, reason="gradio[mcp] is not installed")


def test_tools_are_listed_with_descriptions(app_url):
    with urllib.request.urlopen(app_url + "gradio_api/mcp/schema", timeout=30) as r:
        tools = {t["name"]: t for t in json.load(r)}
    for name in ("classify_image", "ideal_image", "adversarial_image"):
        assert name in tools
        assert len(tools[name]["description"]) > 40
    assert "epsilon" in json.dumps(tools["adversarial_image"])
