"""Public ids: a type prefix and a 26-character ULID (sortable by creation time)."""

from ulid import ULID


def new_id(prefix: str) -> str:
    """``prefix_`` + a fresh ULID, for example ``job_01HABCDEF0123456789ABCDEFG``."""
    return f"{prefix}_{ULID()}"
