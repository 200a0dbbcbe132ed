"""Identity normalisation and name keys: the same customer is found however they are written."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trunkline.crm.contacts import prefix_end, search_prefixes
from trunkline.crm.errors import InvalidIdentityError
from trunkline.crm.identity import name_words, normalise, search_key
from trunkline.crm.model import Identity, IdentityKind

LONDON = "+442079460018"
WASHINGTON = "+12025550123"


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("020 7946 0018", "GB", LONDON),  # national, read in the default region
        ("02079460018", "gb", LONDON),  # region case does not matter
        ("(020) 7946-0018", "GB", LONDON),
        ("+44 20 7946 0018", "US", LONDON),  # international: the region is irrelevant
        ("+44 (0)20 7946 0018", "US", LONDON),  # the UK's "(0)" habit
        ("0044 20 7946 0018", "US", LONDON),  # 00 as the international prefix
        ("  +44-20-7946-0018  ", "FR", LONDON),
        ("tel:+44-20-7946-0018", "US", LONDON),
        ("TEL:+442079460018", "US", LONDON),
        ("sip:+442079460018@pbx.example.com;user=phone", "US", LONDON),
        ("(202) 555-0123", "US", WASHINGTON),
        ("202.555.0123", "US", WASHINGTON),
        ("1-202-555-0123", "US", WASHINGTON),
        ("+1 202 555 0123", "GB", WASHINGTON),
    ],
)
def test_phone_numbers_become_e164(raw: str, region: str, expected: str) -> None:
    assert normalise(IdentityKind.PHONE, raw, region=region) == Identity(
        IdentityKind.PHONE, expected
    )


@pytest.mark.parametrize("raw", ["abc", "12", "", "   ", "+", "tel:", "+44", "not a number 0"])
def test_what_is_not_a_phone_number_is_refused(raw: str) -> None:
    with pytest.raises(InvalidIdentityError) as caught:
        normalise("phone", raw, region="GB")
    assert caught.value.details["kind"] == "phone"


def test_a_normalised_phone_number_normalises_to_itself() -> None:
    for region in ("GB", "US", "FR", "DE"):
        assert normalise("phone", LONDON, region=region).value == LONDON


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("John.Smith@Example.COM", "john.smith@example.com"),
        ("  jane@example.org\t", "jane@example.org"),
        ("mailto:Info@Example.com", "info@example.com"),
        ("<sales@example.com>", "sales@example.com"),
    ],
)
def test_email_addresses_are_trimmed_and_lower_cased(raw: str, expected: str) -> None:
    assert normalise("email", raw, region="GB") == Identity(IdentityKind.EMAIL, expected)


@pytest.mark.parametrize("raw", ["no-at-sign", "a@b", "a b@c.de", "a@@b.com", "", "@b.com"])
def test_what_is_not_an_email_address_is_refused(raw: str) -> None:
    with pytest.raises(InvalidIdentityError):
        normalise("email", raw, region="GB")


def test_account_numbers_lose_separators_and_visitor_ids_are_trimmed() -> None:
    assert normalise("account", " ab-12 34/5.6 ", region="GB").value == "AB123456"
    assert normalise("visitor", "  v-1 ", region="GB").value == "v-1"
    for kind, raw in (("account", " - / "), ("visitor", "   ")):
        with pytest.raises(InvalidIdentityError):
            normalise(kind, raw, region="GB")


def test_unknown_kinds_and_overlong_values_are_refused() -> None:
    with pytest.raises(InvalidIdentityError) as caught:
        normalise("fax", "123", region="GB")
    assert "phone" in caught.value.details["allowed"]
    with pytest.raises(InvalidIdentityError):
        normalise("email", "a" * 250 + "@example.com", region="GB")


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("  Zoë  O'Brien", "zoe o'brien"),
        ("ÅSA Müller", "asa muller"),
        ("Straße", "strasse"),
        ("José\tMaría", "jose maria"),
        ("", ""),
    ],
)
def test_search_keys_ignore_accents_case_and_spacing(name: str, key: str) -> None:
    assert search_key(name) == key


def test_name_words_are_the_distinct_searchable_words() -> None:
    assert name_words("Zoë O'Brien-Smith") == ["brien", "o", "smith", "zoe"]
    assert name_words("John JOHN john") == ["john"]
    assert name_words("  -- ") == []


def test_search_prefixes_drop_words_implied_by_longer_ones() -> None:
    assert search_prefixes("smi jo") == ["jo", "smi"]
    assert search_prefixes("Jo JOHN") == ["john"]
    assert search_prefixes("Zoë") == ["zoe"]
    assert search_prefixes(" !! ") == []


@given(st.text(min_size=1), st.text())
def test_prefix_end_bounds_exactly_the_strings_with_that_prefix(prefix: str, text: str) -> None:
    end = prefix_end(prefix)
    for candidate in (text, prefix + text):
        in_range = prefix <= candidate and (end is None or candidate < end)
        assert in_range == candidate.startswith(prefix)


def test_prefix_end_skips_surrogates_and_has_no_bound_past_the_last_code_point() -> None:
    assert prefix_end("smi") == "smj"
    assert prefix_end("a\ud7ff") == "a\ue000"
    assert prefix_end("a\U0010ffff") == "b"
    assert prefix_end("\U0010ffff") is None
