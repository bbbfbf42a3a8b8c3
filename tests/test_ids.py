"""Ids are ``prefix_`` + a valid ULID that sorts by creation time."""

from __future__ import annotations

import time

from hypothesis import given
from hypothesis import strategies as st
from ulid import ULID

from app.ids import _encode, new_id, new_ids


@given(st.integers(min_value=0, max_value=2**128 - 1))
def test_encoding_matches_the_ulid_library(value: int) -> None:
    assert _encode(value) == str(ULID.from_int(value))


def test_ids_carry_the_time_and_sort() -> None:
    before = int(time.time() * 1000)
    ids = new_ids("vid", 1000)
    assert len(set(ids)) == 1000 and ids == sorted(ids)
    stamp = ULID.from_str(ids[0][4:]).milliseconds
    assert before <= stamp <= int(time.time() * 1000)
    job = new_id("job")
    assert job.startswith("job_") and len(job) == 30
