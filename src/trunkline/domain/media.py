"""Media types that interactions arrive on."""

from __future__ import annotations

from enum import StrEnum


class Medium(StrEnum):
    VOICE = "voice"
    CHAT = "chat"
    EMAIL = "email"
    CALLBACK = "callback"
    FAX = "fax"
    VOICEMAIL = "voicemail"


ALL_MEDIA: tuple[Medium, ...] = tuple(Medium)
