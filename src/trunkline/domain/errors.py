"""Error hierarchy shared by every layer; each error carries a stable ``error_id``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class TrunklineError(Exception):
    """Root of every error Trunkline raises on purpose.

    ``error_id`` is stable and machine-readable (clients switch on it); ``status`` is the
    HTTP status the web layer answers with.
    """

    error_id: ClassVar[str] = "trunkline_error"
    status: ClassVar[int] = 400

    def __init__(self, message: str, *, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})


class NotFoundError(TrunklineError, LookupError):
    error_id = "not_found"
    status = 404


class UnknownInteractionError(NotFoundError):
    error_id = "unknown_interaction"


class UnknownAgentError(NotFoundError):
    error_id = "unknown_agent"


class UnknownQueueError(NotFoundError):
    error_id = "unknown_queue"


class UnknownOfferError(NotFoundError):
    error_id = "unknown_offer"


class IllegalTransitionError(TrunklineError):
    """A state change that the state machine's table does not allow."""

    error_id = "illegal_transition"
    status = 409


class ConflictError(TrunklineError):
    error_id = "conflict"
    status = 409


class InvalidRequestError(TrunklineError):
    error_id = "invalid_request"
    status = 400


class QueueClosedError(TrunklineError):
    error_id = "queue_closed"
    status = 409


class ConfigError(TrunklineError):
    """The configuration file is invalid; ``details['errors']`` lists file/line/field."""

    error_id = "invalid_config"
    status = 422
