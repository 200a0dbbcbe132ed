"""End-to-end fixtures: a real `trunkline serve` process per test and Debian's Chromium
driven by Playwright (sync API), with each page's console watched for errors."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_support import (
    CONFIG_TEMPLATE,
    PASSWORDS,
    VIEWPORT,
    ConsoleWatch,
    Server,
    chromium_path,
    free_port,
    wait_healthy,
)

from trunkline.auth.passwords import hash_password

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import (  # noqa: E402
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    sync_playwright,
)


@pytest.fixture(scope="session")
def password_hashes() -> dict[str, str]:
    return {f"{user}_hash": hash_password(pw) for user, pw in PASSWORDS.items()}


@pytest.fixture
def server(tmp_path: Path, password_hashes: dict[str, str]) -> Iterator[Server]:
    """A fresh server per test: its own config, SQLite record and port."""
    config = tmp_path / "centre.yaml"
    config.write_text(CONFIG_TEMPLATE.format(**password_hashes))
    port = free_port()
    log_path = tmp_path / "server.log"
    command = [
        sys.executable,
        "-m",
        "trunkline",
        "serve",
        "--config",
        str(config),
        "--http-port",
        str(port),
        "--sip-port",
        "0",
        "--database",
        f"sqlite:///{tmp_path / 'record.db'}",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    srv = Server(base_url=f"http://127.0.0.1:{port}", process=process, log_path=log_path)
    try:
        wait_healthy(srv)
        yield srv
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# Module scope, not session: Playwright's sync API keeps an event loop running while it
# is started, and the asyncio tests collected after these modules need none running.
@pytest.fixture(scope="module")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="module")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    executable = chromium_path()
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium is not installed (make test installs it)")
        pytest.skip("Debian's chromium is not installed")
    b = playwright_instance.chromium.launch(
        executable_path=executable,
        # Root in a container has no user namespaces for Chromium's sandbox.
        args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"],
    )
    yield b
    b.close()


@pytest.fixture
def console() -> ConsoleWatch:
    return ConsoleWatch()


@pytest.fixture
def new_page(browser: Browser, console: ConsoleWatch) -> Iterator[Callable[..., Page]]:
    """Open pages in fresh browser contexts (one per user, like separate machines)."""
    contexts: list[BrowserContext] = []

    def open_page(**context_options: Any) -> Page:
        context = browser.new_context(viewport=VIEWPORT, **context_options)  # type: ignore[arg-type]
        contexts.append(context)
        page = context.new_page()

        def on_console(msg: ConsoleMessage) -> None:
            if msg.type == "error":
                console.errors.append(f"console: {msg.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda exc: console.errors.append(f"pageerror: {exc}"))
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not console.unexpected(), "errors in the browser console:\n" + "\n".join(
        console.unexpected()
    )
