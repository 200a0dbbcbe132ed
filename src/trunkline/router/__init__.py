"""The routing engine: one universal queue, skills matching, offers and escalation."""
