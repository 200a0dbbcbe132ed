"""Normalising identities and names, so the same customer is found however they are written.

Phone numbers become E.164 (``phonenumbers``, with a default region for national
numbers); e-mail addresses are trimmed and lower-cased; account numbers lose spaces and
dashes and are upper-cased; visitor ids are kept as given, trimmed.
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

from trunkline.crm.errors import InvalidIdentityError
from trunkline.crm.model import Identity, IdentityKind

MAX_IDENTITY_LENGTH = 254  # the longest valid e-mail address
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_ACCOUNT_NOISE_RE = re.compile(r"[\s\-/.]")
_WORD_RE = re.compile(r"\w+")


def normalise_phone(raw: str, region: str) -> str:
    """E.164 form of ``raw`` (``+441632960123``); national numbers are read in ``region``."""
    text = raw.strip()
    if text.lower().startswith(("tel:", "sip:")):
        # A SIP URI's user part: "sip:+441632960123@host;user=phone".
        text = text[4:].split("@", 1)[0].split(";", 1)[0]
    if text.startswith("00"):
        text = "+" + text[2:]  # the international prefix used across most of the world
    try:
        number = phonenumbers.parse(text, region.upper() or None)
    except phonenumbers.NumberParseException:
        raise InvalidIdentityError(
            f"{raw!r} is not a phone number", details={"kind": "phone", "value": raw}
        ) from None
    if not phonenumbers.is_possible_number(number):
        raise InvalidIdentityError(
            f"{raw!r} is not a possible phone number", details={"kind": "phone", "value": raw}
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(raw: str) -> str:
    text = raw.strip()
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:") :]
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1].strip()
    if not _EMAIL_RE.fullmatch(text):
        raise InvalidIdentityError(
            f"{raw!r} is not an e-mail address", details={"kind": "email", "value": raw}
        )
    # The local part is case-sensitive in theory and never in practice; lower-casing it
    # is what every CRM and mail provider does when matching senders.
    return text.lower()


def normalise_account(raw: str) -> str:
    text = _ACCOUNT_NOISE_RE.sub("", raw).upper()
    if not text:
        raise InvalidIdentityError(
            "an account number cannot be empty", details={"kind": "account", "value": raw}
        )
    return text


def normalise_visitor(raw: str) -> str:
    text = raw.strip()
    if not text:
        raise InvalidIdentityError(
            "a visitor id cannot be empty", details={"kind": "visitor", "value": raw}
        )
    return text


def normalise(kind: IdentityKind | str, raw: str, *, region: str) -> Identity:
    """The normalised identity; :class:`InvalidIdentityError` if ``raw`` cannot be one."""
    try:
        kind = IdentityKind(kind)
    except ValueError:
        allowed = [k.value for k in IdentityKind]
        raise InvalidIdentityError(
            f"unknown identity kind {kind!r}", details={"kind": kind, "allowed": allowed}
        ) from None
    if not isinstance(raw, str) or len(raw) > MAX_IDENTITY_LENGTH:
        raise InvalidIdentityError(
            f"a {kind.value} identity is a string of at most {MAX_IDENTITY_LENGTH} characters",
            details={"kind": kind.value},
        )
    match kind:
        case IdentityKind.PHONE:
            value = normalise_phone(raw, region)
        case IdentityKind.EMAIL:
            value = normalise_email(raw)
        case IdentityKind.ACCOUNT:
            value = normalise_account(raw)
        case IdentityKind.VISITOR:
            value = normalise_visitor(raw)
    return Identity(kind, value)


def search_key(text: str) -> str:
    """Accents stripped, case folded, spaces collapsed: "  Zoë  O'Brien" → "zoe o'brien"."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


def name_words(name: str) -> list[str]:
    """The distinct searchable words of a name ("Zoë O'Brien-Smith" → zoe, o, brien, smith)."""
    return sorted(set(_WORD_RE.findall(search_key(name))))
