"""The Train tab in a real browser (Debian's chromium): the one-click example trains, shows its results,
and the trained model classifies in the Classify tab."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make chromium)")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "TL_CACHE_DIR": str(tmp_path_factory.mktemp("cache")),
           "TF_CPP_MIN_LOG_LEVEL": "2", "GRADIO_ANALYTICS_ENABLED": "False"}
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(240):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_example_task_trains_and_the_model_classifies(app_url):
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        page.goto(app_url)
        page.get_by_role("tab", name="Train").click()
        page.get_by_role("button", name="Try the example: animal vs object").click()
        page.wait_for_selector("text=Now selectable in the Classify tab", timeout=180_000)
        assert page.get_by_text("animal vs object: validation accuracy").is_visible()
        assert page.locator("img[alt*='taken for']").count() == len(page.locator(".caption-label").all())
        page.get_by_role("tab", name="Classify").click()
        page.locator(".gallery-item, [data-testid=dataset] button, table button").nth(2).click()  # Chelsea
        page.get_by_role("button", name="Classify", exact=True).click()
        page.wait_for_selector("text=Grad-CAM explains", timeout=60_000)
        assert page.get_by_text("Grad-CAM explains animal").is_visible()
        browser.close()
