"""Which identities an arriving interaction carries, read from what its channel attached.

Channels put what they know in the interaction's data: a SIP call its caller id, an
e-mail its From address, a chat its visitor id, an IVR the account number the caller
typed. Identities that cannot be normalised (an "anonymous" caller id, say) are skipped:
recognition must never refuse a customer.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from trunkline.crm.errors import InvalidIdentityError
from trunkline.crm.identity import normalise
from trunkline.crm.model import Identity, IdentityKind
from trunkline.domain.interaction import InteractionRequest

log = logging.getLogger(__name__)

# Data keys each kind is read from, strongest evidence first: an account number the
# customer typed beats an e-mail address, which beats a (shareable) phone number.
IDENTITY_KEYS: Mapping[IdentityKind, tuple[str, ...]] = {
    IdentityKind.ACCOUNT: ("account", "account_number", "customer_number"),
    IdentityKind.EMAIL: ("email", "from_address"),
    IdentityKind.PHONE: ("caller_id", "phone", "from_number", "ani", "callback_number"),
    IdentityKind.VISITOR: ("visitor_id",),
}
NAME_KEYS = ("customer_name", "from_name", "name")


def identities_of(request: InteractionRequest, *, region: str) -> list[Identity]:
    """The request's identities, strongest first, each once.

    Besides the well-known keys, ``data.identities`` may map kinds to values explicitly
    (``{"phone": "+44…", "account": "A-1"}``).
    """
    data = request.data
    found: list[Identity] = []
    explicit = data.get("identities")
    for kind, keys in IDENTITY_KEYS.items():
        raw_values: list[Any] = [data.get(key) for key in keys]
        if isinstance(explicit, Mapping):
            raw_values.insert(0, explicit.get(kind.value))
        for raw in raw_values:
            if not isinstance(raw, str) or not raw.strip():
                continue
            try:
                identity = normalise(kind, raw, region=region)
            except InvalidIdentityError as exc:
                log.debug("interaction %s: ignoring %s: %s", request.id, kind.value, exc.message)
                continue
            if identity not in found:
                found.append(identity)
    return found


def name_of(request: InteractionRequest) -> str:
    """A display name the channel learnt ("Jane Doe" from an e-mail's From), if any."""
    for key in NAME_KEYS:
        value = request.data.get(key)
        if isinstance(value, str) and value.strip():
            return " ".join(value.split())[:200]
    return ""
