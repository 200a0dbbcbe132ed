"""The demo's customer base: the same deterministic customers are loaded into the CRM and
call in from the simulator, so screen-pops show names, classes, history and cases.

Customer ``n`` has a London number, an e-mail address and a web-chat visitor id; numbers
past :data:`KNOWN` are not in the CRM, so their first contact creates a provisional one.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from trunkline.crm.importer import import_csv
from trunkline.crm.model import CasePriority
from trunkline.crm.service import CrmService
from trunkline.domain.media import Medium

KNOWN = 5000  # customers in the CRM
UNKNOWN = 500  # customers who call but are not in it yet
REGION = "GB"
_FIRST = (
    "Amelia",
    "Bruno",
    "Chloé",
    "Dmitri",
    "Elif",
    "Femi",
    "Grace",
    "Hiro",
    "Isla",
    "Jonas",
    "Keira",
    "Luca",
    "Maya",
    "Noah",
    "Olga",
    "Priya",
    "Quentin",
    "Rosa",
    "Sami",
    "Tess",
)
_LAST = (
    "Adams",
    "Bernard",
    "Costa",
    "Dubois",
    "Evans",
    "Fischer",
    "García",
    "Hughes",
    "Ito",
    "Jensen",
    "Khan",
    "Lambert",
    "Moreau",
    "Novak",
    "O'Brien",
    "Patel",
    "Rossi",
    "Singh",
)
_CLASSES = (("vip", 0.03), ("gold", 0.12), ("standard", 0.85))
_CASE_SUBJECTS = ("Billing dispute", "Router keeps rebooting", "Missing refund", "Move house")


@dataclass(frozen=True, slots=True)
class DemoCustomer:
    number: int
    name: str
    customer_class: str
    language: str

    @property
    def id(self) -> str:
        return f"CUST-{self.number:05d}"

    @property
    def phone(self) -> str:
        return f"+44207{self.number:07d}"

    @property
    def national_phone(self) -> str:
        digits = f"{self.number:07d}"
        return f"020 7{digits[:3]} {digits[3:]}"

    @property
    def email(self) -> str:
        return f"customer{self.number}@example.com"

    @property
    def visitor(self) -> str:
        return f"visitor-{self.number}"

    def identity_data(self, medium: Medium) -> dict[str, Any]:
        """What a channel of ``medium`` would attach: a caller id, a From, a visitor id."""
        if medium is Medium.EMAIL:
            return {"from_address": self.email, "from_name": self.name}
        if medium is Medium.CHAT:
            return {"visitor_id": self.visitor, "customer_name": self.name}
        return {"caller_id": self.national_phone}


def customer(number: int) -> DemoCustomer:
    rng = random.Random(number)
    klass = rng.choices([c for c, _ in _CLASSES], weights=[w for _, w in _CLASSES])[0]
    return DemoCustomer(
        number=number,
        name=f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
        customer_class=klass,
        language="fr" if rng.random() < 0.2 else "en",
    )


def any_customer(rng: random.Random) -> DemoCustomer:
    return customer(rng.randrange(1, KNOWN + UNKNOWN + 1))


async def _csv() -> AsyncIterator[bytes]:
    yield b"id,name,class,language,phone,email,visitor\n"
    for start in range(1, KNOWN + 1, 1000):
        rows = []
        for n in range(start, min(KNOWN, start + 999) + 1):
            c = customer(n)
            name = c.name.replace('"', '""')
            rows.append(
                f'{c.id},"{name}",{c.customer_class},{c.language},{c.phone},{c.email},{c.visitor}\n'
            )
        yield "".join(rows).encode()


async def seed(crm: CrmService) -> int:
    """Load the demo customers into an empty CRM, with a few open cases; returns how many
    contacts were added (0 when the CRM already has contacts)."""
    if await crm.contacts.count() > 0:
        return 0
    report = await import_csv(_csv(), crm.contacts, region=REGION, now=crm.clock)
    rng = random.Random(7)
    for n in rng.sample(range(1, KNOWN + 1), 150):
        await crm.create_case(
            contact_id=customer(n).id,
            subject=rng.choice(_CASE_SUBJECTS),
            priority=rng.choice(list(CasePriority)),
            by="demo",
        )
    return report.created
