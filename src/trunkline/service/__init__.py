"""The asyncio adapter around the routing engine: commands, durability, fan-out, timers."""
