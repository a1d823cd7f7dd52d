"""Shared fixtures: the real MobileNet and one real launched app per test session."""

from __future__ import annotations

import os
import subprocess

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

from realdata import launch_app  # noqa: E402


@pytest.fixture(scope="session")
def mobilenet():
    from tl import backbones

    return backbones.get_backbone("mobilenet")


@pytest.fixture(scope="session")
def app_url():
    """A real launched app (one per test session), stopped at the end."""
    proc, url = launch_app()
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
