"""Public ids: a type prefix and a 26-character ULID (Crockford base32, sortable by creation time)."""

from __future__ import annotations

import base64
import functools
import os
import time

_RFC4648 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_CROCKFORD = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_TO_CROCKFORD = bytes.maketrans(_RFC4648, _CROCKFORD)
_RANDOM_BITS = 80
_COUNTER_BITS = 25  # the last 5 characters of an id in a run


def _encode(value: int) -> str:
    # 128 bits as 26 groups of 5 from the top (the first holds 3): shift so that base64's
    # base32 (which groups from the top of a byte string) sees exactly those 130 bits first.
    return base64.b32encode((value << 6).to_bytes(17, "big"))[:26].translate(_TO_CROCKFORD).decode()


def new_id(prefix: str) -> str:
    """``prefix_`` + a fresh ULID with all 80 random bits, for example ``job_01HABCDEF0123456789ABCDEFG``."""
    ms = time.time_ns() // 1_000_000
    return f"{prefix}_{_encode((ms << _RANDOM_BITS) | int.from_bytes(os.urandom(10), 'big'))}"


def new_ids(prefix: str, n: int) -> list[str]:
    """``n`` ids of one millisecond, in increasing order (a monotonic ULID run), cheap enough for 100k rows.

    The run shares its first 21 characters (time and 55 random bits); the last 5 count from 0, so each id costs
    two table lookups instead of a base32 encoding.
    """
    if n > 1 << _COUNTER_BITS:
        return [
            id_
            for start in range(0, n, 1 << _COUNTER_BITS)
            for id_ in new_ids(prefix, min(n - start, 1 << _COUNTER_BITS))
        ]
    ms = time.time_ns() // 1_000_000
    random = int.from_bytes(os.urandom(10), "big") >> _COUNTER_BITS << _COUNTER_BITS
    head = f"{prefix}_{_encode((ms << _RANDOM_BITS) | random)[:21]}"
    high, low = _tails()
    return [f"{head}{high[i >> 15]}{low[i & 0x7FFF]}" for i in range(n)]


@functools.cache
def _tails() -> tuple[list[str], list[str]]:
    """Crockford base32 of 0..1023 in 2 characters and of 0..32767 in 3 (together: 5 characters, 25 bits)."""
    digits = _CROCKFORD.decode()
    high = [a + b for a in digits for b in digits]
    low = [a + b + c for a in digits for b in digits for c in digits]
    return high, low
