"""Where every new interaction enters: the CRM recognises the customer, then the router
routes it. Channels (the API, the demo, later SIP and e-mail) all submit through here."""

from __future__ import annotations

from trunkline.crm.service import CrmService
from trunkline.domain.interaction import InteractionRequest
from trunkline.router.views import InteractionView
from trunkline.service.routing import RoutingService


class Intake:
    def __init__(self, routing: RoutingService, crm: CrmService | None = None) -> None:
        self.routing = routing
        self.crm = crm

    async def submit(
        self, request: InteractionRequest, *, fresh_id: bool = False
    ) -> InteractionView | None:
        """Recognise and route ``request``; its view, or None when a queue refused it.

        ``fresh_id``: the id was just generated here (not given by a client), so it cannot
        clash with a recorded interaction and the record need not be asked.
        """
        if self.crm is None:
            return await self.routing.submit(request, fresh_id=fresh_id)
        routed = await self.crm.prepare(request)
        try:
            return await self.routing.submit(routed, fresh_id=fresh_id)
        except BaseException:
            # Refused arrivals drop their screen-pop through the event stream; an
            # arrival that never made it into the engine has no event to do it.
            self.crm.discard(request.id)
            raise
