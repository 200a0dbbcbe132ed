"""The voice channel assembled: endpoint, application, RTP sessions and transports, started
and stopped as one (``trunkline serve`` does it from the app's ``cleanup_ctx``)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping

from trunkline.config.loader import SipCredentials, VoiceSettings
from trunkline.sip.endpoint import SipEndpoint
from trunkline.voice.auth import SipAuthenticator
from trunkline.voice.calls import VoiceApplication
from trunkline.voice.rtp_session import RtpPortPool, RtpSessions
from trunkline.voice.transport import SipTransports

_log = logging.getLogger(__name__)


class VoiceService:
    """SIP on ``host:port`` (UDP and TCP) with RTP from the configured range."""

    def __init__(
        self,
        settings: VoiceSettings,
        *,
        host: str,
        port: int,
        credentials: Callable[[], Mapping[str, SipCredentials]] | None = None,
    ) -> None:
        self.settings = settings
        self.host = host
        self.requested_port = port
        self.port: int | None = None
        self._credentials = credentials or (lambda: settings.sip_credentials)
        self.application: VoiceApplication | None = None
        self._transports: SipTransports | None = None

    async def start(self) -> int:
        """Bind and serve; returns the SIP port. Raises :class:`OSError` if it cannot bind."""
        first, last = self.settings.rtp_ports
        sessions = RtpSessions(RtpPortPool(first, last), self.host)
        # The endpoint writes its own address into Via; the port is known once bound, so a
        # placeholder is replaced right after (only port 0 needs it).
        endpoint = SipEndpoint(host=self.settings.public_address, port=self.requested_port)
        application = VoiceApplication(
            endpoint,
            self.settings,
            sessions,
            authenticator=SipAuthenticator(
                self.settings.realm,
                self._credentials,
                algorithms=self.settings.digest_algorithms,
            ),
            wall_clock=time.time,
            answer_delay_s=self.settings.echo_answer_delay_s,
            local_hosts=frozenset({self.host}),
        )
        transports = SipTransports(endpoint, application)
        port = await transports.start(self.host, self.requested_port)
        if port != self.requested_port:
            endpoint = SipEndpoint(host=self.settings.public_address, port=port)
            application.endpoint = endpoint
            transports.endpoint = endpoint
        self.port = port
        self.application = application
        self._transports = transports
        _log.info(
            "SIP listening on %s:%d (UDP, TCP); RTP ports %d-%d; echo numbers: %s",
            self.host,
            port,
            first,
            last,
            ", ".join(sorted(self.settings.echo_numbers)) or "-",
        )
        return port

    async def stop(self) -> None:
        if self._transports is not None:
            await self._transports.stop()
            self._transports = None
        if self.application is not None:
            self.application.close()
        _log.info("SIP stopped")
