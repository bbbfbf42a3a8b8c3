"""/openapi.json describes every route with its models, errors and the bearer scheme."""

from __future__ import annotations

from tests.api.conftest import Api


async def test_the_schema_documents_routes_models_and_auth(api: Api) -> None:
    schema = (await api.anon.get("/openapi.json")).json()
    paths = schema["paths"]
    for path in (
        "/api/v1/bulk-jobs",
        "/api/v1/bulk-jobs/{job_id}",
        "/api/v1/bulk-jobs/{job_id}/videos",
        "/api/v1/bulk-jobs/{job_id}/videos/{video_id}",
        "/api/v1/bulk-jobs/{job_id}/videos/{video_id}/file",
        "/api/v1/bulk-jobs/{job_id}/videos/{video_id}/thumbnail",
        "/api/v1/bulk-jobs/{job_id}/results.csv",
        "/api/v1/bulk-jobs/{job_id}/pause",
        "/api/v1/bulk-jobs/{job_id}/resume",
        "/api/v1/bulk-jobs/{job_id}/cancel",
        "/api/v1/bulk-jobs/{job_id}/retry",
        "/api/v1/tokens",
        "/api/v1/templates",
        "/api/v1/health",
        "/metrics",
    ):
        assert path in paths, path
    create = paths["/api/v1/bulk-jobs"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/JobCreate")
    assert {"200", "201", "401", "409", "413", "422", "429"} <= set(create["responses"])
    assert "Retry-After" in create["responses"]["429"]["headers"]
    assert any(p["name"] == "Idempotency-Key" for p in create["parameters"])
    assert schema["components"]["schemas"]["JobCreate"]["examples"][0]["title"] == "Video Generation Campaign"
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert create["security"] == [{"HTTPBearer": []}]
    assert "security" not in paths["/api/v1/health"]["get"]
    pause = paths["/api/v1/bulk-jobs/{job_id}/pause"]["post"]
    assert pause["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/JobPublic")
    assert {"401", "404", "409"} <= set(pause["responses"])
    assert (
        "video/mp4" in paths["/api/v1/bulk-jobs/{job_id}/videos/{video_id}/file"]["get"]["responses"]["200"]["content"]
    )


async def test_token_times_are_utc(api: Api) -> None:
    listed = (await api.admin.get("/api/v1/tokens")).json()["items"]
    assert all(t["created_at"].endswith(("Z", "+00:00")) for t in listed)
