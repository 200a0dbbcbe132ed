"""Pure data and rules of the contact centre: no asyncio, no clock, no I/O."""
