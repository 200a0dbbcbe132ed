"""The screen-pop lookup on PostgreSQL as one statement: one round trip instead of six.

Identity match, contact card, identities, recent history (including interactions
recorded under contacts since merged into this one) and open cases with their links
come back as JSON columns of a single row. Every part is still an indexed read with a
limit; the statement only saves the round trips and the driver work between them, which
dominate a lookup on a local server.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import String, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

from trunkline.crm.contacts import contact_from_row
from trunkline.crm.history import case_from_row, past_interaction_from_row
from trunkline.crm.model import Contact, ContactSnapshot, Identity, IdentityKind

_OPEN_CASES = 20

# :kinds/:values are the identities in order of preference; :contact_id wins when given.
_LOOKUP = text(
    """
WITH wanted AS (
    SELECT w.kind, w.value, w.n
    FROM unnest(CAST(:kinds AS text[]), CAST(:values AS text[])) WITH ORDINALITY
         AS w(kind, value, n)
), target AS (
    SELECT COALESCE(
        CAST(:contact_id AS text),
        (SELECT i.contact_id FROM wanted JOIN crm_identity i
             ON i.kind = wanted.kind AND i.value = wanted.value
         ORDER BY wanted.n LIMIT 1)
    ) AS id
), c AS (
    SELECT crm_contact.* FROM crm_contact, target WHERE crm_contact.id = target.id
)
SELECT
    row_to_json(c) AS contact,
    (SELECT json_agg(json_build_object('kind', i.kind, 'value', i.value))
       FROM crm_identity i WHERE i.contact_id = c.id) AS identities,
    (SELECT json_agg(h ORDER BY h.created_at DESC) FROM (
        SELECT * FROM (
            (SELECT x.id, x.medium, x.queue, x.state, x.created_at, x.updated_at,
                    x.agent_id, x.disposition, x.notes
               FROM interaction x WHERE x.customer_id = c.id
               ORDER BY x.created_at DESC LIMIT :history)
            UNION ALL
            (SELECT x.id, x.medium, x.queue, x.state, x.created_at, x.updated_at,
                    x.agent_id, x.disposition, x.notes
               FROM interaction x
              WHERE x.customer_id IN (SELECT m.id FROM crm_contact m WHERE m.merged_into = c.id)
              ORDER BY x.created_at DESC LIMIT :history)
        ) both_ ORDER BY created_at DESC LIMIT :history
    ) h) AS history,
    (SELECT json_agg(k ORDER BY k.updated_at DESC, k.id DESC) FROM (
        SELECT s.*,
               (SELECT json_agg(l.interaction_id ORDER BY l.at, l.interaction_id)
                  FROM crm_case_interaction l WHERE l.case_id = s.id) AS links
          FROM crm_case s
         WHERE s.contact_id = c.id AND s.status IN ('open', 'pending')
         ORDER BY s.updated_at DESC, s.id DESC LIMIT :cases
    ) k) AS cases
FROM c
"""
).bindparams(
    bindparam("kinds", type_=ARRAY(String())),
    bindparam("values", type_=ARRAY(String())),
)


def _json(value: Any) -> Any:
    # asyncpg hands json columns over as text unless a codec is registered.
    return json.loads(value) if isinstance(value, str) else value


async def lookup_postgres(
    conn: AsyncConnection,
    identities: Sequence[Identity],
    contact_id: str | None,
    history_size: int,
) -> ContactSnapshot | None:
    """The snapshot, or None; a merged contact comes back as is (the caller follows it)."""
    row = (
        await conn.execute(
            _LOOKUP,
            {
                "kinds": [i.kind.value for i in identities],
                "values": [i.value for i in identities],
                "contact_id": contact_id,
                "history": history_size,
                "cases": _OPEN_CASES,
            },
        )
    ).first()
    if row is None:
        return None
    contact_row, identity_rows, history_rows, case_rows = (_json(v) for v in row)
    contact: Contact = contact_from_row(
        contact_row,
        [Identity(IdentityKind(i["kind"]), i["value"]) for i in identity_rows or ()],
    )
    return ContactSnapshot(
        contact=contact,
        history=tuple(past_interaction_from_row(h) for h in history_rows or ()),
        open_cases=tuple(case_from_row(k, k["links"] or ()) for k in case_rows or ()),
    )
