"""G.711 against the values printed in ITU-T G.711, exhaustively over every input."""

from __future__ import annotations

import struct
from array import array
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trunkline.media import (
    PCMA,
    PCMU,
    MediaError,
    UnknownCodecError,
    alaw_decode,
    alaw_encode,
    codec_by_name,
    codec_by_payload_type,
    ulaw_decode,
    ulaw_encode,
)

# --- ITU-T G.711 reconstruction levels -----------------------------------------------------
#
# G.711 Table 2a (µ-law) gives decoder outputs on a 14-bit scale: per segment a first level
# and a step, 16 levels a segment, up to 8031. Table 1a (A-law) does the same on a 13-bit
# scale, up to 4032. A 16-bit implementation outputs them times 4 and times 8.
ULAW_SEGMENTS = [(0, 2), (33, 4), (99, 8), (231, 16), (495, 32), (1023, 64), (2079, 128),
                 (4191, 256)]  # fmt: skip
ALAW_SEGMENTS = [(1, 2), (33, 2), (66, 4), (132, 8), (264, 16), (528, 32), (1056, 64),
                 (2112, 128)]  # fmt: skip


def g711_ulaw_table() -> dict[int, int]:
    """Code -> 16-bit value. On the wire µ-law codes are inverted; 0x80 is the sign."""
    table = {}
    for segment, (first, step) in enumerate(ULAW_SEGMENTS):
        for level in range(16):
            value = 4 * (first + level * step)
            table[0xFF - (segment << 4 | level)] = value
            table[0x7F - (segment << 4 | level)] = -value
    return table


def g711_alaw_table() -> dict[int, int]:
    """Code -> 16-bit value. A-law codes have their even bits inverted (XOR 0x55)."""
    table = {}
    for segment, (first, step) in enumerate(ALAW_SEGMENTS):
        for level in range(16):
            value = 8 * (first + level * step)
            table[(0x80 | segment << 4 | level) ^ 0x55] = value
            table[(segment << 4 | level) ^ 0x55] = -value
    return table


def pcm(*samples: int) -> bytes:
    return struct.pack(f"<{len(samples)}h", *samples)


def samples_of(data: bytes) -> list[int]:
    return list(struct.unpack(f"<{len(data) // 2}h", data))


Transcode = Callable[[bytes], bytes]
ALL_CODES = bytes(range(256))
ALL_SAMPLES = list(range(-32768, 32768))


def test_ulaw_decodes_every_code_to_the_level_g711_prints() -> None:
    expected = g711_ulaw_table()
    assert len(expected) == 256
    decoded = samples_of(ulaw_decode(ALL_CODES))
    assert {code: decoded[code] for code in range(256)} == expected


def test_alaw_decodes_every_code_to_the_level_g711_prints() -> None:
    expected = g711_alaw_table()
    assert len(expected) == 256
    decoded = samples_of(alaw_decode(ALL_CODES))
    assert {code: decoded[code] for code in range(256)} == expected


@pytest.mark.parametrize(
    ("decode", "code", "value"),
    [
        (ulaw_decode, 0xFF, 0),
        (ulaw_decode, 0x7F, 0),  # µ-law has a negative zero
        (ulaw_decode, 0x80, 32124),  # full scale, 8031 * 4
        (ulaw_decode, 0x00, -32124),
        (alaw_decode, 0xD5, 8),  # A-law has no zero: the smallest levels are +-1/2 step
        (alaw_decode, 0x55, -8),
        (alaw_decode, 0xAA, 32256),  # full scale, 4032 * 8
        (alaw_decode, 0x2A, -32256),
    ],
)
def test_well_known_codes(decode: Transcode, code: int, value: int) -> None:
    assert samples_of(decode(bytes([code]))) == [value]


@pytest.mark.parametrize(
    ("encode", "sample", "code"),
    [
        (ulaw_encode, 0, 0xFF),
        (ulaw_encode, -1, 0x7F),
        (ulaw_encode, 32767, 0x80),
        (ulaw_encode, -32768, 0x00),
        (alaw_encode, 0, 0xD5),
        (alaw_encode, -1, 0x55),
        (alaw_encode, 32767, 0xAA),
        (alaw_encode, -32768, 0x2A),
    ],
)
def test_silence_and_full_scale_encode_to_the_expected_codes(
    encode: Transcode, sample: int, code: int
) -> None:
    assert encode(pcm(sample)) == bytes([code])


@pytest.mark.parametrize(
    ("encode", "decode", "segments", "scale"),
    [
        (ulaw_encode, ulaw_decode, ULAW_SEGMENTS, 4),
        (alaw_encode, alaw_decode, ALAW_SEGMENTS, 8),
    ],
    ids=["ulaw", "alaw"],
)
def test_every_16_bit_sample_comes_back_within_half_a_quantisation_step(
    encode: Transcode, decode: Transcode, segments: list[tuple[int, int]], scale: int
) -> None:
    back = samples_of(decode(encode(pcm(*ALL_SAMPLES))))
    top_first, top_step = segments[-1]
    full_scale = scale * (top_first + 15 * top_step)
    steps = {}  # magnitude of a level -> step of its segment
    for first, step in segments:
        for level in range(16):
            steps[scale * (first + level * step)] = scale * step
    for sample, value in zip(ALL_SAMPLES, back, strict=True):
        error = abs(sample - value)
        if abs(value) == full_scale and abs(sample) >= full_scale:
            continue  # clipped beyond the last level
        assert error <= steps[abs(value)] // 2, (sample, value)


@pytest.mark.parametrize(
    ("encode", "decode", "levels"),
    # µ-law's two zero codes decode alike, so it has 255 distinct levels.
    [(ulaw_encode, ulaw_decode, 255), (alaw_encode, alaw_decode, 256)],
    ids=["ulaw", "alaw"],
)
def test_the_companding_curve_is_monotonic_and_reaches_every_level(
    encode: Transcode, decode: Transcode, levels: int
) -> None:
    back = samples_of(decode(encode(pcm(*ALL_SAMPLES))))
    assert all(a <= b for a, b in zip(back, back[1:], strict=False))
    assert len(set(back)) == levels


def test_every_ulaw_code_survives_decode_then_encode_but_negative_zero() -> None:
    again = ulaw_encode(ulaw_decode(ALL_CODES))
    mismatched = [code for code in range(256) if again[code] != code]
    assert mismatched == [0x7F]
    assert again[0x7F] == 0xFF  # -0 decodes to 0, which encodes as +0


def test_every_alaw_code_survives_decode_then_encode() -> None:
    assert alaw_encode(alaw_decode(ALL_CODES)) == ALL_CODES


@given(st.lists(st.integers(-32768, 32767), max_size=400))
def test_a_whole_frame_encodes_like_its_samples_one_by_one(samples: list[int]) -> None:
    data = pcm(*samples)
    for encode in (ulaw_encode, alaw_encode):
        assert encode(data) == b"".join(encode(pcm(s)) for s in samples)


def test_lengths_and_native_buffers() -> None:
    frame = array("h", range(-80, 80))
    assert len(ulaw_encode(frame.tobytes())) == 160
    assert len(alaw_decode(bytes(160))) == 320
    assert ulaw_encode(b"") == b"" and ulaw_decode(b"") == b""
    assert ulaw_encode(bytearray(pcm(0, 0))) == b"\xff\xff"


def test_odd_length_pcm_is_refused() -> None:
    with pytest.raises(MediaError, match="even length"):
        alaw_encode(b"\x00\x00\x00")


def test_codecs_are_found_by_sdp_name_and_static_payload_type() -> None:
    assert codec_by_name("PCMU") is PCMU
    assert codec_by_name("pcma") is PCMA  # RFC 4855: encoding names are case-insensitive
    assert codec_by_payload_type(0) is PCMU and codec_by_payload_type(8) is PCMA
    assert PCMU.clock_rate == PCMA.clock_rate == 8000
    assert (PCMU.silence, PCMA.silence) == (0xFF, 0xD5)
    assert PCMA.decode(PCMA.encode(pcm(1000))) == alaw_decode(alaw_encode(pcm(1000)))


def test_unknown_codecs_are_lookup_errors_with_a_stable_id() -> None:
    with pytest.raises(UnknownCodecError) as info:
        codec_by_name("opus")
    assert isinstance(info.value, LookupError)
    assert info.value.error_id == "codec_unknown"
    with pytest.raises(UnknownCodecError):
        codec_by_payload_type(18)
