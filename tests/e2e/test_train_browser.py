"""The Train tab in a real browser (Debian's chromium): the one-click example trains, shows its results,
and the trained model classifies in the Classify tab."""

from __future__ import annotations

from playwright.sync_api import expect


def test_example_task_trains_and_the_model_classifies(page):
    page.get_by_role("tab", name="Train").click()
    page.get_by_role("button", name="Try the example: animal vs object").click()
    expect(page.get_by_text("Now selectable in the Classify tab")).to_be_visible(timeout=180_000)
    expect(page.get_by_text("animal vs object: validation accuracy")).to_be_visible()
    assert page.locator("img[alt*='taken for']").count() == len(page.locator(".caption-label").all())
    page.get_by_role("tab", name="Classify").click()
    page.locator(".gallery-item, [data-testid=dataset] button, table button").nth(2).click()  # Chelsea
    page.get_by_role("button", name="Classify", exact=True).click()
    expect(page.get_by_text("Grad-CAM explains animal")).to_be_visible(timeout=60_000)
