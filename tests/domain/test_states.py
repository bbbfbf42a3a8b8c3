"""The transition tables of CONTRACT §6, pair by pair."""

from __future__ import annotations

import itertools

import pytest

from app.domain.states import (
    JOB_FINAL,
    JOB_TRANSITIONS,
    VIDEO_FINAL,
    VIDEO_TRANSITIONS,
    IllegalTransition,
    JobState,
    VideoState,
    check_job_transition,
    check_video_transition,
)

J, V = JobState, VideoState

#: every job move CONTRACT §6 names, and nothing else
CONTRACT_JOB_MOVES = {
    (J.PENDING, J.RUNNING),
    (J.RUNNING, J.COMPLETING),
    (J.COMPLETING, J.COMPLETED),
    (J.RUNNING, J.PAUSING),
    (J.PAUSING, J.PAUSED),
    (J.PAUSED, J.RUNNING),
    (J.PENDING, J.CANCELING),
    (J.RUNNING, J.CANCELING),
    (J.PAUSING, J.CANCELING),
    (J.PAUSED, J.CANCELING),
    (J.CANCELING, J.CANCELED),
    *((s, J.FAILED) for s in JobState if s not in JOB_FINAL),
}
CONTRACT_VIDEO_MOVES = {
    (V.PENDING, V.PROCESSING),
    (V.PROCESSING, V.COMPLETED),
    (V.PROCESSING, V.FAILED),
    (V.PROCESSING, V.PENDING),
    (V.PENDING, V.SKIPPED),
    (V.PENDING, V.CANCELED),
    (V.PROCESSING, V.CANCELED),
    (V.FAILED, V.PENDING),
    (V.CANCELED, V.PENDING),
}


def test_there_are_nine_job_states_and_six_video_states() -> None:
    assert len(JobState) == 9 and len(VideoState) == 6
    assert set(JOB_TRANSITIONS) == set(JobState) and set(VIDEO_TRANSITIONS) == set(VideoState)


@pytest.mark.parametrize(("current", "target"), list(itertools.product(JobState, JobState)))
def test_job_transition(current: JobState, target: JobState) -> None:
    if (current, target) in CONTRACT_JOB_MOVES:
        check_job_transition(current, target)
    else:
        with pytest.raises(IllegalTransition) as err:
            check_job_transition(current, target)
        assert current.value in str(err.value)


@pytest.mark.parametrize(("current", "target"), list(itertools.product(VideoState, VideoState)))
def test_video_transition(current: VideoState, target: VideoState) -> None:
    if (current, target) in CONTRACT_VIDEO_MOVES:
        check_video_transition(current, target)
    else:
        with pytest.raises(IllegalTransition):
            check_video_transition(current, target)


def test_final_states_never_change_except_retry() -> None:
    for state in JOB_FINAL:
        assert JOB_TRANSITIONS[state] == frozenset()
    for state in VIDEO_FINAL:
        assert VIDEO_TRANSITIONS[state] <= {V.PENDING}
    assert VIDEO_TRANSITIONS[V.COMPLETED] == frozenset() and VIDEO_TRANSITIONS[V.SKIPPED] == frozenset()


def test_illegal_transition_message_names_the_action() -> None:
    with pytest.raises(IllegalTransition, match="cannot pause a job that is completed"):
        check_job_transition(J.COMPLETED, J.PAUSING, "pause")
