"""The access log never records query strings (websocket tokens travel there)."""

from __future__ import annotations

import logging

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from trunkline.web.access_log import PathOnlyAccessLogger


def test_token_in_query_string_is_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.access")
    access = PathOnlyAccessLogger(logger, "")
    request = make_mocked_request("GET", "/api/v1/agent/ws?token=s3cret-token")
    with caplog.at_level(logging.INFO, logger="test.access"):
        access.log(request, web.Response(status=101), 0.0123)
    assert "/api/v1/agent/ws" in caplog.text
    assert "s3cret-token" not in caplog.text
    assert "101" in caplog.text
