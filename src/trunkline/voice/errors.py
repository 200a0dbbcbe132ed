"""Errors of the voice channel."""

from __future__ import annotations

from trunkline.domain.errors import TrunklineError


class VoiceError(TrunklineError):
    """Something the voice channel cannot do (no RTP port left, a socket that will not bind)."""

    error_id = "voice_error"


class NoRtpPortError(VoiceError):
    """Every port of the configured RTP range is taken."""

    error_id = "no_rtp_port"
