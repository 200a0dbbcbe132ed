"""Pydantic models of the configuration file: shapes, ranges and references, nothing more.

Unknown keys are errors (``extra="forbid"``) so a typo never silently means "default".
Names that refer to other sections (skills, queues, calendars, capacity profiles) are
checked against the sets passed in the validation context (see :func:`reference_context`),
so every bad reference is reported in the same pass as every other problem.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from datetime import date, time
from typing import Annotated, Any, Literal, Self, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    ValidationInfo,
    model_validator,
)

from trunkline.domain.media import Medium
from trunkline.domain.queue import ClosedAction, SelectionStrategy, WrapUpMode

# -- scalar types ------------------------------------------------------------------------

_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]*")


def _check_id(value: str) -> str:
    # Ids end up in URLs, metric labels and log lines: keep them plain.
    if not _ID_RE.fullmatch(value) or len(value) > 64:
        raise ValueError(
            f"{value!r} is not a valid id: use up to 64 letters, digits, '_', '.', '@' or '-', "
            "starting with a letter or digit"
        )
    return value


Id = Annotated[str, AfterValidator(_check_id)]
Level = Annotated[int, Field(ge=1, le=5)]


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r} (use an IANA name like 'Europe/London')"
        ) from None
    return value


TimeZone = Annotated[str, AfterValidator(_check_timezone)]

_PASSWORD_HASH_RE = re.compile(r"\$argon2(id|i|d)\$.+")


def _check_password_hash(value: str) -> str:
    # A plain password pasted here would otherwise fail every login in silence.
    if not _PASSWORD_HASH_RE.fullmatch(value):
        raise ValueError("expected an argon2 hash ('$argon2id$...'), not a plain password")
    return value


PasswordHash = Annotated[str, AfterValidator(_check_password_hash)]

_CLOCK_RE = re.compile(r"(\d{1,2}):(\d{2})")


def _clock(text: str) -> time:
    match = _CLOCK_RE.fullmatch(text.strip())
    if match:
        hours, minutes = int(match[1]), int(match[2])
        if hours == 24 and minutes == 0:
            return time(0, 0)  # "18:00-24:00": an end at midnight
        if hours < 24 and minutes < 60:
            return time(hours, minutes)
    raise ValueError(f"bad time {text.strip()!r}")


def _parse_window(value: Any) -> Any:
    """``"08:00-18:00"`` → ``(time(8), time(18))``; an end not after the start is overnight."""
    if not isinstance(value, str):
        return value  # pydantic reports the type
    start, sep, end = value.partition("-")
    try:
        if not sep:
            raise ValueError(value)
        return (_clock(start), _clock(end))
    except ValueError:
        raise ValueError(f"expected a window 'HH:MM-HH:MM', got {value!r}") from None


Window = Annotated[tuple[time, time], BeforeValidator(_parse_window)]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _empty_if_none(value: Any) -> Any:
    # "queues:" with every entry commented out reads as null; treat it as empty.
    return {} if value is None else value


def _empty_list_if_none(value: Any) -> Any:
    return [] if value is None else value


_EMPTY = BeforeValidator(_empty_if_none)
_EMPTY_LIST = BeforeValidator(_empty_list_if_none)
_ModelT = TypeVar("_ModelT", bound=BaseModel)
# "general:" with nothing under it means "all defaults", not an error.
_NullIsEmpty = Annotated[_ModelT, _EMPTY]


# -- references --------------------------------------------------------------------------

_KIND_LABELS = {
    "skills": ("skill", "skills"),
    "queues": ("queue", "queues"),
    "business_hours": ("business hours", "business_hours"),
    "capacity_profiles": ("capacity profile", "capacity_profiles"),
}


def _ref(kind: str) -> AfterValidator:
    label, section = _KIND_LABELS[kind]

    def check(value: str, info: ValidationInfo) -> str:
        known = (info.context or {}).get(kind)
        if known is None or value in known:
            return value
        close = difflib.get_close_matches(value, sorted(known), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else f" (declare it under {section}:)"
        raise ValueError(f"unknown {label} {value!r}{hint}")

    return AfterValidator(check)


SkillRef = Annotated[str, _ref("skills")]
QueueRef = Annotated[str, _ref("queues")]
CalendarRef = Annotated[str, _ref("business_hours")]
ProfileRef = Annotated[str, _ref("capacity_profiles")]


def _names(section: Any) -> frozenset[str] | None:
    if isinstance(section, Mapping):
        return frozenset(k for k in section if isinstance(k, str))
    if isinstance(section, list):
        return frozenset(k for k in section if isinstance(k, str))
    return frozenset() if section is None else None


def reference_context(raw: Mapping[str, Any]) -> dict[str, frozenset[str] | None]:
    """The names each section declares, read from the raw data before validation.

    ``None`` for a section too malformed to read: its own errors are reported and
    references to it are not checked (rather than flagging every use as unknown).
    """
    profiles = _names(raw.get("capacity_profiles"))
    return {
        "skills": _names(raw.get("skills")),
        "queues": _names(raw.get("queues")),
        "business_hours": _names(raw.get("business_hours")),
        "capacity_profiles": None if profiles is None else profiles | {"default"},
    }


# -- sections ----------------------------------------------------------------------------


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CentreModel(_Section):
    name: str = "Trunkline"
    timezone: TimeZone = "UTC"
    priority_unit_s: PositiveFloat = 60.0
    preferred_head_start_s: NonNegativeFloat = 20.0
    disconnect_grace_s: NonNegativeFloat = 30.0


def _skills_mapping(value: Any) -> Any:
    """``[english, french]`` → ``{english: "", french: ""}``; descriptions may be null."""
    if value is None:
        return {}
    if isinstance(value, list):
        if not all(isinstance(v, str) for v in value):
            return value  # pydantic reports "not a dictionary"
        duplicates = sorted({v for v in value if value.count(v) > 1})
        if duplicates:
            raise ValueError(f"skill {duplicates[0]!r} is listed twice")
        return dict.fromkeys(value, "")
    if isinstance(value, Mapping):
        return {k: "" if v is None else v for k, v in value.items()}
    return value


class BusinessHoursModel(_Section):
    timezone: TimeZone | None = None  # None: the centre's time zone
    weekly: dict[Weekday, Annotated[list[Window], BeforeValidator(_one_or_many)]] = {}
    closed_dates: list[date] = []


class CapacityProfileModel(_Section):
    limits: dict[Medium, NonNegativeInt] | None = None  # None: the default profile's limits
    exclusive: list[Medium] | None = None  # None: the default profile's (voice, callback)
    max_total: PositiveInt | None = None  # None: no cap beyond the per-medium limits


class WrapUpModel(_Section):
    mode: WrapUpMode = WrapUpMode.TIMED
    seconds: NonNegativeFloat = 30.0


class EscalationModel(_Section):
    after_s: NonNegativeFloat
    lower_skills: dict[SkillRef, Level] = {}
    drop_skills: list[SkillRef] = []
    add_queues: list[QueueRef] = []
    raise_priority: int = 0


class ServiceLevelModel(_Section):
    percent: Annotated[float, Field(gt=0, le=100)] = 80.0
    threshold_s: PositiveFloat = 20.0


class WallboardModel(_Section):
    waiting_warn: NonNegativeInt = 5
    waiting_alarm: NonNegativeInt = 15
    longest_wait_warn_s: NonNegativeFloat = 60.0
    longest_wait_alarm_s: NonNegativeFloat = 180.0
    service_level_margin_percent: Annotated[float, Field(ge=0, le=100)] = 10.0

    @model_validator(mode="after")
    def _warn_before_alarm(self) -> Self:
        if self.waiting_warn > self.waiting_alarm:
            raise ValueError("waiting_warn must not exceed waiting_alarm")
        if self.longest_wait_warn_s > self.longest_wait_alarm_s:
            raise ValueError("longest_wait_warn_s must not exceed longest_wait_alarm_s")
        return self


class QueueModel(_Section):
    name: str = ""
    strict_priority: bool = False
    strategy: SelectionStrategy = SelectionStrategy.LONGEST_IDLE
    offer_timeout_s: PositiveFloat = 20.0
    wrap_up: WrapUpModel = WrapUpModel()
    escalation: Annotated[list[EscalationModel], _EMPTY_LIST] = []
    hours: CalendarRef | None = None  # None: always open
    closed_action: ClosedAction = ClosedAction.REJECT
    closed_overflow_queue: QueueRef | None = None
    service_level: dict[Medium, ServiceLevelModel] = {}
    transfer_head_start_s: NonNegativeFloat = 60.0
    wallboard: WallboardModel = WallboardModel()  # tile colour thresholds


_HEX_RE = re.compile(r"[0-9a-f]+")


def _hex_digest(length: int, algorithm: str) -> AfterValidator:
    def check(value: str) -> str:
        value = value.strip().lower()
        if len(value) != length or not _HEX_RE.fullmatch(value):
            raise ValueError(
                f"expected the {algorithm} HA1 as {length} hex digits "
                "(trunkline sip-credentials prints it), not a plain password"
            )
        return value

    return AfterValidator(check)


class SipHa1Model(_Section):
    """An agent's SIP digest secret, stored as HA1 = H(agent:realm:password) (RFC 7616 §3.4.2)."""

    sha256: Annotated[str, _hex_digest(64, "SHA-256")] | None = None
    md5: Annotated[str, _hex_digest(32, "MD5")] | None = None

    @model_validator(mode="after")
    def _at_least_one(self) -> Self:
        if self.sha256 is None and self.md5 is None:
            raise ValueError("give sha256 or md5 (or both)")
        return self


class AgentModel(_Section):
    id: Id
    name: str = ""
    team: str = ""
    password_hash: PasswordHash | None = None  # None: the agent cannot log in
    sip_ha1: SipHa1Model | None = None  # None: the agent cannot register a SIP phone
    skills: Annotated[dict[SkillRef, Level], _EMPTY] = {}
    queues: Annotated[list[QueueRef], _EMPTY_LIST] = []
    capacity: ProfileRef = "default"


Role = Literal["supervisor", "admin", "agent"]


class UserModel(_Section):
    id: Id
    name: str = ""
    role: Role
    password_hash: PasswordHash | None = None


class WrapUpCodeModel(_Section):
    code: Id
    label: str = ""
    resolved: bool = False  # counts as first-contact resolution


class NotReadyReasonModel(_Section):
    code: Id
    label: str = ""


class CostModel(_Section):
    per_handled_minute: NonNegativeFloat = 0.0  # handle and wrap-up time
    per_interaction: NonNegativeFloat = 0.0  # charged once per completed interaction


class ReportingModel(_Section):
    short_abandon_s: NonNegativeFloat = 5.0
    costs: dict[Medium, CostModel] = {}


def _check_region(value: str) -> str:
    import phonenumbers  # only the CRM section needs it

    region = value.upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"unknown region {value!r} (use an ISO 3166 code like 'GB' or 'US')")
    return region


Region = Annotated[str, AfterValidator(_check_region)]
IdentityKindName = Literal["account", "phone", "email", "visitor"]


class ExternalCrmModel(_Section):
    url: Annotated[str, Field(min_length=1)]
    method: Literal["GET", "POST"] = "GET"
    headers: dict[str, str] = {}
    fields: dict[str, Annotated[str, Field(min_length=1)]] = {}
    identities: Annotated[list[IdentityKindName], Field(min_length=1)] = [
        "account",
        "phone",
        "email",
        "visitor",
    ]
    timeout_s: Annotated[float, Field(gt=0, le=30)] = 0.5
    cache_ttl_s: NonNegativeFloat = 300.0
    cache_size: NonNegativeInt = 10_000
    screen_pop_url: str | None = None


class CrmModel(_Section):
    default_region: Region = "US"
    history_size: Annotated[int, Field(ge=0, le=100)] = 10
    provisional_contacts: bool = True
    preferred_agents: list[Literal["last_agent", "owner"]] = ["last_agent", "owner"]
    class_priority: dict[str, int] = {}
    external: ExternalCrmModel | None = None


def _parse_port_range(value: Any) -> Any:
    """``"20000-20999"`` → ``(20000, 20999)``; both ends included."""
    if not isinstance(value, str):
        return value  # pydantic reports the type
    low, sep, high = value.strip().partition("-")
    try:
        if not sep:
            raise ValueError(value)
        first, last = int(low), int(high)
    except ValueError:
        raise ValueError(f"expected a port range 'LOW-HIGH', got {value!r}") from None
    if not 1024 <= first <= last <= 65535:
        raise ValueError(f"port range {value!r} must lie within 1024-65535, low end first")
    # RTP uses the even port, RTCP the odd one above it (RFC 3550 §11).
    if last - first < 1:
        raise ValueError(f"port range {value!r} needs at least two ports (RTP and RTCP)")
    return (first, last)


PortRange = Annotated[tuple[int, int], BeforeValidator(_parse_port_range)]


def _check_address(value: str) -> str:
    import ipaddress

    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise ValueError(f"expected an IP address, got {value!r}") from None


IpAddress = Annotated[str, AfterValidator(_check_address)]
_USER_RE = re.compile(r"[A-Za-z0-9\-_.!~*'()+]+")


def _check_number(value: str) -> str:
    # The user part of a Request-URI we compare against (RFC 3261 §25.1 unreserved chars).
    if not _USER_RE.fullmatch(value):
        raise ValueError(f"{value!r} is not a plain SIP user part")
    return value


SipUser = Annotated[str, AfterValidator(_check_number)]


class VoiceModel(_Section):
    realm: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9.\-_]+$")] = "trunkline"
    rtp_ports: PortRange = (20000, 20999)
    echo_numbers: Annotated[list[SipUser], _EMPTY_LIST] = ["echo"]
    public_address: IpAddress = "127.0.0.1"
    echo_answer_delay_s: Annotated[float, Field(ge=0, le=60)] = 0.0  # ring before answering
    # Challenge order, most preferred first (RFC 8760 §2.4).
    digest_algorithms: Annotated[
        list[Literal["SHA-256", "MD5"]], Field(min_length=1, max_length=2)
    ] = ["SHA-256", "MD5"]
    max_bindings: Annotated[int, Field(ge=1, le=100)] = 5
    min_expires_s: Annotated[int, Field(ge=1, le=86400)] = 60
    max_expires_s: Annotated[int, Field(ge=1, le=86400)] = 3600

    @model_validator(mode="after")
    def _expiry_order(self) -> Self:
        if len(set(self.digest_algorithms)) != len(self.digest_algorithms):
            raise ValueError("digest_algorithms lists an algorithm twice")
        if self.min_expires_s > self.max_expires_s:
            raise ValueError("min_expires_s must not exceed max_expires_s")
        return self


class ConfigModel(_Section):
    """The whole file. Every section is optional."""

    centre: Annotated[CentreModel, _EMPTY] = CentreModel()
    skills: Annotated[dict[Id, str], BeforeValidator(_skills_mapping)] = {}
    business_hours: Annotated[dict[Id, _NullIsEmpty[BusinessHoursModel]], _EMPTY] = {}
    capacity_profiles: Annotated[dict[Id, _NullIsEmpty[CapacityProfileModel]], _EMPTY] = {}
    queues: Annotated[dict[Id, _NullIsEmpty[QueueModel]], _EMPTY] = {}
    agents: Annotated[list[AgentModel], _EMPTY_LIST] = []
    users: Annotated[list[UserModel], _EMPTY_LIST] = []
    wrap_up_codes: Annotated[list[WrapUpCodeModel], _EMPTY_LIST] = []
    not_ready_reasons: Annotated[list[NotReadyReasonModel], _EMPTY_LIST] = []
    reporting: Annotated[ReportingModel, _EMPTY] = ReportingModel()
    crm: Annotated[CrmModel, _EMPTY] = CrmModel()
    voice: Annotated[VoiceModel, _EMPTY] = VoiceModel()
    # Shape only here: the rule compiler (trunkline.router.rules) checks the contents.
    rules: Annotated[list[dict[str, Any]], _EMPTY_LIST] = []
