"""Sans-IO media core: G.711, RTP, DTMF, prompts and frame pacing. No sockets, no clock."""

from __future__ import annotations

from trunkline.media.dtmf import (
    DigitReceived,
    DtmfDetector,
    DtmfSender,
    ScheduledPacket,
    TelephoneEvent,
    parse_dtmf_relay,
)
from trunkline.media.errors import (
    MalformedPacketError,
    MediaError,
    PromptError,
    UnknownCodecError,
)
from trunkline.media.g711 import (
    CODECS,
    PCMA,
    PCMU,
    Codec,
    alaw_decode,
    alaw_encode,
    codec_by_name,
    codec_by_payload_type,
    ulaw_decode,
    ulaw_encode,
)
from trunkline.media.playback import JitterMeter, Playout
from trunkline.media.prompt import (
    Prompt,
    load_prompt,
    prompt_from_pcm,
    silence_frame,
    tone_frames,
    write_wav,
)
from trunkline.media.rtp import HeaderExtension, RtpPacket, RtpReceiver, RtpSender, is_rtcp

__all__ = [
    "CODECS",
    "PCMA",
    "PCMU",
    "Codec",
    "DigitReceived",
    "DtmfDetector",
    "DtmfSender",
    "HeaderExtension",
    "JitterMeter",
    "MalformedPacketError",
    "MediaError",
    "Playout",
    "Prompt",
    "PromptError",
    "RtpPacket",
    "RtpReceiver",
    "RtpSender",
    "ScheduledPacket",
    "TelephoneEvent",
    "UnknownCodecError",
    "alaw_decode",
    "alaw_encode",
    "codec_by_name",
    "codec_by_payload_type",
    "is_rtcp",
    "load_prompt",
    "parse_dtmf_relay",
    "prompt_from_pcm",
    "silence_frame",
    "tone_frames",
    "ulaw_decode",
    "ulaw_encode",
    "write_wav",
]
