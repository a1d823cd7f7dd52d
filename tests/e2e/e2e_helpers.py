"""Helpers for the browser tests."""

from __future__ import annotations

from pathlib import Path

SCREENSHOTS = Path(__file__).parent / "screenshots"


def screenshot(page, request) -> Path:
    """Save a full-page screenshot named after the test (tests/e2e/screenshots/, not committed)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{request.node.name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
