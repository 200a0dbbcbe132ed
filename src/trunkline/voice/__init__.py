"""The voice channel: SIP over UDP/TCP, the registrar for agents' phones and RTP sessions.

The protocol work is done by the sans-IO cores in :mod:`trunkline.sip` and
:mod:`trunkline.media`; this package holds the call logic around them and the thin asyncio
adapters that feed them from sockets.
"""
