"""IVR: flows loaded from YAML (:mod:`.model`) and a sans-IO interpreter (:mod:`.interpreter`)."""

from __future__ import annotations

from trunkline.ivr.errors import FlowConfigError, IvrError, UnknownNumberError
from trunkline.ivr.interpreter import (
    Command,
    CreateCallback,
    CreateVoicemail,
    Enqueue,
    Hangup,
    IvrSession,
    LeaveQueue,
    LookupCustomer,
    Outcome,
    Play,
    PromptPiece,
    SayDuration,
    SayNumber,
    SessionState,
    StartHoldMusic,
    StartRecording,
    StopHoldMusic,
    StopPlayback,
    StopRecording,
    TransferOut,
)
from trunkline.ivr.model import Flow, IvrConfig, load_flows

__all__ = [
    "Command",
    "CreateCallback",
    "CreateVoicemail",
    "Enqueue",
    "Flow",
    "FlowConfigError",
    "Hangup",
    "IvrConfig",
    "IvrError",
    "IvrSession",
    "LeaveQueue",
    "LookupCustomer",
    "Outcome",
    "Play",
    "PromptPiece",
    "SayDuration",
    "SayNumber",
    "SessionState",
    "StartHoldMusic",
    "StartRecording",
    "StopHoldMusic",
    "StopPlayback",
    "StopRecording",
    "TransferOut",
    "UnknownNumberError",
    "load_flows",
]
