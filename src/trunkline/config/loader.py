"""Load the YAML configuration into domain objects the router uses directly.

Every problem in the file is collected and raised together as one :class:`ConfigError`
whose message lines read ``file:line: field.path: what is wrong``.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from trunkline.config.crm_settings import CrmSettings, ExternalCrmSettings
from trunkline.config.model import (
    CapacityProfileModel,
    ConfigModel,
    CrmModel,
    QueueModel,
    Role,
    VoiceModel,
    reference_context,
)
from trunkline.config.yaml_lines import KeyPath, LocatedYaml, parse_yaml
from trunkline.domain.agent import AgentSpec, CapacityProfile
from trunkline.domain.calendar import ALWAYS_OPEN, BusinessHours
from trunkline.domain.errors import ConfigError
from trunkline.domain.interaction import InteractionRequest
from trunkline.domain.media import Medium
from trunkline.domain.queue import (
    EscalationStep,
    QueueSpec,
    ServiceLevelTarget,
    WallboardThresholds,
    WrapUpPolicy,
)
from trunkline.router.rules import NO_RULES, RuleSet, compile_rules

__all__ = [
    "DEFAULT_CONFIG",
    "DEMO_CONFIG",
    "SYSTEM_NOT_READY_REASONS",
    "CentreSettings",
    "Config",
    "NotReadyReason",
    "SipCredentials",
    "UserSpec",
    "VoiceSettings",
    "WrapUpCode",
    "load_config",
    "load_config_text",
    "load_packaged_config",
]

DEFAULT_CONFIG = "default.yaml"
DEMO_CONFIG = "demo.yaml"

# Reasons the system itself puts agents in: always present so reports can name them.
SYSTEM_NOT_READY_REASONS: Mapping[str, str] = {
    "missed": "Missed offer",
    "disconnected": "Disconnected",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class CentreSettings:
    name: str = "Trunkline"
    timezone: str = "UTC"
    priority_unit_s: float = 60.0  # one priority step ranks like this much extra waiting
    preferred_head_start_s: float = 20.0  # how long a preferred agent is waited for
    disconnect_grace_s: float = 30.0  # a desktop may reconnect this long before logout


@dataclass(frozen=True, slots=True, kw_only=True)
class UserSpec:
    """Someone who logs in. Every agent is a user with role ``agent`` and ``agent_id``."""

    id: str
    name: str = ""
    role: Role
    password_hash: str | None = None  # None: cannot log in
    agent_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class WrapUpCode:
    code: str
    label: str
    resolved: bool = False  # counts towards first-contact resolution


@dataclass(frozen=True, slots=True, kw_only=True)
class NotReadyReason:
    code: str
    label: str
    system: bool = False  # set by Trunkline itself (missed offer, lost connection)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportingConfig:
    """What reports need from the file: the short-abandon threshold and costs per medium."""

    short_abandon_s: float = 5.0
    cost_per_handled_minute: Mapping[Medium, float] = field(default_factory=dict)
    cost_per_interaction: Mapping[Medium, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class SipCredentials:
    """An agent's SIP digest secrets: HA1 hex per base algorithm ("SHA-256", "MD5")."""

    agent_id: str
    ha1: Mapping[str, str]


@dataclass(frozen=True, slots=True, kw_only=True)
class VoiceSettings:
    """The ``voice:`` section: SIP realm, RTP ports, echo numbers, agents' SIP secrets."""

    realm: str = "trunkline"
    rtp_ports: tuple[int, int] = (20000, 20999)  # both ends included
    echo_numbers: frozenset[str] = frozenset({"echo"})
    public_address: str = "127.0.0.1"  # the address put in SDP and Contact
    echo_answer_delay_s: float = 0.0  # echo calls ring (180) this long before the 200
    digest_algorithms: tuple[str, ...] = ("SHA-256", "MD5")  # challenge order
    max_bindings: int = 5  # contacts per AOR
    min_expires_s: int = 60  # shorter registrations get 423 (RFC 3261 §10.3 step 7)
    max_expires_s: int = 3600  # longer ones are cut to this
    sip_credentials: Mapping[str, SipCredentials] = field(
        default_factory=lambda: MappingProxyType({})
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    """The loaded configuration: domain objects keyed by id, in file order."""

    source: str
    centre: CentreSettings
    skills: Mapping[str, str]  # name -> description
    business_hours: Mapping[str, BusinessHours]
    capacity_profiles: Mapping[str, CapacityProfile]
    queues: Mapping[str, QueueSpec]
    agents: Mapping[str, AgentSpec]
    users: Mapping[str, UserSpec]
    wrap_up_codes: Mapping[str, WrapUpCode]
    not_ready_reasons: Mapping[str, NotReadyReason]
    rules: RuleSet = NO_RULES
    reporting: ReportingConfig = field(default_factory=ReportingConfig)
    crm: CrmSettings = field(default_factory=CrmSettings)
    voice: VoiceSettings = field(default_factory=VoiceSettings)

    def is_open(self, queue: str, now: float) -> bool:
        """Whether ``queue`` is open at ``now``; raises ``KeyError`` for an unknown queue."""
        return self.queues[queue].hours.is_open(now)

    def apply_rules(
        self, request: InteractionRequest, *, now: float
    ) -> tuple[InteractionRequest, tuple[str, ...]]:
        """:meth:`RuleSet.apply` with this centre's time zone and business hours."""
        return self.rules.apply(
            request,
            now=now,
            timezone=self.centre.timezone,
            is_open=lambda queue: self.is_open(queue, now),
        )


# -- entry points ------------------------------------------------------------------------


def load_config(path: str | Path | None = None) -> Config:
    """Load the file at ``path``; ``None`` loads the packaged ``default.yaml``."""
    if path is None:
        return load_packaged_config(DEFAULT_CONFIG)
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise _error(source, [_Problem((), f"cannot read the configuration: {reason}")]) from None
    return load_config_text(text, source)


def load_packaged_config(name: str = DEFAULT_CONFIG) -> Config:
    """Load a file shipped inside the package (``default.yaml``, ``demo.yaml``)."""
    resource = resources.files("trunkline.config").joinpath(name)
    return load_config_text(resource.read_text(encoding="utf-8"), str(resource))


def load_config_text(text: str, source: str = "<config>") -> Config:
    """Load configuration from YAML ``text``; ``source`` names it in error messages."""
    doc = parse_yaml(text, source)
    raw: Any = {} if doc.data is None else doc.data
    if not isinstance(raw, Mapping):
        raise _error(source, [_Problem((), "expected a mapping of sections (centre, queues...)")])
    problems = [
        _Problem(d.path, f"duplicate key (first written at line {d.first_line})", d.line)
        for d in doc.duplicates
    ]
    context = reference_context(raw)
    model: ConfigModel | None = None
    try:
        model = ConfigModel.model_validate(raw, context=context)
    except ValidationError as exc:
        problems.extend(_pydantic_problems(exc))
    problems.extend(_duplicate_ids(raw))
    problems.extend(_overflow_targets(raw))
    rules = _compile_rules(raw.get("rules"), context, problems)
    if problems or model is None:
        raise _error(source, problems, doc)
    return _build(model, rules, source)


# -- problems ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Problem:
    path: KeyPath
    message: str
    line: int | None = None  # None: look the path up in the document


def _field_name(path: Sequence[Hashable]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _error(
    source: str, problems: Sequence[_Problem], doc: LocatedYaml | None = None
) -> ConfigError:
    entries = []
    for problem in problems:
        line = problem.line
        if line is None and doc is not None:
            line = doc.line_of(problem.path)
        entries.append(
            {
                "file": source,
                "line": line,
                "field": _field_name(problem.path),
                "message": problem.message,
            }
        )
    entries.sort(key=lambda e: e["line"] or 0)
    lines = []
    for e in entries:
        where = f"{source}:{e['line']}" if e["line"] is not None else source
        lines.append(
            f"{where}: {e['field']}: {e['message']}" if e["field"] else f"{where}: {e['message']}"
        )
    return ConfigError("\n".join(lines), details={"errors": entries})


def _pydantic_problems(exc: ValidationError) -> list[_Problem]:
    problems = []
    for err in exc.errors(include_url=False):
        # "[key]" marks an error in a mapping's key rather than its value; the key's own
        # path is where it is written.
        path = tuple(p for p in err["loc"] if p != "[key]")
        if err["type"] == "extra_forbidden":
            message = _unknown_field(path)
        elif err["type"] == "value_error" and "error" in err.get("ctx", {}):
            message = str(err["ctx"]["error"])  # our own validators' words, without a prefix
        elif err["type"] == "model_type":
            message = "expected a mapping of settings"  # not pydantic's class name
        else:
            message = err["msg"]
            if "[key]" in err["loc"]:
                message = f"invalid key: {message}"
        problems.append(_Problem(path, message))
    return problems


def _unknown_field(path: KeyPath) -> str:
    name = str(path[-1]) if path else ""
    allowed = _allowed_fields(path[:-1])
    if not allowed:
        return f"unknown field {name!r}"
    close = difflib.get_close_matches(name, allowed, n=1)
    if close:
        return f"unknown field {name!r} (did you mean {close[0]!r}?)"
    return f"unknown field {name!r} (expected one of: {', '.join(allowed)})"


def _allowed_fields(path: KeyPath) -> list[str]:
    """The keys the model at ``path`` accepts, found by walking the field annotations."""
    current: Any = ConfigModel
    for part in path:
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return []
            current = field.annotation
        elif typing.get_origin(current) is dict:
            current = typing.get_args(current)[1]
        elif typing.get_origin(current) is list:
            current = typing.get_args(current)[0]
        else:
            return []
        current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    """Strip ``Annotated[...]`` and ``X | None`` down to the type underneath."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def _duplicate_ids(raw: Mapping[str, Any]) -> list[_Problem]:
    """Ids that must be unique: logins across agents and users, and the two code lists."""
    problems: list[_Problem] = []
    groups: tuple[tuple[tuple[str, ...], str], ...] = (
        (("agents", "users"), "id"),
        (("wrap_up_codes",), "code"),
        (("not_ready_reasons",), "code"),
    )
    for sections, key in groups:
        first: dict[str, str] = {}
        for section in sections:
            items = raw.get(section)
            if not isinstance(items, list):
                continue
            for index, item in enumerate(items):
                value = item.get(key) if isinstance(item, Mapping) else None
                if not isinstance(value, str):
                    continue
                here = f"{section}[{index}]"
                if value in first:
                    message = f"duplicate {key} {value!r} (also {first[value]})"
                    problems.append(_Problem((section, index, key), message))
                else:
                    first[value] = here
    return problems


def _overflow_targets(raw: Mapping[str, Any]) -> list[_Problem]:
    """``closed_action: overflow`` needs a target that is not the queue itself.

    Checked on the raw data rather than in the model: a model-level validator only runs
    once every other field of the queue is valid, and this should be reported with them.
    """
    queues = raw.get("queues")
    problems: list[_Problem] = []
    for qid, queue in queues.items() if isinstance(queues, Mapping) else ():
        if not isinstance(queue, Mapping):
            continue
        target = queue.get("closed_overflow_queue")
        if queue.get("closed_action") == "overflow" and target is None:
            message = "closed_action 'overflow' needs closed_overflow_queue"
            problems.append(_Problem(("queues", qid, "closed_action"), message))
        elif target is not None and target == qid:
            message = "a queue cannot overflow into itself"
            problems.append(_Problem(("queues", qid, "closed_overflow_queue"), message))
    return problems


def _compile_rules(
    raw_rules: Any, context: Mapping[str, frozenset[str] | None], problems: list[_Problem]
) -> RuleSet:
    # Malformed shapes (not a list of mappings) are already reported by the model.
    if not isinstance(raw_rules, list) or not all(isinstance(r, Mapping) for r in raw_rules):
        return NO_RULES
    try:
        return compile_rules(raw_rules, skills=context["skills"], queues=context["queues"])
    except ConfigError as exc:
        for err in exc.details.get("errors", []):
            problems.append(_Problem(("rules", err["index"], *err["path"]), err["message"]))
        return NO_RULES


# -- building ----------------------------------------------------------------------------


def _build(model: ConfigModel, rules: RuleSet, source: str) -> Config:
    centre = CentreSettings(**model.centre.model_dump())
    calendars = {
        name: BusinessHours(
            name=name,
            timezone=m.timezone or centre.timezone,
            weekly={day: tuple(windows) for day, windows in m.weekly.items()},
            closed_dates=frozenset(m.closed_dates),
        )
        for name, m in model.business_hours.items()
    }
    profiles: dict[str, CapacityProfile] = {"default": CapacityProfile()}
    profiles.update({name: _profile(name, m) for name, m in model.capacity_profiles.items()})
    queues = {qid: _queue(qid, m, calendars) for qid, m in model.queues.items()}
    agents = {
        m.id: AgentSpec(
            id=m.id,
            name=m.name or m.id,
            skills=dict(m.skills),
            queues=frozenset(m.queues),
            capacity=profiles[m.capacity],
            team=m.team,
        )
        for m in model.agents
    }
    users = {
        m.id: UserSpec(
            id=m.id, name=m.name or m.id, role="agent", password_hash=m.password_hash, agent_id=m.id
        )
        for m in model.agents
    }
    users.update(
        {
            m.id: UserSpec(id=m.id, name=m.name or m.id, role=m.role, password_hash=m.password_hash)
            for m in model.users
        }
    )
    wrap_up_codes = {
        m.code: WrapUpCode(code=m.code, label=m.label or m.code, resolved=m.resolved)
        for m in model.wrap_up_codes
    }
    reasons = {
        m.code: NotReadyReason(code=m.code, label=m.label or m.code)
        for m in model.not_ready_reasons
    }
    for code, label in SYSTEM_NOT_READY_REASONS.items():
        reasons.setdefault(code, NotReadyReason(code=code, label=label, system=True))
    return Config(
        source=source,
        centre=centre,
        skills=_frozen(model.skills),
        business_hours=_frozen(calendars),
        capacity_profiles=_frozen(profiles),
        queues=_frozen(queues),
        agents=_frozen(agents),
        users=_frozen(users),
        wrap_up_codes=_frozen(wrap_up_codes),
        not_ready_reasons=_frozen(reasons),
        rules=rules,
        reporting=ReportingConfig(
            short_abandon_s=model.reporting.short_abandon_s,
            cost_per_handled_minute=MappingProxyType(
                {m: c.per_handled_minute for m, c in model.reporting.costs.items()}
            ),
            cost_per_interaction=MappingProxyType(
                {m: c.per_interaction for m, c in model.reporting.costs.items()}
            ),
        ),
        crm=_crm(model.crm),
        voice=_voice(model),
    )


def _voice(model: ConfigModel) -> VoiceSettings:
    v: VoiceModel = model.voice
    credentials: dict[str, SipCredentials] = {}
    for agent in model.agents:
        if agent.sip_ha1 is None:
            continue
        ha1: dict[str, str] = {}
        if agent.sip_ha1.sha256 is not None:
            ha1["SHA-256"] = agent.sip_ha1.sha256
        if agent.sip_ha1.md5 is not None:
            ha1["MD5"] = agent.sip_ha1.md5
        credentials[agent.id] = SipCredentials(agent_id=agent.id, ha1=MappingProxyType(ha1))
    return VoiceSettings(
        realm=v.realm,
        rtp_ports=v.rtp_ports,
        echo_numbers=frozenset(v.echo_numbers),
        public_address=v.public_address,
        echo_answer_delay_s=v.echo_answer_delay_s,
        digest_algorithms=tuple(v.digest_algorithms),
        max_bindings=v.max_bindings,
        min_expires_s=v.min_expires_s,
        max_expires_s=v.max_expires_s,
        sip_credentials=_frozen(credentials),
    )


def _crm(m: CrmModel) -> CrmSettings:
    external = None
    if m.external is not None:
        e = m.external
        external = ExternalCrmSettings(
            url=e.url,
            method=e.method,
            headers=MappingProxyType(dict(e.headers)),
            fields=MappingProxyType(dict(e.fields)),
            identities=tuple(e.identities),
            timeout_s=e.timeout_s,
            cache_ttl_s=e.cache_ttl_s,
            cache_size=e.cache_size,
            screen_pop_url=e.screen_pop_url,
        )
    return CrmSettings(
        default_region=m.default_region,
        history_size=m.history_size,
        provisional_contacts=m.provisional_contacts,
        preferred_agents=tuple(m.preferred_agents),
        class_priority=MappingProxyType(dict(m.class_priority)),
        external=external,
    )


_V = TypeVar("_V")


def _frozen(mapping: Mapping[str, _V]) -> Mapping[str, _V]:
    return MappingProxyType(dict(mapping))


def _profile(name: str, m: CapacityProfileModel) -> CapacityProfile:
    base = CapacityProfile()
    return CapacityProfile(
        name=name,
        limits=dict(m.limits) if m.limits is not None else base.limits,
        exclusive=frozenset(m.exclusive) if m.exclusive is not None else base.exclusive,
        max_total=m.max_total,
    )


def _queue(qid: str, m: QueueModel, calendars: Mapping[str, BusinessHours]) -> QueueSpec:
    steps = sorted(m.escalation, key=lambda s: s.after_s)  # the router applies them in order
    return QueueSpec(
        id=qid,
        name=m.name or qid,
        strict_priority=m.strict_priority,
        strategy=m.strategy,
        offer_timeout_s=m.offer_timeout_s,
        wrap_up=WrapUpPolicy(mode=m.wrap_up.mode, seconds=m.wrap_up.seconds),
        escalation=tuple(
            EscalationStep(
                after_s=s.after_s,
                lower_skills=dict(s.lower_skills),
                drop_skills=frozenset(s.drop_skills),
                add_queues=frozenset(s.add_queues),
                raise_priority=s.raise_priority,
            )
            for s in steps
        ),
        hours=calendars[m.hours] if m.hours is not None else ALWAYS_OPEN,
        closed_action=m.closed_action,
        closed_overflow_queue=m.closed_overflow_queue,
        service_level={
            medium: ServiceLevelTarget(percent=t.percent, threshold_s=t.threshold_s)
            for medium, t in m.service_level.items()
        },
        transfer_head_start_s=m.transfer_head_start_s,
        wallboard=WallboardThresholds(**m.wallboard.model_dump()),
    )
