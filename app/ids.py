"""Public ids: a type prefix and a 26-character ULID (Crockford base32, sortable by creation time)."""

from __future__ import annotations

import base64
import os
import time

_RFC4648 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_CROCKFORD = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_TO_CROCKFORD = bytes.maketrans(_RFC4648, _CROCKFORD)
_RANDOM_BITS = 80


def _encode(value: int) -> str:
    # 128 bits as 26 groups of 5 from the top (the first holds 3): shift so that base64's
    # base32 (which groups from the top of a byte string) sees exactly those 130 bits first.
    return base64.b32encode((value << 6).to_bytes(17, "big"))[:26].translate(_TO_CROCKFORD).decode()


def new_id(prefix: str) -> str:
    """``prefix_`` + a fresh ULID, for example ``job_01HABCDEF0123456789ABCDEFG``."""
    return new_ids(prefix, 1)[0]


def new_ids(prefix: str, n: int) -> list[str]:
    """``n`` ids of one millisecond, in increasing order (a monotonic ULID run), cheap enough for 100k rows."""
    ms = time.time_ns() // 1_000_000
    random = int.from_bytes(os.urandom(10), "big") >> 1  # leave room to count up without overflowing
    base = (ms << _RANDOM_BITS) | random
    return [f"{prefix}_{_encode(base + i)}" for i in range(n)]
