"""One websocket fed by a bus subscription: events out, pings and commands in."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from trunkline.domain.errors import TrunklineError
from trunkline.domain.events import Event
from trunkline.service.bus import Subscription
from trunkline.web import keys, ws_protocol
from trunkline.web.ws_protocol import Command, Ping, ProtocolError

log = logging.getLogger(__name__)

CommandHandler = Callable[[Command], Awaitable[None]]
# Fields to send beside an event (an offer's screen-pop), or None.
Decorator = Callable[[Event], Mapping[str, Any] | None]
# The whole message for an event that is not sent as a plain event, or None.
Renderer = Callable[[Event], str | None]
HEARTBEAT_S = 20.0


class EventSocket:
    """A pump task sends events while the handler reads client messages; every send goes
    through one lock so frames never interleave."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        subscription: Subscription,
        *,
        allowed: frozenset[str],
        handle: CommandHandler | None = None,
        decorate: Decorator | None = None,
        render: Renderer | None = None,
    ) -> None:
        self.ws = ws
        self._sub = subscription
        self._allowed = allowed
        self._handle = handle
        self._decorate = decorate
        self._render = render
        self._lock = asyncio.Lock()

    async def send(self, text: str) -> bool:
        """Send one message; False once the socket is gone."""
        async with self._lock:
            if self.ws.closed:
                return False
            try:
                await self.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                return False
        return True

    async def serve(self) -> None:
        """Run until the client goes away or the subscription is cut off."""
        pump = asyncio.create_task(self._pump())
        try:
            async for msg in self.ws:
                if msg.type is WSMsgType.TEXT:
                    await self._answer(msg.data)
                elif msg.type is WSMsgType.BINARY:
                    text = ws_protocol.error(None, "invalid_message", "send JSON text messages")
                    await self.send(text)
        finally:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump
            self._sub.close()

    async def _pump(self) -> None:
        try:
            while (event := await self._sub.get()) is not None:
                if not await self.send(self._message(event)):
                    return
        except Exception:
            # A desktop left open without its events would show a stale state: hang up.
            log.exception("websocket event pump failed")
            await self.ws.close(code=WSCloseCode.INTERNAL_ERROR)
            return
        if self._sub.overflowed:
            # 1013 "try again later": the client reconnects and reads a fresh hello.
            await self.ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"fell behind")

    def _message(self, event: Event) -> str:
        if self._render is not None and (text := self._render(event)) is not None:
            return text
        extra = self._decorate(event) if self._decorate is not None else None
        return ws_protocol.event(event, extra)

    async def _answer(self, text: str) -> None:
        request_id = None
        try:
            message = ws_protocol.decode(text, allowed=self._allowed)
            request_id = message.id
            if isinstance(message, Ping):
                await self.send(ws_protocol.pong(message.id))
                return
            if self._handle is None:  # decode() only lets through allowed types
                raise ProtocolError(f"{message.type!r} is not accepted here")
            await self._handle(message)
            await self.send(ws_protocol.result(message.id))
        except ProtocolError as exc:
            await self.send(
                ws_protocol.error(exc.request_id, exc.error_id, exc.message, exc.details)
            )
        except TrunklineError as exc:
            await self.send(ws_protocol.error(request_id, exc.error_id, exc.message, exc.details))
        except Exception:
            log.exception("websocket command failed")
            await self.send(ws_protocol.error(request_id, "internal_error", "internal error"))


@contextlib.asynccontextmanager
async def open_socket(request: web.Request, name: str) -> AsyncIterator[web.WebSocketResponse]:
    """Upgrade to a websocket the app tracks (closed on shutdown); a failure inside is
    logged and closes the socket with 1011, as there is no HTTP answer left to give."""
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S)
    await ws.prepare(request)
    sockets = request.app[keys.WEBSOCKETS]
    sockets.add(ws)
    try:
        yield ws
    except Exception:
        log.exception("%s socket failed", name)
        await ws.close(code=WSCloseCode.INTERNAL_ERROR)
    finally:
        sockets.discard(ws)
