"""The ``voice:`` section and agents' ``sip_ha1``: defaults, values, and errors that point at
the line."""

from __future__ import annotations

from textwrap import dedent

import pytest

from trunkline.config import load_config_text, load_packaged_config
from trunkline.domain.errors import ConfigError
from trunkline.sip.digest import ha1

SHA = ha1("ann", "trunkline", "pw", "SHA-256")
MD5 = ha1("ann", "trunkline", "pw", "MD5")


def problems(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(ConfigError) as info:
        load_config_text(dedent(text), "config.yaml")
    return [(e["line"], e["field"], e["message"]) for e in info.value.details["errors"]]


def test_the_packaged_default_has_the_documented_voice_defaults() -> None:
    voice = load_packaged_config().voice
    assert voice.realm == "trunkline"
    assert voice.rtp_ports == (20000, 20999)
    assert voice.echo_numbers == frozenset({"echo"})
    assert voice.public_address == "127.0.0.1"
    assert voice.digest_algorithms == ("SHA-256", "MD5")
    assert voice.sip_credentials == {}


def test_a_file_without_a_voice_section_gets_the_defaults() -> None:
    voice = load_config_text("queues: {q: {}}\n").voice
    assert voice.rtp_ports == (20000, 20999) and voice.echo_numbers == {"echo"}


def test_voice_values_and_agents_sip_secrets_are_loaded() -> None:
    config = load_config_text(
        dedent(
            f"""\
            agents:
              - id: ann
                sip_ha1: {{sha256: {SHA.upper()}, md5: {MD5}}}
              - id: bob
                sip_ha1: {{md5: {MD5}}}
              - id: cid
            voice:
              realm: centre.example
              rtp_ports: "30000-30099"
              echo_numbers: [echo, "600"]
              public_address: 192.0.2.7
              echo_answer_delay_s: 1.5
              digest_algorithms: [MD5]
            """
        )
    )
    voice = config.voice
    assert voice.realm == "centre.example"
    assert voice.rtp_ports == (30000, 30099)
    assert voice.echo_numbers == {"echo", "600"}
    assert voice.public_address == "192.0.2.7"
    assert voice.echo_answer_delay_s == 1.5
    assert voice.digest_algorithms == ("MD5",)
    assert dict(voice.sip_credentials["ann"].ha1) == {"SHA-256": SHA, "MD5": MD5}
    assert dict(voice.sip_credentials["bob"].ha1) == {"MD5": MD5}
    assert "cid" not in voice.sip_credentials  # cannot register


def test_bad_voice_values_are_reported_with_their_lines() -> None:
    found = problems(
        """\
        agents:
          - id: ann
            sip_ha1: {md5: my-password}
          - id: bob
            sip_ha1: {}
        voice:
          rtp_ports: "20999-20000"
          public_address: pbx.example
          echo_numbers: ["has space"]
          digest_algorithms: [SHA-1]
          surprise: 1
        """
    )
    by_field = {field: (line, message) for line, field, message in found}
    assert by_field["agents[0].sip_ha1.md5"][0] == 3
    assert "32 hex digits" in by_field["agents[0].sip_ha1.md5"][1]
    assert "sha256 or md5" in by_field["agents[1].sip_ha1"][1]
    assert by_field["voice.rtp_ports"] == (
        7,
        "port range '20999-20000' must lie within 1024-65535, low end first",
    )
    assert by_field["voice.public_address"][0] == 8
    assert "IP address" in by_field["voice.public_address"][1]
    assert by_field["voice.echo_numbers[0]"][0] == 9
    assert by_field["voice.digest_algorithms[0]"][0] == 10
    assert by_field["voice.surprise"][0] == 11
    assert "unknown field 'surprise'" in by_field["voice.surprise"][1]


def test_a_port_range_must_be_low_high() -> None:
    (found,) = problems('voice: {rtp_ports: "20000"}\n')
    assert found[1:] == ("voice.rtp_ports", "expected a port range 'LOW-HIGH', got '20000'")
