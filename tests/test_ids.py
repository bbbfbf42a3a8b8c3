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


def test_a_long_run_counts_across_the_lookup_tables_and_stays_valid() -> None:
    ids = new_ids("vid", 70_000)  # crosses 32,768 (the 3-character table) twice
    assert len(set(ids)) == len(ids) and ids == sorted(ids)
    values = [int(ULID.from_str(i[4:])) for i in (ids[0], ids[32_767], ids[32_768], ids[-1])]
    assert values[1] - values[0] == 32_767 and values[2] - values[1] == 1 and values[3] - values[0] == 69_999


def test_a_single_id_keeps_every_random_bit() -> None:
    tails = {new_id("job")[-5:] for _ in range(50)}  # a run's counter would make every one "00000"
    assert len(tails) > 1
