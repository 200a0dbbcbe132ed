"""The wallboard websocket: a snapshot on connect, then deltas at most once a second.

Each socket has its own send task fed by the shared :class:`WallboardFeed`; a socket whose
send stays stuck for the feed's whole backlog of ticks is closed with 1013 and reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from aiohttp import WSCloseCode, WSMsgType, web

from trunkline.reporting.throttle import Throttle
from trunkline.web import keys, wallboard_protocol, ws_protocol
from trunkline.web.openapi import Route
from trunkline.web.wallboard_feed import WallboardFeed, WallboardSubscriber
from trunkline.web.ws_protocol import ProtocolError
from trunkline.web.ws_session import open_socket

__all__ = ["ROUTES", "WallboardSession", "wallboard_socket"]

log = logging.getLogger(__name__)

# How long a socket cut off for falling behind gets to acknowledge the close frame.
CLOSE_TIMEOUT_S = 5.0


class WallboardSession:
    """One socket: the reader answers pings while a send task forwards the feed's ticks.

    Every send goes through one lock so frames never interleave.
    """

    def __init__(self, ws: web.WebSocketResponse, feed: WallboardFeed) -> None:
        self.ws = ws
        self._feed = feed
        self._lock = asyncio.Lock()
        # Per socket as well as in the feed: a socket that was slow to send a tick must
        # still not send the next one less than a second later.
        self._throttle = Throttle(feed.interval_s)
        self._pump: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None

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
        """Run until the client leaves or the socket is cut off."""
        sub = self._feed.subscribe(on_overflow=self._fell_behind)
        try:
            if not await self.send(self._feed.snapshot_text(sub.shown)):
                return
            self._pump = asyncio.create_task(self._forward(sub), name="wallboard-socket")
            async for msg in self.ws:
                if msg.type is WSMsgType.TEXT:
                    await self._answer(msg.data)
                elif msg.type is WSMsgType.BINARY:
                    await self.send(ws_protocol.error(None, "invalid_message", "send JSON text"))
        finally:
            self._feed.unsubscribe(sub)
            if self._pump is not None:
                self._pump.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._pump
            if self._closer is not None:
                await self._closer

    async def _forward(self, sub: WallboardSubscriber) -> None:
        """Send one delta per tick, skipping ticks that changed nothing on screen."""
        try:
            while True:
                tick = await sub.next()
                self._throttle.mark_dirty(time.monotonic())
                wait = self._throttle.due(time.monotonic())
                if wait:
                    await asyncio.sleep(wait)
                    tick = sub.newest(tick)  # what arrived meanwhile is in the same delta
                text = self._feed.delta_text(sub.shown, tick)
                sub.shown = tick
                if text is None:
                    self._throttle.reset()
                    continue
                self._throttle.fired(time.monotonic())
                sub.begin_send()
                sent = await self.send(text)
                sub.end_send()
                if not sent:
                    return
        except Exception:
            # A wallboard left open without its updates would show stale figures: hang up.
            log.exception("wallboard socket send task failed")
            await self.ws.close(code=WSCloseCode.INTERNAL_ERROR)

    def _fell_behind(self) -> None:
        # Called from the feed while it publishes: close from a task of our own.
        if self._closer is None:
            self._closer = asyncio.create_task(self._close_behind())

    async def _close_behind(self) -> None:
        if self._pump is not None:
            self._pump.cancel()  # it may be the one stuck in a send
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT_S):
                # 1013 "try again later": the client reconnects and reads a fresh snapshot.
                await self.ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"fell behind")
        except TimeoutError:
            pass  # aiohttp has dropped the connection by now

    async def _answer(self, text: str) -> None:
        try:
            message = ws_protocol.decode(text, allowed=wallboard_protocol.CLIENT_TYPES)
        except ProtocolError as exc:
            await self.send(
                ws_protocol.error(exc.request_id, exc.error_id, exc.message, exc.details)
            )
            return
        # decode() lets through the allowed types only: ping.
        await self.send(ws_protocol.pong(message.id))


async def wallboard_socket(request: web.Request) -> web.WebSocketResponse:
    feed = request.app[keys.WALLBOARD_FEED]
    async with open_socket(request, "wallboard") as ws:
        await WallboardSession(ws, feed).serve()
    return ws


ROUTES: tuple[Route, ...] = (
    Route(
        method="GET",
        path="/api/v1/wallboard/ws",
        handler=wallboard_socket,
        access="supervisor",
        summary="Live statistics (?token=): a snapshot, then deltas at most once a second",
        tag="websockets",
        websocket=True,
        description=(
            "Server messages: snapshot {...the GET /api/v1/wallboard body}, then delta "
            "{generated_at, changed keys; lists keyed by id become {id: changes}, ids gone "
            "are listed under removed}, pong, error {id, error_id, message}. A burst of "
            "changes is coalesced into one delta; nothing is sent while nothing changes. "
            "Client messages: ping. A client that falls behind is closed with 1013."
        ),
    ),
)
