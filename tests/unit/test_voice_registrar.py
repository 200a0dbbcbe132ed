"""The registrar (RFC 3261 §10.3) on an injected clock: bindings, expiry, Contact *, 423,
CSeq ordering and the cap per AOR."""

from __future__ import annotations

import pytest

from trunkline.sip.message import Request, parse_message
from trunkline.voice.registrar import Registrar

AOR = "sip:ann@trunkline"
SOURCE = ("192.0.2.10", 5060)


def register(
    *contacts: str, expires: int | None = None, call_id: str = "reg-1", cseq: int = 1
) -> Request:
    lines = [
        "REGISTER sip:trunkline SIP/2.0",
        "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-test",
        "From: <sip:ann@trunkline>;tag=abc",
        "To: <sip:ann@trunkline>",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} REGISTER",
        *(f"Contact: {c}" for c in contacts),
    ]
    if expires is not None:
        lines.append(f"Expires: {expires}")
    lines += ["Content-Length: 0", "", ""]
    message = parse_message("\r\n".join(lines).encode())
    assert isinstance(message, Request)
    return message


def apply(registrar: Registrar, request: Request, now: float) -> tuple[int, list[str]]:
    outcome = registrar.register(AOR, request, source=SOURCE, transport="udp", now=now)
    return outcome.status, [f"{name}: {value}" for name, value in outcome.headers()]


def contacts_of(registrar: Registrar, now: float) -> list[str]:
    return [str(b.contact.uri) for b in registrar.lookup(AOR, now)]


def test_a_binding_lives_until_it_expires_and_the_200_lists_it_with_its_time_left() -> None:
    registrar = Registrar()
    status, headers = apply(registrar, register("<sip:ann@192.0.2.10>", expires=300), 1000.0)
    assert status == 200
    assert headers == ["Contact: <sip:ann@192.0.2.10>;expires=300"]
    # A query (no Contact) changes nothing and reports the time left.
    status, headers = apply(registrar, register(cseq=2), 1100.0)
    assert (status, headers) == (200, ["Contact: <sip:ann@192.0.2.10>;expires=200"])
    assert contacts_of(registrar, 1299.0) == ["sip:ann@192.0.2.10"]
    assert contacts_of(registrar, 1300.0) == []


def test_the_contact_expires_parameter_wins_over_the_header_and_the_default_applies() -> None:
    registrar = Registrar(default_expires_s=1800)
    status, headers = apply(
        registrar,
        register("<sip:ann@192.0.2.10>;expires=120", "<sip:ann@192.0.2.11>", expires=600),
        0.0,
    )
    assert status == 200
    assert headers == [
        "Contact: <sip:ann@192.0.2.10>;expires=120",
        "Contact: <sip:ann@192.0.2.11>;expires=600",
    ]
    _, headers = apply(registrar, register("<sip:ann@192.0.2.12>", cseq=2), 0.0)
    assert "Contact: <sip:ann@192.0.2.12>;expires=1800" in headers


def test_too_brief_an_expiry_gets_423_with_min_expires_and_changes_nothing() -> None:
    registrar = Registrar(min_expires_s=60)
    status, headers = apply(
        registrar, register("<sip:ann@192.0.2.10>", "<sip:ann@192.0.2.11>;expires=30"), 0.0
    )
    assert (status, headers) == (423, ["Min-Expires: 60"])
    assert contacts_of(registrar, 0.0) == []


def test_a_long_expiry_is_cut_to_the_maximum() -> None:
    registrar = Registrar(max_expires_s=3600)
    _, headers = apply(registrar, register("<sip:ann@192.0.2.10>", expires=86400), 0.0)
    assert headers == ["Contact: <sip:ann@192.0.2.10>;expires=3600"]


def test_expires_zero_removes_one_binding_and_contact_star_removes_all() -> None:
    registrar = Registrar()
    apply(registrar, register("<sip:ann@192.0.2.10>", "<sip:ann@192.0.2.11>", expires=600), 0.0)
    status, headers = apply(registrar, register("<sip:ann@192.0.2.10>;expires=0", cseq=2), 1.0)
    assert status == 200
    assert headers == ["Contact: <sip:ann@192.0.2.11>;expires=599"]
    status, headers = apply(registrar, register("*", expires=0, cseq=3), 2.0)
    assert (status, headers) == (200, [])
    assert contacts_of(registrar, 2.0) == []
    assert len(registrar) == 0


@pytest.mark.parametrize(
    "request_",
    [
        register("*", expires=60),  # * needs Expires: 0
        register("*"),
        register("*", "<sip:ann@192.0.2.10>", expires=0),  # * must stand alone
    ],
    ids=["star-expires-60", "star-no-expires", "star-with-another"],
)
def test_contact_star_is_refused_unless_alone_with_expires_zero(request_: Request) -> None:
    registrar = Registrar()
    apply(registrar, register("<sip:ann@192.0.2.10>", expires=600), 0.0)
    status, _ = apply(registrar, request_, 1.0)
    assert status == 400
    assert contacts_of(registrar, 1.0) == ["sip:ann@192.0.2.10"]


def test_a_refresh_with_an_older_cseq_from_the_same_call_id_is_refused() -> None:
    registrar = Registrar()
    apply(registrar, register("<sip:ann@192.0.2.10>", expires=600, cseq=5), 0.0)
    status, _ = apply(registrar, register("<sip:ann@192.0.2.10>", expires=0, cseq=4), 1.0)
    assert status == 500
    assert contacts_of(registrar, 1.0) == ["sip:ann@192.0.2.10"]
    # Another Call-ID (another phone, or a rebooted one) is not ordered against it.
    status, _ = apply(
        registrar, register("<sip:ann@192.0.2.10>", expires=0, call_id="other", cseq=1), 1.0
    )
    assert status == 200
    assert contacts_of(registrar, 1.0) == []


def test_a_refresh_keeps_one_binding_per_contact_uri() -> None:
    registrar = Registrar()
    apply(registrar, register("<sip:ann@192.0.2.10>", expires=100), 0.0)
    apply(registrar, register("<sip:ann@192.0.2.10>", expires=100, cseq=2), 50.0)
    bindings = registrar.lookup(AOR, 120.0)
    assert [b.cseq for b in bindings] == [2]
    assert bindings[0].source == SOURCE


def test_more_bindings_than_allowed_are_refused_and_expired_ones_make_room() -> None:
    registrar = Registrar(max_bindings=2)
    apply(registrar, register("<sip:ann@192.0.2.10>", "<sip:ann@192.0.2.11>", expires=100), 0.0)
    status, _ = apply(registrar, register("<sip:ann@192.0.2.12>", expires=100, cseq=2), 1.0)
    assert status == 403
    assert len(contacts_of(registrar, 1.0)) == 2
    status, _ = apply(registrar, register("<sip:ann@192.0.2.12>", expires=100, cseq=3), 100.0)
    assert status == 200
    assert contacts_of(registrar, 100.0) == ["sip:ann@192.0.2.12"]


def test_a_malformed_expires_is_a_400_not_an_exception() -> None:
    registrar = Registrar()
    assert apply(registrar, register("<sip:ann@192.0.2.10>;expires=soon"), 0.0)[0] == 400
    assert apply(registrar, register("<sip:ann@192.0.2.10>", expires=-1), 0.0)[0] == 400


def test_expire_sweeps_every_aor() -> None:
    registrar = Registrar()
    apply(registrar, register("<sip:ann@192.0.2.10>", expires=100), 0.0)
    assert registrar.expire(50.0) == 0
    assert registrar.expire(100.0) == 1
    assert len(registrar) == 0
