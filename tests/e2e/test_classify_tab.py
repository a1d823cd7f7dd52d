"""The Classify tab as a person uses it, in headless chromium."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from realdata import CHELSEA, imagenet_samples


def upload(page, path) -> None:
    page.locator("input[type=file]").first.set_input_files(str(path))


def test_upload_a_photo_and_see_labels_and_gradcam(page):
    upload(page, CHELSEA)
    expect(page.get_by_text("Grad-CAM explains")).to_contain_text(re.compile("Egyptian_cat|tabby|tiger_cat"), timeout=60_000)
    expect(page.get_by_text("Top 5 (ImageNet)")).to_be_visible()
    assert page.locator("img").count() >= 2  # the upload preview and the Grad-CAM overlay


def test_switching_the_explained_class(page):
    upload(page, imagenet_samples()[0][0])
    expect(page.get_by_text("Grad-CAM explains")).to_be_visible(timeout=60_000)
    box = page.get_by_label("Explain class (empty: the top class)")
    box.click()
    box.press_sequentially("tabby")
    page.get_by_role("option", name="tabby", exact=True).click()
    page.get_by_role("button", name="Classify").click()
    expect(page.get_by_text("Grad-CAM explains")).to_contain_text("tabby", timeout=60_000)


def test_a_non_image_gets_a_readable_error_and_the_page_keeps_working(page, tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("this is not a picture")
    upload(page, bad)
    expect(page.get_by_text(re.compile("not an image we can read"))).to_be_visible(timeout=30_000)
    upload(page, CHELSEA)
    expect(page.get_by_text("Grad-CAM explains")).to_contain_text(re.compile("Egyptian_cat|tabby|tiger_cat"), timeout=60_000)


def test_switching_the_backbone(page):
    """Offline only MobileNet has weights: another backbone says so clearly; switching back works."""
    upload(page, CHELSEA)
    expect(page.get_by_text("Grad-CAM explains")).to_be_visible(timeout=60_000)
    page.get_by_label("Backbone").first.click()
    page.get_by_role("option", name=re.compile("^MobileNetV2")).click()
    page.get_by_role("button", name="Classify", exact=True).click()
    expect(page.get_by_text(re.compile("needs internet the first time it is used"))).to_be_visible(timeout=30_000)
    page.get_by_label("Backbone").first.click()
    page.get_by_role("option", name=re.compile(r"^MobileNet \(v1")).click()
    page.get_by_role("button", name="Classify", exact=True).click()
    expect(page.get_by_text("Grad-CAM explains")).to_contain_text(re.compile("Egyptian_cat|tabby|tiger_cat"), timeout=60_000)
