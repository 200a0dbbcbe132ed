"""Database URLs as users write them, turned into the async-driver URLs SQLAlchemy needs."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from trunkline.store.errors import StoreError

# Every spelling we accept, mapped to the one async driver we ship for that database.
_DRIVERS: dict[str, str] = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
    "postgres+asyncpg": "postgresql+asyncpg",
}


def to_async_url(url: str) -> str:
    """Normalise ``url`` to ``sqlite+aiosqlite://`` or ``postgresql+asyncpg://``.

    A value without ``://`` is a path to an SQLite file (``./trunkline.db``, ``:memory:``).
    Raises :class:`StoreError` for anything else; the message never repeats a password.
    """
    text = url.strip()
    if not text:
        raise StoreError("empty database URL: give sqlite:///PATH or postgresql://HOST/DB")
    if "://" not in text:
        return _sqlite(text)
    scheme = text.split("://", 1)[0].lower()
    driver = _DRIVERS.get(scheme)
    if driver is None:
        raise StoreError(
            f"unsupported database URL scheme {scheme!r}: use sqlite:///PATH or "
            "postgresql://USER@HOST:PORT/DB (the async driver is chosen for you)",
            details={"scheme": scheme},
        )
    try:
        parsed = make_url(text)
        # Touching the port parses it, so "host:abc" fails here rather than at connect time.
        _ = parsed.port
    except (ArgumentError, ValueError) as exc:
        raise StoreError(
            f"malformed {scheme} database URL: {_without_secrets(exc, text)}",
            details={"scheme": scheme},
        ) from None
    if driver == "sqlite+aiosqlite" and not parsed.query:
        return _sqlite(parsed.database or ":memory:")
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


def _sqlite(path: str) -> str:
    if path == ":memory:":
        # SQLAlchemy would percent-encode the colons; keep the spelling users know.
        return "sqlite+aiosqlite:///:memory:"
    return URL.create("sqlite+aiosqlite", database=path).render_as_string()


def _without_secrets(exc: Exception, url: str) -> str:
    message = str(exc)
    if url in message:
        message = message.replace(url, "<url>")
    return message
