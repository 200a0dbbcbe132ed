"""Request bodies and query strings as pydantic models: strict, so an unknown field or a
wrong type is a 400 rather than silently ignored."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, Self, TypeVar

from aiohttp import web
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
    ValidationError,
    model_validator,
)

from trunkline.domain.errors import InvalidRequestError
from trunkline.domain.interaction import InteractionState
from trunkline.domain.media import Medium
from trunkline.web.errors import InvalidJsonError

# Ids end up in URLs, metric labels and log lines: the same plain form the config uses.
Ref = Annotated[
    StrictStr, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]*$", max_length=64)
]
# Interaction ids may come from a channel (a SIP Call-ID, a message id): a little wider.
InteractionId = Annotated[
    StrictStr, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@:+-]*$", max_length=128)
]
Level = Annotated[StrictInt, Field(ge=1, le=5)]
ShortText = Annotated[StrictStr, StringConstraints(max_length=200)]
LongText = Annotated[StrictStr, StringConstraints(max_length=4000)]

MAX_PAGE = 1000


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LoginBody(Body):
    username: Annotated[StrictStr, StringConstraints(min_length=1, max_length=128)]
    # Bounded so a megabyte "password" cannot make argon2 chew on it.
    password: Annotated[StrictStr, StringConstraints(max_length=1024)]


class CreateInteractionBody(Body):
    id: InteractionId | None = Field(default=None, description="Generated when absent")
    medium: Medium
    queue: Ref
    priority: Annotated[StrictInt, Field(ge=-100, le=100)] = 0
    skills: Annotated[dict[Ref, Level], Field(max_length=50)] = {}
    data: dict[str, Any] = {}
    customer_id: ShortText | None = None
    preferred_agent: Ref | None = None


class CancelBody(Body):
    reason: Literal["abandoned", "cancelled"] | None = Field(
        default=None,
        description=(
            "abandoned: the customer left (while waiting this is an abandon; during a "
            "conversation it ends handling). cancelled: withdrawn by the centre. Default: "
            "abandoned while waiting, cancelled once an agent holds it."
        ),
    )


class _ActingBody(Body):
    agent_id: Ref | None = Field(default=None, description="Supervisors only: the agent to act for")


class AcceptBody(_ActingBody):
    pass


class CompleteBody(_ActingBody):
    pass


class RejectBody(_ActingBody):
    reason: ShortText = ""


CaseSubject = Annotated[StrictStr, StringConstraints(min_length=1, max_length=200)]


class NewCaseBody(Body):
    """A case opened at wrap-up for the interaction's customer."""

    subject: CaseSubject
    description: LongText = ""
    priority: Literal["low", "normal", "high", "urgent"] = "normal"


def check_one_case(case_id: int | None, new_case: NewCaseBody | None) -> None:
    """Wrap-up links an existing case or opens a new one, never both (REST and websocket)."""
    if case_id is not None and new_case is not None:
        raise ValueError("give case_id or new_case, not both")


class WrapUpBody(_ActingBody):
    disposition: Ref | None = None
    notes: LongText = ""
    case_id: Annotated[StrictInt, Field(ge=1)] | None = Field(
        default=None, description="Link the interaction to this case of the customer"
    )
    new_case: NewCaseBody | None = Field(
        default=None, description="Open a case for the customer, linked to this interaction"
    )

    @model_validator(mode="after")
    def _one_case(self) -> Self:
        check_one_case(self.case_id, self.new_case)
        return self


class MoveBody(Body):
    queue: Ref | None = None
    agent: Ref | None = None

    @model_validator(mode="after")
    def _somewhere(self) -> Self:
        if self.queue is None and self.agent is None:
            raise ValueError("a move needs a queue or an agent")
        return self


class BroadcastBody(Body):
    text: Annotated[
        StrictStr, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)
    ]
    queue: Ref | None = Field(default=None, description="Only this queue's agents; all when absent")


class TransferBody(_ActingBody):
    queue: Ref | None = None
    agent: Ref | None = None

    @model_validator(mode="after")
    def _somewhere(self) -> Self:
        if self.queue is None and self.agent is None:
            raise ValueError("a transfer needs a queue or an agent")
        return self


class AgentLoginBody(Body):
    ready: StrictBool = False


class AgentLogoutBody(Body):
    reason: ShortText = ""
    force: StrictBool = Field(default=False, description="Supervisors only")


class AgentStateBody(Body):
    state: Literal["ready", "not_ready"]
    reason: Ref | None = Field(default=None, description="A not-ready reason code")

    @model_validator(mode="after")
    def _reason_when_not_ready(self) -> Self:
        if self.state == "not_ready" and self.reason is None:
            raise ValueError("not_ready needs a reason code")
        return self


class AgentProfileBody(Body):
    skills: Annotated[dict[Ref, Level], Field(max_length=50)] | None = None
    queues: Annotated[list[Ref], Field(max_length=100)] | None = None

    @model_validator(mode="after")
    def _something(self) -> Self:
        if self.skills is None and self.queues is None:
            raise ValueError("give skills, queues or both")
        return self


class InteractionListQuery(Body):
    # Query values arrive as text, so these fields convert (lax) but stay bounded.
    state: InteractionState | None = None
    queue: Ref | None = None
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE)] = 100
    offset: Annotated[int, Field(ge=0, le=1_000_000)] = 0


M = TypeVar("M", bound=BaseModel)


def validation_details(exc: ValidationError) -> dict[str, Any]:
    """Field and message of each problem; never the input (it may hold a password)."""
    errors = []
    for err in exc.errors(include_url=False, include_input=False, include_context=False):
        field = ".".join(str(part) for part in err["loc"])
        errors.append({"field": field, "message": err["msg"], "type": err["type"]})
    return {"errors": errors}


def validate(model: type[M], data: Any, *, what: str = "request body") -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidRequestError(f"invalid {what}", details=validation_details(exc)) from None


def loads(raw: bytes | str) -> Any:
    """Parse JSON text; anything unparsable is an :class:`InvalidJsonError`."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        raise InvalidJsonError(f"the body is not valid JSON: {exc}") from None


async def parse_body(request: web.Request, model: type[M]) -> M:
    """The JSON body validated as ``model``; an empty body counts as ``{}``."""
    raw = await request.read()
    data = loads(raw) if raw.strip() else {}
    return validate(model, data)


def parse_query(request: web.Request, model: type[M]) -> M:
    # A repeated key keeps its first value, like most frameworks.
    data = {key: request.query.getone(key) for key in request.query}
    return validate(model, data, what="query string")
