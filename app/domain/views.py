"""Turns stored rows into the public JSON shapes (CONTRACT §4), for the API, events and the UI alike."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.domain.events import iso

_API = "/api/v1/bulk-jobs"


def video_view(v: Mapping[str, Any]) -> dict[str, Any]:
    """A Video as JSON-ready dict from a row mapping (a table row, or the engine's in-memory record)."""
    job_id, vid = v["job_id"], v["id"]
    error = v.get("error")
    return {
        "id": vid,
        "job_id": job_id,
        "row_index": v["row_index"],
        "title": v["title"],
        "state": v["state"],
        "progress": round(float(v.get("progress") or 0.0), 1),
        "stage": v.get("stage"),
        "attempts": v.get("attempts") or 0,
        "error": {k: error.get(k) for k in ("code", "message", "stage")} if error else None,
        "output_url": f"{_API}/{job_id}/videos/{vid}/file" if v.get("output_path") else None,
        "thumbnail_url": f"{_API}/{job_id}/videos/{vid}/thumbnail" if v.get("thumbnail_path") else None,
        "duration_s": v.get("duration_s"),
        "size_bytes": v.get("size_bytes"),
        "started_at": iso(v.get("started_at")),
        "finished_at": iso(v.get("finished_at")),
        "processing_ms": v.get("processing_ms"),
        "variables": v.get("variables") or {},
    }


def job_view(j: Mapping[str, Any]) -> dict[str, Any]:
    """A Job as JSON-ready dict from a row mapping."""
    return {
        "id": j["id"],
        "title": j["title"],
        "state": j["state"],
        "priority": j["priority"],
        "created_at": iso(j["created_at"]),
        "started_at": iso(j.get("started_at")),
        "finished_at": iso(j.get("finished_at")),
        "processing_deadline_ms": j.get("processing_deadline_ms"),
        "input_source": j["input_source"],
        "output": j["output"],
        "template": j["template"],
        "webhook_url": j.get("webhook_url"),
        "write_back": j.get("write_back"),
        "progress": j["progress"],
        "error": j.get("error"),
        "warnings": j.get("warnings") or [],
    }
