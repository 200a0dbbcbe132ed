"""Errors of the routing engine."""

from __future__ import annotations

from trunkline.domain.errors import ConflictError


class OfferGoneError(ConflictError):
    """The offer was answered, withdrawn or timed out before this request arrived."""

    error_id = "offer_gone"


class AgentBusyError(ConflictError):
    error_id = "agent_has_work"


class DuplicateInteractionError(ConflictError):
    error_id = "duplicate_interaction"
