"""The interactive API docs load nothing from another host (the README promises no CDN)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.test import Client

ADDRESS_ATTRIBUTES = {"src", "href", "action", "data", "poster"}


class _Addresses(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [value for name, value in attrs if name in ADDRESS_ATTRIBUTES and value]
        self._in_script = tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.inline.append(data)


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_docs_page_refers_to_no_other_host(client: Client, path: str) -> None:
    # when
    response = client.get(path)

    # then every address in the page is on this server, and no inline script or style names another
    assert response.status_code == 200
    page = _Addresses()
    page.feed(response.content.decode())
    assert page.found, "the page should load its scripts from this server"
    outside = [url for url in page.found if re.match(r"^(https?:)?//", url)]
    assert outside == []
    assert [text for text in page.inline if re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text)] == []
