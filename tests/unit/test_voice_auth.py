"""Digest authentication of agents' phones (the glue between DigestServer and SIP answers),
on an injected clock: 401 with SHA-256 then MD5, 403 after a wrong password, stale nonces."""

from __future__ import annotations

from types import MappingProxyType

from trunkline.config.loader import SipCredentials
from trunkline.sip.digest import DigestChallenge, DigestClient, ha1
from trunkline.sip.message import Request, Response, parse_message
from trunkline.voice.auth import SipAuthenticator

REALM = "trunkline"
SECRET = b"0123456789abcdef0123456789abcdef"
CREDENTIALS = MappingProxyType(
    {
        "ann": SipCredentials(
            agent_id="ann",
            ha1=MappingProxyType(
                {
                    "SHA-256": ha1("ann", REALM, "ann-sip", "SHA-256"),
                    "MD5": ha1("ann", REALM, "ann-sip", "MD5"),
                }
            ),
        ),
        "bob": SipCredentials(
            agent_id="bob", ha1=MappingProxyType({"MD5": ha1("bob", REALM, "bob-sip", "MD5")})
        ),
    }
)


def authenticator(
    *, nonce_ttl_s: float = 300, algorithms: tuple[str, ...] = ("SHA-256", "MD5")
) -> SipAuthenticator:
    return SipAuthenticator(
        REALM, lambda: CREDENTIALS, secret=SECRET, nonce_ttl_s=nonce_ttl_s, algorithms=algorithms
    )


def register(authorization: str | None = None, *, user: str = "ann") -> Request:
    lines = [
        "REGISTER sip:trunkline SIP/2.0",
        "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-auth",
        f"From: <sip:{user}@trunkline>;tag=abc",
        f"To: <sip:{user}@trunkline>",
        "Call-ID: auth-1",
        "CSeq: 1 REGISTER",
        "Contact: <sip:phone@192.0.2.10>",
    ]
    if authorization is not None:
        lines.append(f"Authorization: {authorization}")
    lines += ["Content-Length: 0", "", ""]
    message = parse_message("\r\n".join(lines).encode())
    assert isinstance(message, Request)
    return message


def challenges(response: Response) -> list[DigestChallenge]:
    return [DigestChallenge.parse(v) for v in response.headers.get_all("WWW-Authenticate")]


def credentials_for(
    response: Response, username: str, password: str, algorithm: str | None = None
) -> str:
    values = response.headers.get_all("WWW-Authenticate")
    if algorithm is not None:
        values = [v for v in values if DigestChallenge.parse(v).algorithm == algorithm]
    return DigestClient().authorization(
        values, method="REGISTER", uri="sip:trunkline", username=username, password=password
    )


def test_no_credentials_get_a_401_offering_sha256_first_then_md5() -> None:
    result = authenticator().check(register(), user="ann", now=1000.0)
    assert not result.ok and result.response is not None
    assert result.response.status == 401
    offered = challenges(result.response)
    assert [c.algorithm for c in offered] == ["SHA-256", "MD5"]
    assert all(c.realm == REALM and c.qop == ("auth",) and not c.stale for c in offered)
    # One nonce for both, so a phone may pick either.
    assert len({c.nonce for c in offered}) == 1


def test_the_challenge_order_can_put_md5_first_for_old_phones() -> None:
    auth = authenticator(algorithms=("MD5", "SHA-256"))
    result = auth.check(register(), user="ann", now=1000.0)
    assert result.response is not None
    assert [c.algorithm for c in challenges(result.response)] == ["MD5", "SHA-256"]


def test_the_right_password_authenticates_with_either_algorithm() -> None:
    for algorithm in ("SHA-256", "MD5"):
        auth = authenticator()
        first = auth.check(register(), user="ann", now=1000.0).response
        assert first is not None
        value = credentials_for(first, "ann", "ann-sip", algorithm)
        assert algorithm in value
        result = auth.check(register(value), user="ann", now=1001.0)
        assert result.ok and result.agent_id == "ann", algorithm


def test_a_wrong_password_after_a_valid_challenge_gets_403() -> None:
    auth = authenticator()
    first = auth.check(register(), user="ann", now=1000.0).response
    assert first is not None
    result = auth.check(register(credentials_for(first, "ann", "guess")), user="ann", now=1001.0)
    assert result.response is not None and result.response.status == 403


def test_an_agent_without_sip_credentials_or_an_unknown_user_gets_403() -> None:
    auth = authenticator()
    first = auth.check(register(user="zoe"), user="zoe", now=1000.0).response
    assert first is not None
    value = credentials_for(first, "zoe", "anything")
    result = auth.check(register(value, user="zoe"), user="zoe", now=1001.0)
    assert result.response is not None and result.response.status == 403


def test_valid_credentials_for_another_aor_get_403() -> None:
    auth = authenticator()
    first = auth.check(register(user="ann"), user="ann", now=1000.0).response
    assert first is not None
    bobs = credentials_for(first, "bob", "bob-sip", "MD5")
    result = auth.check(register(bobs, user="ann"), user="ann", now=1001.0)
    assert result.response is not None and result.response.status == 403


def test_an_old_nonce_with_the_right_password_gets_401_stale_true() -> None:
    auth = authenticator(nonce_ttl_s=300)
    first = auth.check(register(), user="ann", now=1000.0).response
    assert first is not None
    value = credentials_for(first, "ann", "ann-sip")
    result = auth.check(register(value), user="ann", now=1000.0 + 301)
    assert result.response is not None and result.response.status == 401
    offered = challenges(result.response)
    assert offered and all(c.stale for c in offered)
    # The fresh nonce works without asking the user again.
    retry = credentials_for(result.response, "ann", "ann-sip")
    assert auth.check(register(retry), user="ann", now=1000.0 + 302).ok


def test_a_replayed_authorization_is_challenged_again() -> None:
    auth = authenticator()
    first = auth.check(register(), user="ann", now=1000.0).response
    assert first is not None
    value = credentials_for(first, "ann", "ann-sip")
    assert auth.check(register(value), user="ann", now=1001.0).ok
    again = auth.check(register(value), user="ann", now=1002.0)
    assert again.response is not None and again.response.status == 401


def test_a_nonce_we_did_not_issue_is_challenged_again_not_refused() -> None:
    forged = authenticator()
    other = SipAuthenticator(REALM, lambda: CREDENTIALS, secret=b"another secret of 32 bytes......")
    first = other.check(register(), user="ann", now=1000.0).response
    assert first is not None
    value = credentials_for(first, "ann", "ann-sip")
    result = forged.check(register(value), user="ann", now=1001.0)
    assert result.response is not None and result.response.status == 401
