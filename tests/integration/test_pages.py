"""The browser pages and their files: served without a token, under a strict policy."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from trunkline.pages.http import PAGES

if TYPE_CHECKING:
    from tests.integration.conftest import Centre


@pytest.mark.parametrize("path", sorted(PAGES))
async def test_each_page_is_served_with_a_strict_content_policy(centre: Centre, path: str) -> None:
    resp = await centre.client.get(path)
    assert resp.status == 200 and resp.content_type == "text/html"
    policy = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    html = await resp.text()
    assert '<html lang="en">' in html and 'type="module"' in html


async def test_the_root_opens_the_desktop(centre: Centre) -> None:
    resp = await centre.client.get("/", allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == "/desktop"


async def test_static_files_revalidate_with_their_etag(centre: Centre) -> None:
    first = await centre.client.get("/static/lib/api.js")
    assert first.status == 200 and first.content_type == "text/javascript"
    assert "export async function login" in await first.text()
    assert first.headers["Cache-Control"] == "no-cache"
    again = await centre.client.get(
        "/static/lib/api.js", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status == 304


@pytest.mark.parametrize(
    "path",
    ["/static/lib/missing.js", "/static/../http.py", "/static/%2e%2e/http.py", "/static/lib"],
)
async def test_nothing_outside_the_static_files_is_served(centre: Centre, path: str) -> None:
    resp = await centre.client.get(path)
    assert resp.status == 404
    assert (await resp.json())["error_id"] == "not_found"
