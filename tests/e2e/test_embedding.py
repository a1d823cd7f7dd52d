"""A course page embeds the app (web component and iframe); it renders and answers inside the page."""

from __future__ import annotations

import functools
import http.server
import re
import threading

import pytest
from playwright.sync_api import expect

from realdata import CHELSEA, ROOT, package_dir

CDN_SCRIPT = re.compile(r'https://gradio\.s3-us-west-2\.amazonaws\.com/[0-9.]+/gradio\.js')


def local_web_component_script(app_url: str) -> str:
    """gradio.js only imports the web component's entry module; the app serves that module itself."""
    loader = (package_dir("gradio") / "templates" / "frontend" / "gradio.js").read_text()
    entry = re.search(r'"\./(assets/[^"]+\.js)"', loader).group(1)
    return app_url + entry


@pytest.fixture
def course_page(tmp_path, app_url):
    """The repo's example page, with the app's address and an offline gradio.js, served on loopback."""
    html = (ROOT / "embed" / "course_page.html").read_text()
    assert CDN_SCRIPT.search(html), "the page loads gradio.js of the pinned version"
    html = CDN_SCRIPT.sub(local_web_component_script(app_url), html).replace("http://127.0.0.1:7860", app_url.rstrip("/"))
    (tmp_path / "index.html").write_text(html)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    server.shutdown()


def test_pinned_gradio_js_matches_requirements():
    html = (ROOT / "embed" / "course_page.html").read_text()
    version = CDN_SCRIPT.search(html).group(0).split("/")[-2]
    assert re.search(rf"^gradio(\[[a-z,]+\])?=={re.escape(version)}$", (ROOT / "requirements.txt").read_text(), re.M)


@pytest.mark.parametrize("where", ["web component", "iframe"])
def test_embedded_app_renders_and_classifies(browser, course_page, where, request):
    from e2e_helpers import screenshot

    context = browser.new_context(viewport={"width": 1280, "height": 2400})
    page = context.new_page()
    page.goto(course_page)
    root = page.locator("gradio-app") if where == "web component" else page.frame_locator("iframe")
    root.get_by_text("Transfer-learning studio").first.wait_for(timeout=60_000)
    root.locator("input[type=file]").first.set_input_files(str(CHELSEA))
    expect(root.get_by_text("Grad-CAM explains")).to_contain_text(re.compile("Egyptian_cat|tabby|tiger_cat"), timeout=60_000)
    screenshot(page, request)
    context.close()
