"""Digest authentication without I/O: RFC 7616 vectors, client/server round trips, attacks."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trunkline.sip.digest import (
    DigestChallenge,
    DigestClient,
    DigestCredentials,
    DigestError,
    DigestReason,
    DigestServer,
    compute_response,
    format_params,
    ha1,
    parse_params,
)

REALM = "sip.example.com"
SECRET = b"0123456789abcdef0123456789abcdef"
USERS = {"agent1": "s3cret!", "agent2": "Zebra horse"}
URI = "sip:sip.example.com;transport=tcp"
T0 = 1_700_000_000.0


def lookup(username: str, realm: str, algorithm: str) -> str | None:
    password = USERS.get(username)
    return None if password is None else ha1(username, realm, password, algorithm)


def counter_bytes() -> Callable[[int], bytes]:
    """Deterministic stand-in for secrets.token_bytes."""
    counter = itertools.count()
    return lambda n: next(counter).to_bytes(n, "big")


def server(**kwargs: object) -> DigestServer:
    return DigestServer(REALM, SECRET, random_bytes=counter_bytes(), **kwargs)  # type: ignore[arg-type]


def answer(
    srv: DigestServer,
    *,
    username: str = "agent1",
    password: str | None = None,
    method: str = "REGISTER",
    issued: float = T0,
) -> str:
    """The Authorization value a client sends for a fresh challenge from ``srv``."""
    return DigestClient().authorization(
        srv.challenge(issued),
        method=method,
        uri=URI,
        username=username,
        password=USERS.get(username, "x") if password is None else password,
    )


def login(
    srv: DigestServer,
    *,
    username: str = "agent1",
    password: str | None = None,
    method: str = "REGISTER",
    issued: float = T0,
    used: float = T0 + 1,
) -> tuple[DigestReason, str]:
    value = answer(srv, username=username, password=password, method=method, issued=issued)
    result = srv.verify(value, method=method, now=used, ha1_lookup=lookup)
    return result.reason, value


# --- RFC 7616 §3.9.1 --------------------------------------------------------------------------

RFC_NONCE = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
RFC_CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
RFC_OPAQUE = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
RFC_USER, RFC_REALM, RFC_PASSWORD = "Mufasa", "http-auth@example.org", "Circle of Life"
# The responses printed in RFC 7616 §3.9.1, also recomputed independently below.
RFC_RESPONSES = {
    "MD5": "8ca523f5e9506fed4657c9700eebdbec",
    "SHA-256": "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
}


def independent_response(hash_name: str) -> str:
    def h(text: str) -> str:
        return hashlib.new(hash_name, text.encode()).hexdigest()

    a1 = h(f"{RFC_USER}:{RFC_REALM}:{RFC_PASSWORD}")
    a2 = h("GET:/dir/index.html")
    return h(f"{a1}:{RFC_NONCE}:00000001:{RFC_CNONCE}:auth:{a2}")


@pytest.mark.parametrize(("algorithm", "hash_name"), [("MD5", "md5"), ("SHA-256", "sha256")])
def test_rfc_7616_example(algorithm: str, hash_name: str) -> None:
    key = ha1(RFC_USER, RFC_REALM, RFC_PASSWORD, algorithm)
    response = compute_response(
        algorithm=algorithm,
        ha1_hex=key,
        nonce=RFC_NONCE,
        method="GET",
        uri="/dir/index.html",
        qop="auth",
        nc="00000001",
        cnonce=RFC_CNONCE,
    )
    assert response == independent_response(hash_name) == RFC_RESPONSES[algorithm]

    challenge = (
        f'Digest realm="{RFC_REALM}", qop="auth, auth-int", algorithm={algorithm}, '
        f'nonce="{RFC_NONCE}", opaque="{RFC_OPAQUE}"'
    )
    value = DigestClient(cnonce_factory=lambda: RFC_CNONCE).authorization(
        challenge,
        method="GET",
        uri="/dir/index.html",
        username=RFC_USER,
        password=RFC_PASSWORD,
    )
    credentials = DigestCredentials.parse(value)
    assert credentials.response == RFC_RESPONSES[algorithm]
    assert (credentials.nc, credentials.qop, credentials.opaque) == ("00000001", "auth", RFC_OPAQUE)
    assert credentials.algorithm == algorithm


def test_sess_and_qopless_forms_match_independent_hashes() -> None:
    def h(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    key = h("bob:r:pw")
    assert compute_response(
        algorithm="MD5-sess",
        ha1_hex=key,
        nonce="n",
        method="INVITE",
        uri="sip:x",
        qop="auth",
        nc="00000002",
        cnonce="c",
    ) == h(f"{h(f'{key}:n:c')}:n:00000002:c:auth:{h('INVITE:sip:x')}")
    # RFC 2069 form, which RFC 3261 §22.4 keeps for servers that send no qop.
    assert compute_response(
        algorithm="md5", ha1_hex=key.upper(), nonce="n", method="INVITE", uri="sip:x", qop=None
    ) == h(f"{key}:n:{h('INVITE:sip:x')}")


def test_ha1_for_sess_is_the_base_hash() -> None:
    assert ha1("u", "r", "p", "SHA-256-sess") == hashlib.sha256(b"u:r:p").hexdigest()
    with pytest.raises(DigestError):
        ha1("u", "r", "p", "SHA-512-256")


# --- server challenges ------------------------------------------------------------------------


def test_challenge_offers_sha256_first_with_one_stateless_nonce() -> None:
    values = server(opaque="op").challenge(T0)
    sha, md5 = (DigestChallenge.parse(v) for v in values)
    assert (sha.algorithm, md5.algorithm) == ("SHA-256", "MD5")
    assert sha.nonce == md5.nonce and len(sha.nonce) == 64
    assert (sha.realm, sha.qop, sha.opaque, sha.stale) == (REALM, ("auth",), "op", False)
    assert values[0].startswith(f'Digest realm="{REALM}", nonce="')
    assert values[0].endswith('opaque="op", qop="auth", algorithm=SHA-256')


def test_challenge_stale_flag_and_algorithm_choice() -> None:
    srv = server()
    (value,) = srv.challenge(T0, stale=True, algorithms=["md5"])
    assert value.endswith("algorithm=MD5, stale=TRUE")
    assert DigestChallenge.parse(value).stale is True
    with pytest.raises(ValueError):
        server(algorithms=("MD5",)).challenge(T0, algorithms=("SHA-256",))


def test_nonces_differ_between_challenges_even_in_the_same_millisecond() -> None:
    srv = DigestServer(REALM, SECRET)
    nonces = {DigestChallenge.parse(srv.challenge(T0)[0]).nonce for _ in range(50)}
    assert len(nonces) == 50


def test_server_refuses_weak_configuration() -> None:
    with pytest.raises(ValueError):
        DigestServer(REALM, b"short")
    with pytest.raises(ValueError):
        DigestServer(REALM, SECRET, algorithms=())
    with pytest.raises(DigestError):
        DigestServer(REALM, SECRET, algorithms=("SHA-1",))


# --- verification -----------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["REGISTER", "INVITE"])
def test_round_trip_succeeds_with_sha256(method: str) -> None:
    srv = server()
    reason, value = login(srv, method=method)
    assert reason is DigestReason.OK
    assert "algorithm=SHA-256" in value
    # A nonce from another instance with the same secret is fine (stateless nonces).
    _, other = login(server(), method=method, issued=T0 + 5)
    result = srv.verify(other, method=method, now=T0 + 6, ha1_lookup=lookup)
    assert result.ok and result.username == "agent1" and result.algorithm == "SHA-256"


def test_md5_only_server_and_sess_variants_round_trip() -> None:
    for algorithms in (("MD5",), ("MD5-sess",), ("SHA-256-sess",)):
        srv = server(algorithms=algorithms)
        reason, value = login(srv, username="agent2")
        assert reason is DigestReason.OK, algorithms
        assert f"algorithm={algorithms[0]}" in value


def test_wrong_password_unknown_user_and_wrong_method() -> None:
    assert login(server(), password="guess")[0] is DigestReason.WRONG_PASSWORD
    assert login(server(), username="mallory")[0] is DigestReason.UNKNOWN_USER
    srv = server()
    value = DigestClient().authorization(
        srv.challenge(T0), method="REGISTER", uri=URI, username="agent1", password="s3cret!"
    )
    # The response covers the method: a REGISTER answer cannot authorise an INVITE.
    result = srv.verify(value, method="INVITE", now=T0, ha1_lookup=lookup)
    assert result.reason is DigestReason.WRONG_PASSWORD


def test_expired_nonce_is_stale_only_when_the_password_was_right() -> None:
    assert login(server(), used=T0 + 299)[0] is DigestReason.OK
    srv = server()
    reason, _ = login(srv, used=T0 + 301)
    assert reason is DigestReason.STALE
    result = srv.verify(login(srv)[1], method="REGISTER", now=T0 + 301, ha1_lookup=lookup)
    assert result.stale and result.username == "agent1"
    assert login(server(), password="guess", used=T0 + 301)[0] is DigestReason.WRONG_PASSWORD
    # The caller re-challenges with stale=TRUE; the client answers without a new password.
    (fresh,) = srv.challenge(T0 + 301, stale=True, algorithms=["SHA-256"])
    value = DigestClient().authorization(
        fresh, method="REGISTER", uri=URI, username="agent1", password="s3cret!"
    )
    assert srv.verify(value, method="REGISTER", now=T0 + 302, ha1_lookup=lookup).ok


def test_nonce_from_the_future_is_refused() -> None:
    srv = server()
    reason, _ = login(srv, issued=T0 + 3600, used=T0)
    assert reason is DigestReason.BAD_NONCE


def test_tampered_foreign_and_garbage_nonces_are_refused() -> None:
    srv = server()
    _, value = login(srv)
    nonce = DigestCredentials.parse(value).nonce
    # Move the timestamp forward one millisecond without re-signing.
    later = f"{int(nonce[:16], 16) + 1:016x}" + nonce[16:]
    assert (
        srv.verify(value.replace(nonce, later), method="REGISTER", now=T0, ha1_lookup=lookup).reason
        is DigestReason.BAD_NONCE
    )
    other_secret = DigestServer(REALM, b"another secret of 32 bytes......")
    _, foreign = login(other_secret)
    assert srv.verify(foreign, method="REGISTER", now=T0, ha1_lookup=lookup).reason is (
        DigestReason.BAD_NONCE
    )
    other_realm = DigestServer("other.example.com", SECRET)
    (challenge,) = other_realm.challenge(T0, algorithms=["MD5"])
    forged = challenge.replace("other.example.com", REALM)
    value = DigestClient().authorization(
        forged, method="REGISTER", uri=URI, username="agent1", password="s3cret!"
    )
    assert srv.verify(value, method="REGISTER", now=T0, ha1_lookup=lookup).reason is (
        DigestReason.BAD_NONCE
    )
    garbage = value.replace(DigestCredentials.parse(value).nonce, "abc")
    assert srv.verify(garbage, method="REGISTER", now=T0, ha1_lookup=lookup).reason is (
        DigestReason.BAD_NONCE
    )


def test_replayed_nonce_count_is_refused_and_higher_counts_accepted() -> None:
    srv = server()
    client = DigestClient()
    challenges = srv.challenge(T0)

    def send(nc: int | None = None) -> DigestReason:
        value = client.authorization(
            challenges, method="REGISTER", uri=URI, username="agent1", password="s3cret!", nc=nc
        )
        return srv.verify(value, method="REGISTER", now=T0 + 1, ha1_lookup=lookup).reason

    first = client.authorization(
        challenges, method="REGISTER", uri=URI, username="agent1", password="s3cret!"
    )
    assert srv.verify(first, method="REGISTER", now=T0 + 1, ha1_lookup=lookup).ok
    assert srv.verify(first, method="REGISTER", now=T0 + 2, ha1_lookup=lookup).reason is (
        DigestReason.REPLAYED
    )
    assert send() is DigestReason.OK  # the client counted on to 00000002
    assert send(nc=2) is DigestReason.REPLAYED
    assert send(nc=1) is DigestReason.REPLAYED
    assert send(nc=10) is DigestReason.OK


def test_a_wrong_guess_does_not_poison_the_replay_memory() -> None:
    srv = server()
    challenges = srv.challenge(T0)
    bad = DigestClient().authorization(
        challenges, method="REGISTER", uri=URI, username="agent1", password="no", nc=99
    )
    assert srv.verify(bad, method="REGISTER", now=T0, ha1_lookup=lookup).reason is (
        DigestReason.WRONG_PASSWORD
    )
    good = DigestClient().authorization(
        challenges, method="REGISTER", uri=URI, username="agent1", password="s3cret!"
    )
    assert srv.verify(good, method="REGISTER", now=T0, ha1_lookup=lookup).ok


def test_replay_memory_is_bounded_and_forgotten_nonces_turn_stale() -> None:
    srv = server(replay_capacity=3)
    values = []
    for i in range(5):
        reason, value = login(srv, issued=T0 + i, used=T0 + 10)
        assert reason is DigestReason.OK
        values.append(value)
    # The first two nonces were forgotten: a replay of them is not accepted but stale.
    for value in values[:2]:
        result = srv.verify(value, method="REGISTER", now=T0 + 11, ha1_lookup=lookup)
        assert result.reason is DigestReason.STALE
    for value in values[2:]:
        result = srv.verify(value, method="REGISTER", now=T0 + 11, ha1_lookup=lookup)
        assert result.reason is DigestReason.REPLAYED


def test_realm_opaque_algorithm_and_qop_are_enforced() -> None:
    srv = server(opaque="op", algorithms=("SHA-256",))
    value = answer(srv)

    def verify(text: str) -> DigestReason:
        return srv.verify(text, method="REGISTER", now=T0 + 1, ha1_lookup=lookup).reason

    assert verify(value.replace(f'realm="{REALM}"', 'realm="evil"')) is DigestReason.BAD_REALM
    assert verify(value.replace('opaque="op"', 'opaque="no"')) is DigestReason.BAD_NONCE
    assert verify(value.replace("algorithm=SHA-256", "algorithm=MD5")) is (DigestReason.UNSUPPORTED)
    assert verify(value.replace("algorithm=SHA-256", "algorithm=SHA-1")) is (
        DigestReason.UNSUPPORTED
    )
    assert verify(value.replace("qop=auth", "qop=auth-int")) is DigestReason.UNSUPPORTED
    assert verify(value.replace(", qop=auth", "")) is DigestReason.UNSUPPORTED
    assert verify(value.replace("nc=00000001", "nc=1")) is DigestReason.MALFORMED
    assert verify(value.replace("nc=00000001", "nc=00000000")) is DigestReason.MALFORMED
    assert verify(value + ", userhash=true") is DigestReason.UNSUPPORTED
    assert verify(value) is DigestReason.OK


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, DigestReason.MISSING),
        ("   ", DigestReason.MISSING),
        ("Basic YWxhZGRpbjpvcGVuc2VzYW1l", DigestReason.UNSUPPORTED),
        ('Basic realm="x"', DigestReason.UNSUPPORTED),
        ("Digest", DigestReason.MALFORMED),
        ('Digest username="a", realm="b"', DigestReason.MALFORMED),
        ('Digest username="a, realm="b"', DigestReason.MALFORMED),
        ('Digest username="a",, username="b"', DigestReason.MALFORMED),
        ('Digest username="a" realm="b"', DigestReason.MALFORMED),
    ],
)
def test_missing_and_malformed_authorization(value: str | None, reason: DigestReason) -> None:
    result = server().verify(value, method="REGISTER", now=T0, ha1_lookup=lookup)
    assert result.reason is reason and not result.ok


def test_response_is_compared_case_insensitively_and_non_ascii_is_just_wrong() -> None:
    srv = server()
    value = answer(srv)
    response = DigestCredentials.parse(value).response
    upper = value.replace(response, response.upper())
    assert srv.verify(upper, method="REGISTER", now=T0 + 1, ha1_lookup=lookup).ok
    odd = value.replace(response, "é" * 64)
    assert srv.verify(odd, method="REGISTER", now=T0 + 1, ha1_lookup=lookup).reason is (
        DigestReason.WRONG_PASSWORD
    )


# --- client -----------------------------------------------------------------------------------


def test_client_prefers_sha256_whatever_the_order() -> None:
    values = [
        'Digest realm="carrier", nonce="n1", algorithm=MD5, qop="auth"',
        'Digest realm="carrier", nonce="n2", algorithm=SHA-256, qop="auth"',
    ]
    assert DigestClient.select(values).algorithm == "SHA-256"
    assert DigestClient.select(values[:1]).algorithm == "MD5"


def test_client_skips_unusable_challenges() -> None:
    values = [
        'Basic realm="carrier"',
        'Digest realm="carrier", nonce="n0", algorithm=SHA-512-256, qop="auth"',
        'Digest realm="carrier", nonce="n1", algorithm=SHA-256, qop="auth-int"',
        "Digest realm=",
        'Digest realm="carrier", nonce="n2"',
    ]
    chosen = DigestClient.select(values)
    assert (chosen.nonce, chosen.algorithm, chosen.qop) == ("n2", "MD5", ())
    with pytest.raises(DigestError) as caught:
        DigestClient.select(values[:4])
    assert caught.value.error_id == "digest_malformed"
    assert len(caught.value.details["problems"]) == 4


def test_client_answers_qopless_carrier_in_rfc_2069_form() -> None:
    value = DigestClient().authorization(
        'Digest realm="carrier", nonce="abc"',
        method="INVITE",
        uri="sip:+15551234@carrier",
        username="trunk",
        password="pw",
    )
    credentials = DigestCredentials.parse(value)
    assert (credentials.qop, credentials.nc, credentials.cnonce) == (None, None, None)
    key = hashlib.md5(b"trunk:carrier:pw").hexdigest()
    a2 = hashlib.md5(b"INVITE:sip:+15551234@carrier").hexdigest()
    assert credentials.response == hashlib.md5(f"{key}:abc:{a2}".encode()).hexdigest()


def test_client_quotes_awkward_usernames_and_server_reads_them_back() -> None:
    username = 'we"ird\\name, really'
    srv = server()
    value = DigestClient().authorization(
        srv.challenge(T0), method="INVITE", uri=URI, username=username, password="pw"
    )
    assert 'username="we\\"ird\\\\name, really"' in value

    def found(user: str, realm: str, algorithm: str) -> str | None:
        return ha1(user, realm, "pw", algorithm) if user == username else None

    result = srv.verify(value, method="INVITE", now=T0, ha1_lookup=found)
    assert result.ok and result.username == username


def test_client_counts_per_nonce() -> None:
    client = DigestClient(cnonce_factory=lambda: "c")
    challenge = 'Digest realm="r", nonce="n", qop="auth"'
    counts = [
        DigestCredentials.parse(
            client.authorization(
                challenge, method="INVITE", uri="sip:x", username="u", password="p"
            )
        ).nc
        for _ in range(3)
    ]
    assert counts == ["00000001", "00000002", "00000003"]
    with pytest.raises(ValueError):
        client.authorization(
            challenge, method="INVITE", uri="sip:x", username="u", password="p", nc=0
        )


# --- parser -----------------------------------------------------------------------------------


def test_parser_handles_quotes_escapes_commas_and_spacing() -> None:
    scheme, params = parse_params(
        'Digest  realm = "a, \\"b\\" \\\\ c" ,NONCE=abc/+=, qop="auth,auth-int",stale=FALSE'
    )
    assert scheme == "Digest"
    assert params == {
        "realm": 'a, "b" \\ c',
        "nonce": "abc/+=",
        "qop": "auth,auth-int",
        "stale": "FALSE",
    }


@pytest.mark.parametrize(
    "value",
    [
        "",
        "Digest",
        '"Digest" realm="x"',
        "Digest realm",
        "Digest realm=",
        'Digest realm="x',
        'Digest realm="x\\',
        'Digest realm="x" nonce="y"',
        'Digest realm="x", realm="y"',
        'Digest realm="a\nb"',
        "Digest =x",
        'Digest realm="x"junk',
    ],
)
def test_parser_rejects_malformed_lists(value: str) -> None:
    with pytest.raises(DigestError):
        parse_params(value)


def test_formatting_refuses_unquotable_values() -> None:
    with pytest.raises(DigestError):
        format_params("Digest", [("username", "a\r\nb")])
    with pytest.raises(DigestError):
        format_params("Digest", [], [("qop", "a b")])


_NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.", min_size=1, max_size=10)
_VALUES = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs")) | st.sampled_from('\t"\\,= '),
    max_size=20,
)


@settings(max_examples=300, deadline=None)
@given(st.text() | st.text(alphabet='Digest realm="\\,= \tnonce').map(lambda s: "Digest " + s))
def test_arbitrary_strings_raise_only_digest_error(value: str) -> None:
    try:
        parse_params(value)
    except DigestError:
        pass
    try:
        DigestChallenge.parse(value)
    except DigestError:
        pass
    try:
        DigestCredentials.parse(value)
    except DigestError:
        pass
    result = server().verify(value, method="INVITE", now=T0, ha1_lookup=lookup)
    assert not result.ok


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_NAMES, _VALUES, min_size=1, max_size=6))
def test_quoted_parameters_round_trip(params: dict[str, str]) -> None:
    assert parse_params(format_params("Digest", params.items())) == ("Digest", params)


@settings(max_examples=100, deadline=None)
@given(
    username=_VALUES.filter(bool),
    password=_VALUES,
    method=st.sampled_from(["INVITE", "REGISTER", "BYE", "SUBSCRIBE"]),
    algorithm=st.sampled_from(["SHA-256", "MD5", "SHA-256-sess", "MD5-sess"]),
    offset=st.floats(min_value=0, max_value=299),
)
def test_any_user_round_trips(
    username: str, password: str, method: str, algorithm: str, offset: float
) -> None:
    srv = server(algorithms=(algorithm,))
    value = DigestClient().authorization(
        srv.challenge(T0), method=method, uri=URI, username=username, password=password
    )

    def found(user: str, realm: str, alg: str) -> str | None:
        return ha1(user, realm, password, alg) if user == username else None

    result = srv.verify(value, method=method, now=T0 + offset, ha1_lookup=found)
    assert result.ok and result.username == username
