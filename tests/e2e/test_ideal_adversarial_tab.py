"""The Ideal & adversarial tab as a person uses it, in headless chromium."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

DOG = Path(__file__).resolve().parents[2] / "assets" / "dog_bull_mastiff.jpg"


def open_tab(page, sub: str) -> None:
    page.get_by_role("tab", name="Ideal & adversarial").click()
    page.get_by_role("tab", name=sub).click()


def test_render_an_ideal_goldfish(page):
    open_tab(page, "Ideal image")
    box = page.get_by_label("Class (type to search)")
    box.click()
    box.fill("")
    box.press_sequentially("goldf")
    page.get_by_role("option", name="goldfish", exact=True).click()
    page.get_by_role("button", name="Render").click()
    expect(page.get_by_text(re.compile("Robustness"))).to_be_visible(timeout=120_000)
    expect(page.get_by_text(re.compile(r"Step 96/96: p\(goldfish\) of this image"))).to_be_visible()
    assert page.locator("img[src*='.png']").count() >= 1


def test_stop_keeps_the_last_image(page):
    open_tab(page, "Ideal image")
    page.get_by_role("button", name="Render").click()
    expect(page.get_by_text(re.compile(r"Step (16|32)/96"))).to_be_visible(timeout=120_000)
    page.get_by_role("button", name="Stop").click()
    page.wait_for_timeout(4000)  # the unstopped run would be done by now
    expect(page.get_by_text(re.compile("Robustness"))).to_have_count(0)
    assert page.locator("img[src*='.png']").count() >= 1


def test_fool_the_network_with_the_dog(page):
    open_tab(page, "Adversarial image")
    page.locator("input[type=file]").last.set_input_files(str(DOG))
    page.get_by_role("button", name="Fool it").click()
    expect(page.get_by_text(re.compile("fooled"))).to_be_visible(timeout=120_000)
    expect(page.get_by_text(re.compile("make it say tabby"))).to_be_visible()
    expect(page.get_by_text(re.compile("No second backbone is available offline"))).to_be_visible()


def test_a_trained_model_is_a_model_here_with_its_classes(page):
    page.get_by_role("tab", name="Train").click()
    page.get_by_role("button", name="Try the example: animal vs object").click()
    expect(page.get_by_text("Now selectable in the Classify tab")).to_be_visible(timeout=180_000)
    open_tab(page, "Adversarial image")
    model = page.get_by_label("Backbone", exact=True).locator("visible=true")
    model.click()
    page.get_by_role("option", name="my model: animal vs object").click()
    target = page.get_by_label("Target class (type to search)")
    expect(target).to_have_value("animal")  # the model's own classes now
    target.click()
    expect(page.get_by_role("option")).to_have_count(3)  # untargeted, animal, object
    page.get_by_role("option", name="object", exact=True).click()
    page.locator("input[type=file]").last.set_input_files(str(DOG))
    page.get_by_role("button", name="Fool it").click()
    expect(page.get_by_text(re.compile("make it say object"))).to_be_visible(timeout=120_000)
    expect(page.get_by_text(re.compile("Transfer to MobileNet"))).to_be_visible()
