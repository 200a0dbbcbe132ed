"""SDP without I/O: golden bodies from real phones and sipp, RFC 3264 answers, hold, round trips."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trunkline.sip.sdp import (
    Attribute,
    Bandwidth,
    Connection,
    Direction,
    MediaDescription,
    NegotiatedMedia,
    NoCommonCodecError,
    Origin,
    RtcpAddress,
    RtpMap,
    SdpError,
    SessionDescription,
    Timing,
    build_offer,
    codec_of,
    negotiate_answer,
    read_answer,
    with_direction,
)


def crlf(text: str) -> str:
    return text.replace("\n", "\r\n")


# The body sipp's built-in uac scenario sends, with [local_ip]=127.0.0.1, [media_port]=6000.
SIPP_UAC = crlf(
    "v=0\n"
    "o=user1 53655765 2353687637 IN IP4 127.0.0.1\n"
    "s=-\n"
    "c=IN IP4 127.0.0.1\n"
    "t=0 0\n"
    "m=audio 6000 RTP/AVP 0\n"
    "a=rtpmap:0 PCMU/8000\n"
)

# A desk phone preferring PCMA, with G.722/G.729 we do not do and telephone-event at 101.
DESK_PHONE_PCMA_FIRST = crlf(
    "v=0\n"
    "o=- 20018 20018 IN IP4 192.168.1.50\n"
    "s=SDP data\n"
    "c=IN IP4 192.168.1.50\n"
    "t=0 0\n"
    "m=audio 11796 RTP/AVP 9 8 0 18 101\n"
    "a=rtpmap:9 G722/8000\n"
    "a=rtpmap:8 PCMA/8000\n"
    "a=rtpmap:0 PCMU/8000\n"
    "a=rtpmap:18 G729/8000\n"
    "a=fmtp:18 annexb=no\n"
    "a=rtpmap:101 telephone-event/8000\n"
    "a=fmtp:101 0-15\n"
    "a=ptime:20\n"
    "a=sendrecv\n"
)

# A softphone with audio (Opus first, no rtpmap for 0/8) and video in a second m-line.
SOFTPHONE_WITH_VIDEO = crlf(
    "v=0\n"
    "o=alice 3724394400 3724394401 IN IP4 10.0.0.7\n"
    "s=Talk\n"
    "c=IN IP4 10.0.0.7\n"
    "b=AS:380\n"
    "t=0 0\n"
    "a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics\n"
    "m=audio 7078 RTP/AVP 96 0 8 97 101\n"
    "a=rtpmap:96 opus/48000/2\n"
    "a=fmtp:96 useinbandfec=1\n"
    "a=rtpmap:97 telephone-event/48000\n"
    "a=rtpmap:101 telephone-event/8000\n"
    "a=rtcp:7079\n"
    "m=video 9078 RTP/AVP 98\n"
    "c=IN IP4 10.0.0.8\n"
    "a=rtpmap:98 H264/90000\n"
    "a=fmtp:98 profile-level-id=42801F\n"
)

# A PBX re-INVITE putting the call on hold the RFC 3264 §8.4 way.
HOLD_SENDONLY = crlf(
    "v=0\n"
    "o=- 1234 1235 IN IP4 10.0.0.5\n"
    "s=Asterisk\n"
    "c=IN IP4 10.0.0.5\n"
    "t=0 0\n"
    "m=audio 17000 RTP/AVP 0 101\n"
    "a=rtpmap:0 PCMU/8000\n"
    "a=rtpmap:101 telephone-event/8000\n"
    "a=fmtp:101 0-16\n"
    "a=ptime:20\n"
    "a=maxptime:150\n"
    "a=sendonly\n"
)

# The RFC 2543 hold that old gateways still send: null connection address, no attribute.
HOLD_NULL_ADDRESS = crlf(
    "v=0\n"
    "o=gw 99 100 IN IP4 172.16.0.2\n"
    "s=session\n"
    "c=IN IP4 0.0.0.0\n"
    "t=0 0\n"
    "m=audio 20000 RTP/AVP 8\n"
)

# T.38 fax and G.729 only: nothing Trunkline can take.
NOTHING_COMMON = crlf(
    "v=0\n"
    "o=- 1 1 IN IP4 192.0.2.9\n"
    "s=-\n"
    "c=IN IP4 192.0.2.9\n"
    "t=0 0\n"
    "m=audio 4000 RTP/AVP 18\n"
    "a=rtpmap:18 G729/8000\n"
    "m=image 4002 udptl t38\n"
    "a=T38FaxVersion:0\n"
)

GOLDEN = [SIPP_UAC, DESK_PHONE_PCMA_FIRST, SOFTPHONE_WITH_VIDEO, HOLD_SENDONLY, HOLD_NULL_ADDRESS]


def answer_to(
    offer_text: str,
    *,
    supported: Sequence[str] = ("PCMU", "PCMA"),
    direction: Direction | str = Direction.SENDRECV,
) -> tuple[SessionDescription, NegotiatedMedia]:
    answer = negotiate_answer(
        SessionDescription.parse(offer_text),
        local_address="203.0.113.10",
        local_port=30000,
        supported=supported,
        direction=direction,
        session_id=42,
        session_version=1,
    )
    return answer.sdp, answer.media


# --- parsing and serialising ----------------------------------------------------------------


@pytest.mark.parametrize("body", GOLDEN + [NOTHING_COMMON])
def test_golden_bodies_round_trip_byte_for_byte(body: str) -> None:
    assert SessionDescription.parse(body).serialize() == body
    assert bytes(SessionDescription.parse(body.encode())) == body.encode()


def test_sipp_body_parses_into_fields() -> None:
    sdp = SessionDescription.parse(SIPP_UAC)
    assert sdp.origin == Origin("user1", 53655765, 2353687637, "IN", "IP4", "127.0.0.1")
    assert sdp.session_name == "-"
    assert sdp.connection == Connection(address="127.0.0.1")
    assert sdp.timing == (Timing(0, 0),)
    (audio,) = sdp.media
    assert (audio.media, audio.port, audio.protocol, audio.formats) == (
        "audio",
        6000,
        "RTP/AVP",
        ("0",),
    )
    assert audio.rtpmaps == {0: RtpMap(0, "PCMU", 8000)}
    assert sdp.media_direction(audio) is Direction.SENDRECV


def test_media_attributes_are_read_and_kept_in_order() -> None:
    sdp = SessionDescription.parse(SOFTPHONE_WITH_VIDEO)
    audio, video = sdp.media
    assert sdp.bandwidths == (Bandwidth("AS", 380),)
    assert sdp.attributes[0].name == "rtcp-xr"
    assert audio.rtpmaps[96] == RtpMap(96, "opus", 48000, 2)
    assert audio.fmtps == {"96": "useinbandfec=1"}
    assert audio.rtcp == RtcpAddress(7079)
    assert [a.name for a in audio.attributes] == ["rtpmap", "fmtp", "rtpmap", "rtpmap", "rtcp"]
    assert sdp.media_connection(video) == Connection(address="10.0.0.8")
    assert sdp.media_connection(audio) == Connection(address="10.0.0.7")
    hold = SessionDescription.parse(HOLD_SENDONLY).media[0]
    assert (hold.ptime, hold.maxptime, hold.direction) == (20.0, 150.0, Direction.SENDONLY)


def test_lf_only_trailing_blanks_and_blank_lines_are_accepted() -> None:
    sloppy = SIPP_UAC.replace("\r\n", "  \n").replace("t=0 0", "t=0 0\n\n") + "\n\n"
    assert SessionDescription.parse(sloppy) == SessionDescription.parse(SIPP_UAC)


def test_unknown_attributes_and_extra_lines_survive_in_their_slots() -> None:
    body = crlf(
        "v=0\n"
        "o=- 1 2 IN IP6 2001:db8::1\n"
        "s=x\n"
        "i=info\n"
        "u=http://example.com/\n"
        "e=ops@example.com\n"
        "c=IN IP6 2001:db8::1\n"
        "t=0 0\n"
        "r=604800 3600 0 90000\n"
        "k=prompt\n"
        "a=group:BUNDLE 0\n"
        "m=audio 5004/2 RTP/AVP 0\n"
        "i=voice\n"
        "b=TIAS:64000\n"
        "a=x-custom: spaced value\n"
        "a=rtcp:5005 IN IP6 2001:db8::2\n"
    )
    sdp = SessionDescription.parse(body)
    assert sdp.serialize() == body
    assert sdp.timing[0].repeats == ("604800 3600 0 90000",)
    assert sdp.media[0].port_count == 2
    assert sdp.media[0].values("x-custom") == [" spaced value"]
    assert sdp.media[0].rtcp == RtcpAddress(5005, "2001:db8::2")


def test_empty_session_name_is_accepted_and_written_as_a_space() -> None:
    sdp = SessionDescription.parse(SIPP_UAC.replace("s=-", "s="))
    assert sdp.session_name == ""
    assert "\r\ns= \r\n" in sdp.serialize()
    assert SessionDescription.parse(sdp.serialize()) == sdp


def test_media_section_parses_alone() -> None:
    section = MediaDescription.parse("m=audio 9 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n")
    assert section.rtpmaps == {8: RtpMap(8, "PCMA", 8000)}
    assert str(section) == "m=audio 9 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n"


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("", "empty"),
        ("o=- 1 1 IN IP4 1.2.3.4\ns=-\nt=0 0\n", "no v="),
        ("v=1\no=- 1 1 IN IP4 1.2.3.4\ns=-\nt=0 0\n", "v=1"),
        ("v=0\ns=-\nt=0 0\n", "no o="),
        ("v=0\no=- 1 1 IN IP4 1.2.3.4\nt=0 0\n", "no s="),
        ("v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\n", "no t="),
        ("v=0\no=- 1 IN IP4 1.2.3.4\ns=-\nt=0 0\n", "short o="),
        ("v=0\no=- x 1 IN IP4 1.2.3.4\ns=-\nt=0 0\n", "session id not a number"),
        ("v=0\no=- \u0663 1 IN IP4 1.2.3.4\ns=-\nt=0 0\n", "non-ASCII digit"),
        ("v=0\no=- 1 1 IN IP4 1.2.3.4\no=- 1 1 IN IP4 1.2.3.4\ns=-\nt=0 0\n", "two o="),
        ("v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nt=0 0\nx=1\n", "unknown type letter"),
        ("v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nt=0 0\n a=x\n", "leading blank"),
        ("v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nt=0 0\nm=audio 70000 RTP/AVP 0\n", "port range"),
        ("v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nt=0 0\nm=audio 1 RTP/AVP\n", "no formats"),
        ("v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nt=0 0\nm=audio 1 RTP/AVP 128\n", "pt > 127"),
        ("v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nt=0 0\nm=audio 1 RTP/AVP 0\nr=1\n", "r= in m"),
        ("v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nt=0 0\nm=audio 1 RTP/AVP 0\na=rtpmap:0\n", "rtpmap"),
        ("v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nt=0 0\nm=audio 1 RTP/AVP 0\na=ptime:0\n", "ptime"),
        ("v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nt=0 0\nm=audio 1 RTP/AVP 0\na=sendonly:1\n", "dir"),
        ("v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nc=IN IP4\nt=0 0\n", "short c="),
        ("v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nt=0 0\na=\n", "empty attribute"),
        ("v=0\ro=- 1 1 IN IP4 1.2.3.4\ns=-\nt=0 0\n", "bare CR"),
    ],
)
def test_malformed_bodies_raise_sdp_error(body: str, why: str) -> None:
    with pytest.raises(SdpError) as caught:
        SessionDescription.parse(body)
    assert caught.value.error_id == "sdp_malformed"
    assert caught.value.sip_status == 400


def test_invalid_utf8_is_an_sdp_error() -> None:
    with pytest.raises(SdpError):
        SessionDescription.parse(SIPP_UAC.encode().replace(b"s=-", b"s=\xff"))


# --- answering offers (RFC 3264 §6) -----------------------------------------------------------


def test_sipp_offer_gets_pcmu_answer() -> None:
    sdp, media = answer_to(SIPP_UAC)
    assert sdp.serialize() == crlf(
        "v=0\n"
        "o=- 42 1 IN IP4 203.0.113.10\n"
        "s=Trunkline\n"
        "c=IN IP4 203.0.113.10\n"
        "t=0 0\n"
        "m=audio 30000 RTP/AVP 0\n"
        "a=rtpmap:0 PCMU/8000\n"
        "a=ptime:20\n"
        "a=sendrecv\n"
    )
    assert media.remote_address == "127.0.0.1"
    assert media.remote_port == 6000
    assert (media.remote_rtcp_address, media.remote_rtcp_port) == ("127.0.0.1", 6001)
    assert media.telephone_event_pt is None
    assert media.remote_hold is False


def test_offerer_preference_wins_and_telephone_event_number_is_kept() -> None:
    sdp, media = answer_to(DESK_PHONE_PCMA_FIRST, supported=("PCMU", "PCMA"))
    (audio,) = sdp.media
    assert audio.formats == ("8", "101")
    assert audio.values("rtpmap") == ["8 PCMA/8000", "101 telephone-event/8000"]
    assert audio.fmtps == {"101": "0-16"}
    assert (media.codec, media.payload_type, media.telephone_event_pt) == ("PCMA", 8, 101)
    assert media.remote_ptime == 20.0


def test_supported_list_filters_but_does_not_reorder() -> None:
    _, media = answer_to(DESK_PHONE_PCMA_FIRST, supported=("PCMU",))
    assert (media.codec, media.payload_type) == ("PCMU", 0)


def test_static_types_without_rtpmap_and_video_refused_in_place() -> None:
    sdp, media = answer_to(SOFTPHONE_WITH_VIDEO)
    audio, video = sdp.media
    # Opus is skipped; PCMU (static 0, no rtpmap in the offer) is the first we support.
    assert (media.codec, media.payload_type) == ("PCMU", 0)
    # The 8 kHz telephone-event, not the 48 kHz one.
    assert media.telephone_event_pt == 101
    assert (media.remote_rtcp_address, media.remote_rtcp_port) == ("10.0.0.7", 7079)
    assert audio.port == 30000 and audio.formats == ("0", "101")
    assert (video.media, video.port, video.protocol, video.formats) == (
        "video",
        0,
        "RTP/AVP",
        ("98",),
    )


def test_sendonly_offer_is_remote_hold_answered_recvonly() -> None:
    sdp, media = answer_to(HOLD_SENDONLY)
    assert sdp.media[0].direction is Direction.RECVONLY
    assert media.direction is Direction.RECVONLY
    assert media.remote_hold is True


def test_inactive_offer_is_answered_inactive() -> None:
    sdp, media = answer_to(HOLD_SENDONLY.replace("a=sendonly", "a=inactive"))
    assert sdp.media[0].direction is Direction.INACTIVE
    assert media.remote_hold is True


def test_recvonly_offer_is_answered_sendonly_and_is_not_hold() -> None:
    sdp, media = answer_to(HOLD_SENDONLY.replace("a=sendonly", "a=recvonly"))
    assert sdp.media[0].direction is Direction.SENDONLY
    assert media.remote_hold is False


def test_session_level_direction_applies_to_media() -> None:
    body = SIPP_UAC.replace("t=0 0\r\n", "t=0 0\r\na=sendonly\r\n")
    sdp, media = answer_to(body)
    assert media.remote_hold is True
    assert sdp.media[0].direction is Direction.RECVONLY


def test_null_address_is_old_style_hold_and_we_send_nothing() -> None:
    sdp, media = answer_to(HOLD_NULL_ADDRESS)
    assert media.remote_hold is True
    assert media.remote_address == "0.0.0.0"
    assert media.direction is Direction.RECVONLY
    assert sdp.media[0].direction is Direction.RECVONLY
    assert media.codec == "PCMA"


def test_our_own_hold_intersects_with_the_offer() -> None:
    sdp, media = answer_to(SIPP_UAC, direction=Direction.SENDONLY)
    assert media.direction is Direction.SENDONLY
    _, both_hold = answer_to(HOLD_SENDONLY, direction="sendonly")
    assert both_hold.direction is Direction.INACTIVE


def test_no_common_codec_raises_not_acceptable() -> None:
    with pytest.raises(NoCommonCodecError) as caught:
        answer_to(NOTHING_COMMON)
    assert caught.value.error_id == "sdp_not_acceptable"
    assert caught.value.sip_status == 488
    assert caught.value.details["offered"] == ["audio 4000 G729", "image 4002 udptl"]


def test_offer_without_media_or_with_only_telephone_event_is_not_acceptable() -> None:
    bare = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n"
    with pytest.raises(NoCommonCodecError):
        answer_to(bare)
    events_only = SIPP_UAC.replace("RTP/AVP 0", "RTP/AVP 101").replace(
        "0 PCMU/8000", "101 telephone-event/8000"
    )
    with pytest.raises(NoCommonCodecError):
        answer_to(events_only)


def test_srtp_and_disabled_streams_are_refused_but_a_later_audio_is_taken() -> None:
    body = crlf(
        "v=0\n"
        "o=- 5 5 IN IP4 192.0.2.1\n"
        "s=-\n"
        "c=IN IP4 192.0.2.1\n"
        "t=0 0\n"
        "m=audio 5000 RTP/SAVP 0\n"
        "m=audio 0 RTP/AVP 0\n"
        "m=audio 5004 RTP/AVP 8 0\n"
        "m=audio 5006 RTP/AVP 0\n"
    )
    sdp, media = answer_to(body)
    assert [m.port for m in sdp.media] == [0, 0, 30000, 0]
    assert [m.protocol for m in sdp.media] == ["RTP/SAVP", "RTP/AVP", "RTP/AVP", "RTP/AVP"]
    assert media.media_index == 2 and media.codec == "PCMA"


def test_accepted_stream_without_any_connection_line_is_malformed() -> None:
    body = SIPP_UAC.replace("c=IN IP4 127.0.0.1\r\n", "")
    with pytest.raises(SdpError):
        answer_to(body)


def test_dynamic_pcmu_number_and_case_insensitive_names_are_understood() -> None:
    body = SIPP_UAC.replace("RTP/AVP 0", "RTP/AVP 110").replace("0 PCMU/8000", "110 pcmu/8000")
    _, media = answer_to(body)
    assert (media.codec, media.payload_type) == ("PCMU", 110)


# --- offers we make and the answers we read (RFC 3264 §5, §7) ---------------------------------


def offer() -> SessionDescription:
    return build_offer("198.51.100.4", 40000, session_id=7, session_version=1)


def test_build_offer_body() -> None:
    assert offer().serialize() == crlf(
        "v=0\n"
        "o=- 7 1 IN IP4 198.51.100.4\n"
        "s=Trunkline\n"
        "c=IN IP4 198.51.100.4\n"
        "t=0 0\n"
        "m=audio 40000 RTP/AVP 0 8 101\n"
        "a=rtpmap:0 PCMU/8000\n"
        "a=rtpmap:8 PCMA/8000\n"
        "a=rtpmap:101 telephone-event/8000\n"
        "a=fmtp:101 0-16\n"
        "a=ptime:20\n"
        "a=sendrecv\n"
    )


def test_build_offer_ipv6_without_events() -> None:
    sdp = build_offer(
        "2001:db8::4",
        40000,
        codecs=("pcma",),
        telephone_event_pt=None,
        session_id=1,
        session_version=1,
    )
    assert sdp.origin.addrtype == "IP6" and sdp.connection == Connection("2001:db8::4", "IN", "IP6")
    assert sdp.media[0].formats == ("8",)


@pytest.mark.parametrize(
    "kwargs", [{"codecs": ("G729",)}, {"codecs": ()}, {"telephone_event_pt": 8}]
)
def test_build_offer_rejects_what_we_cannot_do(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        build_offer("192.0.2.1", 1, session_id=1, session_version=1, **kwargs)  # type: ignore[arg-type]


def test_our_offer_answered_by_our_own_negotiator() -> None:
    answer = negotiate_answer(
        offer(), local_address="192.0.2.77", local_port=5062, session_id=9, session_version=9
    )
    media = read_answer(offer(), answer.sdp)
    assert (media.remote_address, media.remote_port) == ("192.0.2.77", 5062)
    assert (media.codec, media.payload_type, media.telephone_event_pt) == ("PCMU", 0, 101)
    assert media.direction is Direction.SENDRECV and media.remote_hold is False


def test_answer_from_sipp_uas_is_read() -> None:
    media = read_answer(offer(), SessionDescription.parse(SIPP_UAC.replace("6000", "6002")))
    assert (media.remote_port, media.codec, media.telephone_event_pt) == (6002, "PCMU", None)


def test_answer_may_renumber_telephone_event() -> None:
    body = crlf(
        "v=0\n"
        "o=- 1 1 IN IP4 192.0.2.5\n"
        "s=-\n"
        "c=IN IP4 192.0.2.5\n"
        "t=0 0\n"
        "m=audio 7000 RTP/AVP 8 96\n"
        "a=rtpmap:96 telephone-event/8000\n"
        "a=recvonly\n"
    )
    media = read_answer(offer(), SessionDescription.parse(body))
    assert (media.codec, media.telephone_event_pt) == ("PCMA", 96)
    assert media.direction is Direction.SENDONLY


def test_inactive_answer_to_our_hold_is_not_remote_hold() -> None:
    held = with_direction(offer(), Direction.SENDONLY)
    body = SIPP_UAC.replace("a=rtpmap:0 PCMU/8000", "a=rtpmap:0 PCMU/8000\r\na=inactive")
    media = read_answer(held, SessionDescription.parse(body))
    assert media.direction is Direction.INACTIVE and media.remote_hold is False
    sendonly = read_answer(offer(), SessionDescription.parse(body.replace("inactive", "sendonly")))
    assert sendonly.direction is Direction.RECVONLY and sendonly.remote_hold is True


def test_answer_with_codec_we_did_not_offer_is_rejected() -> None:
    body = SIPP_UAC.replace("RTP/AVP 0", "RTP/AVP 18").replace("0 PCMU/8000", "18 G729/8000")
    with pytest.raises(SdpError):
        read_answer(offer(), SessionDescription.parse(body))


def test_answer_refusing_audio_raises_not_acceptable() -> None:
    body = SIPP_UAC.replace("m=audio 6000", "m=audio 0")
    with pytest.raises(NoCommonCodecError):
        read_answer(offer(), SessionDescription.parse(body))


def test_answer_with_wrong_m_line_count_or_type_is_rejected() -> None:
    two = SessionDescription.parse(SOFTPHONE_WITH_VIDEO)
    with pytest.raises(SdpError):
        read_answer(offer(), two)
    video = SessionDescription.parse(SIPP_UAC.replace("m=audio", "m=video"))
    with pytest.raises(SdpError):
        read_answer(offer(), video)


# --- hold and resume by re-INVITE (RFC 3264 §8) -----------------------------------------------


def test_hold_and_resume_bump_the_version_and_flip_direction() -> None:
    held = with_direction(offer(), Direction.SENDONLY)
    assert held.origin.session_version == 2
    assert held.media[0].direction is Direction.SENDONLY
    assert held.media[0].values("sendrecv") == []
    assert "a=sendonly\r\n" in held.serialize()
    resumed = with_direction(held, "sendrecv")
    assert resumed.origin.session_version == 3
    assert [a.name for a in resumed.media[0].attributes] == [
        a.name for a in offer().media[0].attributes
    ]
    # The peer reading our hold offer sees us on hold.
    answer = negotiate_answer(
        held, local_address="192.0.2.2", local_port=2, session_id=1, session_version=1
    )
    assert answer.media.remote_hold is True


def test_with_direction_leaves_refused_streams_and_drops_session_direction() -> None:
    sdp = SessionDescription.parse(
        SOFTPHONE_WITH_VIDEO.replace("m=video 9078", "m=video 0").replace(
            "t=0 0\r\n", "t=0 0\r\na=recvonly\r\n"
        )
    )
    held = with_direction(sdp, Direction.INACTIVE)
    assert held.direction is None
    assert held.media[0].direction is Direction.INACTIVE
    assert held.media[1] == sdp.media[1]


# --- properties -------------------------------------------------------------------------------

_TOKEN = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._+",
    min_size=1,
    max_size=12,
)
# Attribute and free-text values: printable text with some non-ASCII, never ending in a blank
# (trailing blanks are dropped on purpose when parsing).
_TEXT = st.text(
    alphabet=st.sampled_from([chr(c) for c in range(0x20, 0x7F)] + ["\t", "é", "ß", "€", "中"]),
    max_size=30,
).map(lambda s: s.rstrip(" \t"))
_NONEMPTY_TEXT = _TEXT.map(lambda s: s or "x")
_UINT = st.integers(min_value=0, max_value=2**63)
_ADDRESS = st.sampled_from(["192.0.2.1", "0.0.0.0", "2001:db8::1", "pbx.example.com"])
_CONNECTION = st.one_of(st.none(), st.builds(Connection, _ADDRESS))
_PT = st.integers(0, 127)
_INTERPRETED = {"rtpmap", "fmtp", "ptime", "maxptime", "rtcp", *(d.value for d in Direction)}
_FREE_NAME = _TOKEN.map(lambda s: "x-" + s if s in _INTERPRETED else s)
_RTPMAP = st.builds(
    RtpMap,
    _PT,
    _TOKEN.map(lambda s: s.replace("/", "")).filter(bool),
    st.integers(1, 96000),
    st.one_of(st.none(), st.integers(1, 8)),
)
_ATTRIBUTE = st.one_of(
    st.sampled_from([Attribute(d.value) for d in Direction]),
    _RTPMAP.map(lambda m: Attribute("rtpmap", m.serialize())),
    st.tuples(_PT, _TOKEN).map(lambda t: Attribute("fmtp", f"{t[0]} {t[1]}")),
    st.integers(1, 200).map(lambda n: Attribute("ptime", str(n))),
    st.builds(Attribute, _FREE_NAME),
    st.builds(Attribute, _FREE_NAME, _TEXT),
)
_MEDIA = st.builds(
    MediaDescription,
    media=st.sampled_from(["audio", "video", "image", "application"]),
    port=st.integers(0, 65535),
    port_count=st.one_of(st.none(), st.integers(1, 4)),
    protocol=st.just("RTP/AVP"),
    formats=st.lists(_PT.map(str), min_size=1, max_size=6).map(tuple),
    connection=_CONNECTION,
    bandwidths=st.lists(st.builds(Bandwidth, _TOKEN, _UINT), max_size=2).map(tuple),
    attributes=st.lists(_ATTRIBUTE, max_size=6).map(tuple),
    extra_lines=st.lists(_NONEMPTY_TEXT.map(lambda v: ("i", v)), max_size=1).map(tuple),
)
_SLOTS = "iuepzk"
_SESSION_EXTRA = st.lists(st.tuples(st.sampled_from(_SLOTS), _NONEMPTY_TEXT), max_size=4).map(
    lambda lines: tuple(sorted(lines, key=lambda line: _SLOTS.index(line[0])))
)
_SESSIONS = st.builds(
    SessionDescription,
    origin=st.builds(Origin, _TOKEN, _UINT, _UINT, st.just("IN"), st.just("IP4"), _ADDRESS),
    session_name=_NONEMPTY_TEXT,
    connection=_CONNECTION,
    bandwidths=st.lists(st.builds(Bandwidth, _TOKEN, _UINT), max_size=2).map(tuple),
    timing=st.lists(
        st.builds(Timing, _UINT, _UINT, st.lists(_NONEMPTY_TEXT, max_size=2).map(tuple)),
        min_size=1,
        max_size=2,
    ).map(tuple),
    attributes=st.lists(_ATTRIBUTE, max_size=4).map(tuple),
    media=st.lists(_MEDIA, max_size=3).map(tuple),
    extra_lines=_SESSION_EXTRA,
)


@settings(max_examples=150, deadline=None)
@given(_SESSIONS)
def test_generated_descriptions_round_trip(sdp: SessionDescription) -> None:
    text = sdp.serialize()
    assert SessionDescription.parse(text) == sdp
    assert SessionDescription.parse(text.encode()) == sdp


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.text(), st.binary(), _SESSIONS.map(str).map(lambda s: s[: len(s) // 2])))
def test_arbitrary_input_raises_only_sdp_error(data: str | bytes) -> None:
    try:
        sdp = SessionDescription.parse(data)
    except SdpError:
        return
    # Whatever parses must serialise to something that parses to the same value.
    assert SessionDescription.parse(sdp.serialize()) == sdp


_OFFER_MEDIA = st.builds(
    MediaDescription,
    media=st.sampled_from(["audio", "audio", "audio", "video"]),
    port=st.sampled_from([0, 4000, 4002]),
    protocol=st.sampled_from(["RTP/AVP", "RTP/AVP", "RTP/SAVP"]),
    formats=st.lists(st.sampled_from(["0", "8", "9", "18", "96", "101"]), min_size=1).map(tuple),
    attributes=st.lists(
        st.one_of(
            st.sampled_from(
                [
                    Attribute("rtpmap", "96 opus/48000/2"),
                    Attribute("rtpmap", "96 PCMA/8000"),
                    Attribute("rtpmap", "101 telephone-event/8000"),
                    Attribute("rtpmap", "0 PCMU/8000"),
                ]
            ),
            st.sampled_from([Attribute(d.value) for d in Direction]),
        ),
        max_size=4,
    ).map(tuple),
)
_OFFERS = st.builds(
    SessionDescription,
    origin=st.just(Origin("-", 1, 1, "IN", "IP4", "192.0.2.9")),
    connection=st.sampled_from([Connection("192.0.2.9"), Connection("0.0.0.0")]),
    attributes=st.lists(st.sampled_from([Attribute(d.value) for d in Direction]), max_size=1).map(
        tuple
    ),
    media=st.lists(_OFFER_MEDIA, max_size=4).map(tuple),
)


@settings(max_examples=200, deadline=None)
@given(_OFFERS, st.sampled_from(list(Direction)))
def test_answers_follow_rfc_3264(offer: SessionDescription, ours: Direction) -> None:
    try:
        answer = negotiate_answer(
            offer,
            local_address="192.0.2.1",
            local_port=1000,
            direction=ours,
            session_id=1,
            session_version=1,
        )
    except NoCommonCodecError:
        usable = [
            m
            for m in offer.media
            if m.media == "audio"
            and m.port
            and m.protocol == "RTP/AVP"
            and any(
                (rtpmap := codec_of(m, int(f))) and rtpmap.encoding in ("PCMU", "PCMA")
                for f in m.formats
            )
        ]
        assert usable == []
        return
    sdp = SessionDescription.parse(answer.sdp.serialize())
    # §6: one answer m-line per offered m-line, same order and media types.
    assert [m.media for m in sdp.media] == [m.media for m in offer.media]
    accepted = [i for i, m in enumerate(sdp.media) if m.port != 0]
    assert accepted == [answer.media.media_index]
    section = sdp.media[answer.media.media_index]
    offered = offer.media[answer.media.media_index]
    # §6.1: only formats from the offer, the first one being the offerer's favourite we take.
    assert set(section.formats) <= set(offered.formats)
    assert (
        answer.media.codec
        == [
            rtpmap.encoding
            for f in offered.formats
            if (rtpmap := codec_of(offered, int(f))) and rtpmap.encoding in ("PCMU", "PCMA")
        ][0]
    )
    # §6.1: never send or receive beyond what the offer and our own wish allow.
    theirs = offer.media_direction(offered)
    ours_now = sdp.media_direction(section)
    assert not (ours_now.sends and not (theirs.receives and ours.sends))
    assert not (ours_now.receives and not (theirs.sends and ours.receives))
    # The offerer reading our answer agrees on codec and mirrored direction.
    seen = read_answer(offer, sdp)
    assert (seen.codec, seen.payload_type) == (answer.media.codec, answer.media.payload_type)
