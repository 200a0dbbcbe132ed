"""CRM errors, each with a stable ``error_id`` the API answers with."""

from __future__ import annotations

from trunkline.domain.errors import ConflictError, InvalidRequestError, NotFoundError


class UnknownContactError(NotFoundError):
    error_id = "unknown_contact"


class UnknownCaseError(NotFoundError):
    error_id = "unknown_case"


class InvalidIdentityError(InvalidRequestError):
    """A phone number, e-mail address or other identity that cannot be normalised."""

    error_id = "invalid_identity"


class IdentityTakenError(ConflictError):
    """The identity already belongs to another contact (merge them instead)."""

    error_id = "identity_taken"


class ContactMergedError(ConflictError):
    """The contact was merged into another; ``details['merged_into']`` names it."""

    error_id = "contact_merged"


class StaleContactError(ConflictError):
    """An update named a version that is no longer the contact's current one."""

    error_id = "stale_contact"


class IllegalCaseTransitionError(ConflictError):
    error_id = "illegal_case_transition"
