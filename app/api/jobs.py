"""Job routes: create (idempotent, rate limited), list, get, and the commands pause / resume / cancel / retry."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Response, status

from app.api.deps import ContainerDep, CurrentUser
from app.api.errors import CONFLICT, INVALID, NOT_FOUND, RATE_LIMITED, TOO_LARGE, UNAUTHORIZED, error_responses
from app.api.limits import RateLimiter
from app.api.paging import PageParams
from app.domain.schemas import JobCreate, JobPublic, Page
from app.domain.states import JobState
from app.services.errors import Invalid

JobId = Annotated[str, Path(description="The job's id (`job_` + ULID)", examples=["job_01J9Z3K4M5N6P7Q8R9S0T1V2W3"])]

_COMMAND_RESPONSES = error_responses(UNAUTHORIZED, NOT_FOUND, CONFLICT)


def parse_states(value: str | None, allowed: type[JobState] | Any, loc: str = "state") -> str | None:
    """Checks a comma-separated state filter (``running,paused``); 422 names the unknown state."""
    if not value:
        return None
    names = [part.strip() for part in value.split(",") if part.strip()]
    known = {s.value for s in allowed}
    for name in names:
        if name not in known:
            raise Invalid(f"unknown state {name!r} (use {', '.join(sorted(known))})", loc=["query", loc])
    return ",".join(names) or None


def jobs_router(limiter: RateLimiter) -> APIRouter:
    """Mounted under ``/api/v1``; ``limiter`` throttles job creation per token."""
    router = APIRouter(prefix="/bulk-jobs", tags=["jobs"])

    def rate_limited(user: CurrentUser) -> None:
        limiter.check(user.get("token_id") or user["id"])

    @router.post(
        "",
        status_code=status.HTTP_201_CREATED,
        response_model=JobPublic,
        summary="Create a job",
        dependencies=[Depends(rate_limited)],
        responses={
            200: {"model": JobPublic, "description": "Replay: the job first created with this `Idempotency-Key`"},
            **error_responses(UNAUTHORIZED, CONFLICT, TOO_LARGE, INVALID, RATE_LIMITED),
        },
    )
    async def create_job(
        body: JobCreate,
        container: ContainerDep,
        user: CurrentUser,
        response: Response,
        idempotency_key: Annotated[
            str | None,
            Header(
                alias="Idempotency-Key",
                max_length=200,
                description="Retry-safe creation: the same key and body return the first job (200); "
                "the same key with another body is a 409",
            ),
        ] = None,
    ) -> dict[str, Any]:
        """Stores the job and its videos (one per source row) and queues it. Rows a template cannot render are
        `skipped` with the reason. A source with more rows than the server allows is a 422 on `input_source`."""
        job, created = await container.jobs.create(user, body, idempotency_key or None)
        if not created:
            response.status_code = status.HTTP_200_OK
        return job

    @router.get(
        "",
        response_model=Page[JobPublic],
        summary="List jobs",
        responses=error_responses(UNAUTHORIZED, INVALID),
    )
    async def list_jobs(
        container: ContainerDep,
        user: CurrentUser,
        page: PageParams,
        state: Annotated[
            str | None, Query(description="Comma-separated job states", examples=["running,paused"])
        ] = None,
        q: Annotated[str | None, Query(max_length=200, description="Search in titles")] = None,
        sort: Annotated[
            str,
            Query(
                max_length=200,
                description="Columns `created_at`, `title`, `state`, `priority_rank`, `finished_at`; "
                "`-` for descending",
            ),
        ] = "-created_at",
    ) -> dict[str, Any]:
        """The user's jobs (an admin's: everyone's), newest first by default."""
        items, total = await container.jobs.list(
            user, state=parse_states(state, JobState), q=q, sort=sort, limit=page.limit, offset=page.offset
        )
        return page.of(items, total)

    @router.get(
        "/{job_id}", response_model=JobPublic, summary="Get a job", responses=error_responses(UNAUTHORIZED, NOT_FOUND)
    )
    async def get_job(job_id: JobId, container: ContainerDep, user: CurrentUser) -> dict[str, Any]:
        return await container.jobs.get(user, job_id)

    @router.post("/{job_id}/pause", response_model=JobPublic, summary="Pause a job", responses=_COMMAND_RESPONSES)
    async def pause_job(job_id: JobId, container: ContainerDep, user: CurrentUser) -> dict[str, Any]:
        """`running` → `pausing` → `paused`: running videos finish, no new one starts. 409 from other states."""
        return await container.jobs.pause(user, job_id)

    @router.post("/{job_id}/resume", response_model=JobPublic, summary="Resume a job", responses=_COMMAND_RESPONSES)
    async def resume_job(job_id: JobId, container: ContainerDep, user: CurrentUser) -> dict[str, Any]:
        """`paused` → `running`. 409 from other states."""
        return await container.jobs.resume(user, job_id)

    @router.post("/{job_id}/cancel", response_model=JobPublic, summary="Cancel a job", responses=_COMMAND_RESPONSES)
    async def cancel_job(job_id: JobId, container: ContainerDep, user: CurrentUser) -> dict[str, Any]:
        """`pending|running|pausing|paused` → `canceling` → `canceled`. 409 from a final state."""
        return await container.jobs.cancel(user, job_id)

    @router.post(
        "/{job_id}/retry", response_model=JobPublic, summary="Retry failed videos", responses=_COMMAND_RESPONSES
    )
    async def retry_job(job_id: JobId, container: ContainerDep, user: CurrentUser) -> dict[str, Any]:
        """Failed (and canceled, unless the job is canceled) videos go back to `pending`; a finished job with
        something to retry is re-opened to `running`. With nothing to retry the job comes back unchanged."""
        return await container.jobs.retry(user, job_id)

    return router
