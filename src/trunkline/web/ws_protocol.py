"""The websocket wire format (JSON text messages), encoded and decoded apart from the
sessions that own the sockets."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from trunkline.domain.errors import TrunklineError
from trunkline.domain.events import Event, event_to_dict
from trunkline.router.views import AgentView, InteractionView, QueueView
from trunkline.web.encoding import dumps
from trunkline.web.schemas import (
    InteractionId,
    LongText,
    NewCaseBody,
    Ref,
    ShortText,
    check_one_case,
    loads,
)

RequestId = Annotated[str, Field(max_length=128)] | StrictInt | None


class ServerMessage(StrEnum):
    """Server to client. Client to server: ``ping`` and the agent's commands below."""

    HELLO = "hello"
    EVENT = "event"
    BROADCAST = "broadcast"
    PONG = "pong"
    RESULT = "result"
    ERROR = "error"


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    id: RequestId = None


class Ping(_Message):
    type: Literal["ping"]


class Accept(_Message):
    type: Literal["accept"]
    interaction_id: InteractionId


class Reject(_Message):
    type: Literal["reject"]
    interaction_id: InteractionId
    reason: ShortText = ""


class Ready(_Message):
    type: Literal["ready"]


class NotReady(_Message):
    type: Literal["not_ready"]
    reason: Ref


class Complete(_Message):
    type: Literal["complete"]
    interaction_id: InteractionId


class WrapUp(_Message):
    type: Literal["wrap_up"]
    interaction_id: InteractionId
    disposition: Ref | None = None
    notes: LongText = ""
    case_id: Annotated[int, Field(ge=1)] | None = None
    new_case: NewCaseBody | None = None

    @model_validator(mode="after")
    def _one_case(self) -> Self:
        check_one_case(self.case_id, self.new_case)
        return self


ClientMessage = Ping | Accept | Reject | Ready | NotReady | Complete | WrapUp
Command = Accept | Reject | Ready | NotReady | Complete | WrapUp

_CLIENT_MESSAGE: TypeAdapter[ClientMessage] = TypeAdapter(
    Annotated[ClientMessage, Field(discriminator="type")]
)
CLIENT_TYPES: frozenset[str] = frozenset(
    {"ping", "accept", "reject", "ready", "not_ready", "complete", "wrap_up"}
)


class ProtocolError(TrunklineError):
    """A client message the server cannot read; answered with an error, socket kept open."""

    error_id = "invalid_message"

    def __init__(
        self, message: str, *, request_id: Any = None, details: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(message, details=details)
        self.request_id = request_id


class MessageJsonError(ProtocolError):
    error_id = "invalid_json"


class UnknownMessageTypeError(ProtocolError):
    error_id = "unknown_type"


class InvalidMessageError(ProtocolError):
    error_id = "invalid_request"


def _request_id(data: Any) -> Any:
    """The client's request id when it is usable, so even a bad message can be matched."""
    if not isinstance(data, dict):
        return None
    rid = data.get("id")
    if isinstance(rid, bool) or not isinstance(rid, str | int):
        return None
    return rid if not isinstance(rid, str) or len(rid) <= 128 else None


def decode(text: str, *, allowed: Iterable[str] = CLIENT_TYPES) -> ClientMessage:
    """Parse one client text message; raise :class:`ProtocolError` if it is not valid."""
    try:
        data = loads(text)
    except TrunklineError as exc:
        raise MessageJsonError(exc.message) from None
    rid = _request_id(data)
    kind = data.get("type") if isinstance(data, dict) else None
    allowed = frozenset(allowed)
    if not isinstance(kind, str) or kind not in allowed:
        raise UnknownMessageTypeError(
            f"unknown message type {kind!r}", request_id=rid, details={"allowed": sorted(allowed)}
        )
    try:
        return _CLIENT_MESSAGE.validate_python(data)
    except ValidationError as exc:
        errors = [
            # The first part of each location is the union member's tag: drop it.
            {"field": ".".join(str(p) for p in e["loc"][1:]), "message": e["msg"]}
            for e in exc.errors(include_url=False, include_input=False, include_context=False)
        ]
        raise InvalidMessageError(
            f"invalid {kind} message", request_id=rid, details={"errors": errors}
        ) from None


def _views(views: Iterable[InteractionView | AgentView | QueueView]) -> list[dict[str, Any]]:
    return [v.as_dict() for v in views]


ScreenPopOf = Callable[[str], Mapping[str, Any] | None]


def _with_pops(views: Iterable[InteractionView], pop_of: ScreenPopOf) -> list[dict[str, Any]]:
    return [{**v.as_dict(), "screen_pop": pop_of(v.id)} for v in views]


def agent_hello(
    agent: AgentView,
    offers: Iterable[InteractionView],
    interactions: Iterable[InteractionView],
    *,
    pop_of: ScreenPopOf = lambda _id: None,
    broadcasts: Iterable[Mapping[str, Any]] = (),
) -> str:
    """The desktop's starting point: each offer and held interaction with its screen-pop,
    and the broadcasts of the last hour (oldest first)."""
    return dumps(
        {
            "type": ServerMessage.HELLO,
            "agent": agent.as_dict(),
            "offers": _with_pops(offers, pop_of),
            "interactions": _with_pops(interactions, pop_of),
            "broadcasts": [dict(b) for b in broadcasts],
        }
    )


def supervisor_hello(
    queues: Iterable[QueueView],
    agents: Iterable[AgentView],
    interactions: Iterable[InteractionView],
) -> str:
    return dumps(
        {
            "type": ServerMessage.HELLO,
            "queues": _views(queues),
            "agents": _views(agents),
            "interactions": _views(interactions),
        }
    )


def event(e: Event, extra: Mapping[str, Any] | None = None) -> str:
    """An event; ``extra`` adds fields beside it (an offer's ``screen_pop``)."""
    message = {"type": ServerMessage.EVENT, "event": event_to_dict(e)}
    if extra:
        message.update(extra)
    return dumps(message)


def broadcast(fields: Mapping[str, Any]) -> str:
    """A supervisor's message to agents: ``{at, from, text, queue}``."""
    return dumps({"type": ServerMessage.BROADCAST, **fields})


def pong(request_id: Any) -> str:
    return dumps({"type": ServerMessage.PONG, "id": request_id})


def result(request_id: Any, **extra: Any) -> str:
    return dumps({"type": ServerMessage.RESULT, "id": request_id, "ok": True, **extra})


def error(
    request_id: Any, error_id: str, message: str, details: Mapping[str, Any] | None = None
) -> str:
    return dumps(
        {
            "type": ServerMessage.ERROR,
            "id": request_id,
            "error_id": error_id,
            "message": message,
            "details": dict(details or {}),
        }
    )
