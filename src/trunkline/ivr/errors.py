"""Errors of the IVR core: invalid flow files and dialled numbers without a flow."""

from __future__ import annotations

from trunkline.domain.errors import ConfigError, NotFoundError, TrunklineError


class IvrError(TrunklineError):
    """Root of the IVR core's errors."""

    error_id = "ivr_error"


class FlowConfigError(IvrError, ConfigError):
    """A flow file is invalid; ``details['errors']`` lists file/line/field/message."""

    error_id = "invalid_ivr_flow"
    status = 422


class UnknownNumberError(IvrError, NotFoundError):
    """No flow is attached to the dialled number."""

    error_id = "ivr_unknown_number"
