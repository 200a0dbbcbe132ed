"""Configuration: the YAML file that defines queues, agents, skills, hours and rules."""

from __future__ import annotations

from trunkline.config.loader import (
    DEFAULT_CONFIG,
    DEMO_CONFIG,
    SYSTEM_NOT_READY_REASONS,
    CentreSettings,
    Config,
    NotReadyReason,
    UserSpec,
    WrapUpCode,
    load_config,
    load_config_text,
    load_packaged_config,
)

__all__ = [
    "DEFAULT_CONFIG",
    "DEMO_CONFIG",
    "SYSTEM_NOT_READY_REASONS",
    "CentreSettings",
    "Config",
    "NotReadyReason",
    "UserSpec",
    "WrapUpCode",
    "load_config",
    "load_config_text",
    "load_packaged_config",
]
