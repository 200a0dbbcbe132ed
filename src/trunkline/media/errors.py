"""Errors of the media core: RTP parsing, codecs and prompt files."""

from __future__ import annotations

from trunkline.domain.errors import TrunklineError


class MediaError(TrunklineError):
    """Root of the media core's errors; also raised for misuse such as odd-length PCM."""

    error_id = "media_error"


class MalformedPacketError(MediaError):
    """A datagram from the network is not a valid RTP packet or telephone-event payload.

    This is a *remote* error: the receiver drops the datagram and carries on.
    """

    error_id = "rtp_malformed"


class PromptError(MediaError):
    """A prompt file cannot be read, or is not a WAV format the loader supports."""

    error_id = "prompt_invalid"
    status = 422


class UnknownCodecError(MediaError, LookupError):
    """No supported codec has the requested encoding name or payload type."""

    error_id = "codec_unknown"
    status = 404
