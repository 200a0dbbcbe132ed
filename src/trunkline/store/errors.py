"""Errors raised by the SQL event record."""

from __future__ import annotations

from trunkline.domain.errors import TrunklineError


class StoreError(TrunklineError):
    """The event record cannot be opened, read or written."""

    error_id = "store_error"
    status = 503
