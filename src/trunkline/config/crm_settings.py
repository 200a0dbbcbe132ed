"""The CRM part of the configuration, as the CRM service and its connector use it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

PreferredAgentSource = Literal["last_agent", "owner"]
IdentityKindName = Literal["account", "phone", "email", "visitor"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ExternalCrmSettings:
    """An HTTP endpoint that returns the customer's record from another CRM.

    ``url`` and ``screen_pop_url`` are templates: ``{phone}``, ``{email}``, ``{account}``,
    ``{visitor}``, ``{contact_id}`` and, in ``screen_pop_url`` only, ``{external.<field>}``
    (a mapped field of the fetched record). Header values may name environment variables
    as ``${NAME}`` so secrets stay out of the file. ``fields`` maps a screen-pop field to a
    dotted path in the endpoint's JSON answer.
    """

    url: str
    method: Literal["GET", "POST"] = "GET"
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    fields: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    identities: tuple[IdentityKindName, ...] = ("account", "phone", "email", "visitor")
    timeout_s: float = 0.5
    cache_ttl_s: float = 300.0
    cache_size: int = 10_000
    screen_pop_url: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CrmSettings:
    default_region: str = "US"  # how national phone numbers are read
    history_size: int = 10  # earlier interactions shown in the screen-pop
    provisional_contacts: bool = True  # an unknown identity creates a provisional contact
    preferred_agents: tuple[PreferredAgentSource, ...] = ("last_agent", "owner")
    # Priority added to a customer's interactions by class: {vip: 50} ranks a VIP as if
    # they had waited 50 priority units longer (see centre.priority_unit_s).
    class_priority: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    external: ExternalCrmSettings | None = None
