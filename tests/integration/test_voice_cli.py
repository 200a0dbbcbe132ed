"""``trunkline sip-credentials`` and the SIP options of ``trunkline serve``."""

from __future__ import annotations

import asyncio
import io
import logging
import socket
import sys
from pathlib import Path

import pytest
from aiohttp import web
from voice_support import free_sip_port, options_request, udp_exchange

from trunkline import app as app_module
from trunkline.app import VOICE_KEY, OptionError, ServeOptions, build, check_options
from trunkline.cli import main
from trunkline.config import load_config_text
from trunkline.sip.digest import ha1


def test_sip_credentials_prints_yaml_that_loads_as_the_agents_secrets(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("phone secret\n"))
    assert main(["sip-credentials", "ann", "--realm", "centre.example"]) == 0
    printed = capsys.readouterr().out
    entry = "\n".join("    " + line for line in printed.splitlines())
    config = load_config_text(
        f"agents:\n  - id: ann\n{entry}\nvoice: {{realm: centre.example}}\n", "pasted.yaml"
    )
    secrets = config.voice.sip_credentials["ann"].ha1
    assert secrets["MD5"] == ha1("ann", "centre.example", "phone secret", "MD5")
    assert secrets["SHA-256"] == ha1("ann", "centre.example", "phone secret", "SHA-256")


def test_sip_credentials_refuses_an_empty_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n"))
    assert main(["sip-credentials", "ann"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "empty password" in captured.err


def test_a_sip_port_out_of_range_is_refused_before_anything_starts() -> None:
    with pytest.raises(OptionError, match="SIP port 70000"):
        check_options(ServeOptions(sip_port=70000))


def test_serve_with_an_out_of_range_sip_port_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--sip-port", "-1", "--http-port", "0"]) == 2
    assert "SIP port -1 is out of range" in capsys.readouterr().err


async def test_the_default_sip_port_taken_is_a_warning_and_the_rest_serves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Stand-in for 5060 held by a PBX on the same machine (tests never touch 5060 itself).
    port = free_sip_port()
    monkeypatch.setattr(app_module, "DEFAULT_SIP_PORT", port)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as holder:
        holder.bind(("127.0.0.1", port))
        options = ServeOptions(sip_port=None, database_url=f"sqlite:///{tmp_path / 'd.db'}")
        app = await build(options)
        runner = web.AppRunner(app)
        with caplog.at_level(logging.WARNING, logger="trunkline.app"):
            await runner.setup()
        try:
            assert VOICE_KEY not in app
            assert f"cannot listen for SIP on 127.0.0.1:{port}" in caplog.text
            assert "SIP is disabled" in caplog.text
        finally:
            await runner.cleanup()


async def test_an_explicit_sip_port_taken_stops_the_start(tmp_path: Path) -> None:
    port = free_sip_port()
    with socket.socket() as holder:  # TCP only: SIP needs both
        holder.bind(("127.0.0.1", port))
        holder.listen()
        options = ServeOptions(sip_port=port, database_url=f"sqlite:///{tmp_path / 'd.db'}")
        app = await build(options)
        runner = web.AppRunner(app)
        try:
            with pytest.raises(OptionError, match=f"cannot listen for SIP on 127.0.0.1:{port}"):
                await runner.setup()
        finally:
            await runner.cleanup()


async def test_sip_starts_and_stops_with_the_app(tmp_path: Path) -> None:
    port = free_sip_port()
    options = ServeOptions(sip_port=port, database_url=f"sqlite:///{tmp_path / 'd.db'}")
    app = await build(options)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        assert app[VOICE_KEY].port == port
        loop = asyncio.get_running_loop()
        answer = await loop.run_in_executor(
            None,
            udp_exchange,
            port,
            options_request(port, 9, call_id="in-process", branch="-inproc"),
        )
        assert answer is not None and answer.startswith(b"SIP/2.0 200 ")
    finally:
        await runner.cleanup()
    # Released: the port can be bound again at once.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as again:
        again.bind(("127.0.0.1", port))
