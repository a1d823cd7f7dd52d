"""The UI in the browser's language: German for a German browser (texts, error messages and results), English
otherwise; ImageNet's class names stay as they are."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from e2e_helpers import screenshot

# (browser locale, tab names, Classify button, a label, the chosen backbone, the error for a non-image upload,
#  what Grad-CAM's sentence begins with)
LANGUAGES = [
    ("de-DE", ["Klassifizieren", "Trainieren", "Ideal & adversarial"], "Klassifizieren", "Erklärte Klasse",
     "MobileNet (v1, 1.0, 224) (offline verfügbar)", "Diese Datei ist kein Bild, das wir lesen können",
     "Grad-CAM erklärt"),
    ("en-US", ["Classify", "Train", "Ideal & adversarial"], "Classify", "Explain class (empty: the top class)",
     "MobileNet (v1, 1.0, 224) (available offline)", "This file is not an image we can read",
     "Grad-CAM explains"),
]


@pytest.fixture
def open_app(browser, app_url, request):
    contexts = []

    def open_in(locale: str):
        context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 1000})
        contexts.append(context)
        page = context.new_page()
        page.goto(app_url)
        page.get_by_text("Transfer-learning studio").first.wait_for(timeout=60_000)
        return page

    yield open_in
    for context in contexts:
        screenshot(context.pages[0], request)
        context.close()


@pytest.mark.parametrize("locale, tabs, button, label, backbone, error, explains", LANGUAGES,
                         ids=[row[0] for row in LANGUAGES])
def test_the_ui_speaks_the_browsers_language(open_app, tmp_path, locale, tabs, button, label, backbone, error,
                                             explains):
    page = open_app(locale)
    for tab in tabs:
        expect(page.get_by_role("tab", name=tab, exact=True)).to_be_visible()
    expect(page.get_by_role("button", name=button, exact=True)).to_be_visible()
    expect(page.get_by_label(re.compile(re.escape(label))).first).to_be_visible()
    expect(page.get_by_label("Backbone").first).to_have_value(backbone)
    assert "__i18n__" not in page.inner_text("body")  # every key found its text
    bad = tmp_path / "notes.png"
    bad.write_text("this is not a picture")
    page.locator("input[type=file]").first.set_input_files(str(bad))
    expect(page.get_by_text(error)).to_be_visible(timeout=30_000)

    # a result: the example cat, classified; the sentence in the browser's language, the class name ImageNet's
    page.locator("img[src*='cat_chelsea']").first.click()
    page.get_by_role("button", name=button, exact=True).click()
    expect(page.get_by_text(explains)).to_contain_text(re.compile(r"\b(Egyptian_cat|tabby|tiger_cat)\b"),
                                                       timeout=60_000)
