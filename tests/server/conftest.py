"""Fixtures of the server tests: event-stream viewers read by threads of their own."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.server.sse_client import Viewer


@pytest.fixture
def viewer() -> Iterator[Callable[..., Viewer]]:
    """viewer(url, headers=None) -> a Viewer reading that stream; every one is closed after the test."""
    opened: list[Viewer] = []

    def open_viewer(url: str, headers: dict[str, str] | None = None) -> Viewer:
        opened.append(Viewer(url, headers))
        return opened[-1]

    yield open_viewer
    for each in opened:
        each.close()
