"""Video routes: list (filters, sort, paging), get, file and thumbnail downloads, results.csv."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import API, Api

JOBS = f"{API}/bulk-jobs"


async def _videos(api: Api, job_id: str, **params: Any) -> dict[str, Any]:
    response = await api.alice.get(f"{JOBS}/{job_id}/videos", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_list_get_filter_sort_and_page(api: Api, make_job) -> None:
    rows = [{"title": f"clip {i}", "city": "Paris" if i % 2 else "Rome"} for i in range(1, 8)]
    job = await make_job(api.alice, rows=rows)
    await api.settle()
    page = await _videos(api, job["id"])
    assert page["total"] == 7 and [v["row_index"] for v in page["items"]] == list(range(1, 8))
    video = page["items"][0]
    assert video["id"].startswith("vid_") and video["job_id"] == job["id"]
    assert video["state"] == "completed" and video["variables"] == {"title": "clip 1", "city": "Paris"}
    assert (await api.alice.get(f"{JOBS}/{job['id']}/videos/{video['id']}")).json() == video

    assert (await _videos(api, job["id"], q="rome"))["total"] == 3  # searches the variables
    assert (await _videos(api, job["id"], q="clip 7"))["total"] == 1  # and the titles
    assert (await _videos(api, job["id"], state="completed"))["total"] == 7
    assert (await _videos(api, job["id"], state="failed,canceled"))["total"] == 0
    desc = await _videos(api, job["id"], sort="-row_index", limit=2, offset=1)
    assert [v["row_index"] for v in desc["items"]] == [6, 5] and desc["limit"] == 2 and desc["offset"] == 1
    by_time = await _videos(api, job["id"], sort="-processing_ms")
    assert by_time["total"] == 7


async def test_failed_videos_carry_their_error(api: Api, make_job) -> None:
    job = await make_job(api.alice, rows=2, overrides={"fail_rate": 1})
    await api.settle()
    failed = await _videos(api, job["id"], state="failed")
    assert failed["total"] == 2
    assert failed["items"][0]["error"] == {
        "code": "simulated_failure",
        "message": "simulated failure (fail_rate)",
        "stage": "render",
    }


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"state": "done"}, ["query", "state"]),
        ({"sort": "nope"}, ["query", "sort"]),
        ({"limit": 501}, ["query", "limit"]),
    ],
)
async def test_bad_video_queries_are_422(api: Api, make_job, params: dict[str, Any], loc: list[str]) -> None:
    job = await make_job(api.alice, rows=1)
    response = await api.alice.get(f"{JOBS}/{job['id']}/videos", params=params)
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == loc


async def test_unknown_video_is_404(api: Api, make_job) -> None:
    job = await make_job(api.alice, rows=1)
    other = await make_job(api.alice, rows=1)
    await api.settle()
    vid = (await _videos(api, other["id"]))["items"][0]["id"]
    response = await api.alice.get(f"{JOBS}/{job['id']}/videos/{vid}")  # a video of another job
    assert response.status_code == 404 and vid in response.json()["detail"]


async def _with_files(api: Api, make_job) -> tuple[dict[str, Any], dict[str, Any], Path]:
    """A completed job whose first video has an output file and a thumbnail under the outputs root."""
    job = await make_job(api.alice, rows=2)
    await api.settle()
    video = (await _videos(api, job["id"]))["items"][0]
    folder = api.container.settings.outputs / "content-outputs" / job["id"]
    folder.mkdir(parents=True)
    (folder / "00001-clip.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 fake video")
    (folder / "00001-clip.jpg").write_bytes(b"\xff\xd8\xff\xe0 fake jpeg")
    paths = {"output_path": str(folder / "00001-clip.mp4"), "thumbnail_path": str(folder / "00001-clip.jpg")}
    api.container.writer.update_video(video["id"], paths)
    await api.container.writer.flush()
    return job, video, folder


async def test_file_and_thumbnail_downloads(api: Api, make_job) -> None:
    job, video, folder = await _with_files(api, make_job)
    fresh = (await api.alice.get(f"{JOBS}/{job['id']}/videos/{video['id']}")).json()
    assert fresh["output_url"] == f"{JOBS}/{job['id']}/videos/{video['id']}/file"
    assert fresh["thumbnail_url"] == f"{JOBS}/{job['id']}/videos/{video['id']}/thumbnail"

    file = await api.alice.get(fresh["output_url"])
    assert file.status_code == 200 and file.content == (folder / "00001-clip.mp4").read_bytes()
    assert file.headers["content-type"] == "video/mp4"
    assert "00001-clip.mp4" in file.headers["content-disposition"]
    thumb = await api.alice.get(fresh["thumbnail_url"])
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    assert thumb.content.startswith(b"\xff\xd8")

    assert (await api.bob.get(fresh["output_url"])).status_code == 404
    assert (await api.admin.get(fresh["output_url"])).status_code == 200


async def test_no_file_yet_is_404(api: Api, make_job) -> None:
    job = await make_job(api.alice, rows=1)
    await api.settle()
    video = (await _videos(api, job["id"]))["items"][0]
    for kind in ("file", "thumbnail"):
        response = await api.alice.get(f"{JOBS}/{job['id']}/videos/{video['id']}/{kind}")
        assert response.status_code == 404 and response.json() == {"detail": "no file for this video"}


async def test_a_stored_path_outside_the_outputs_is_never_served(api: Api, make_job, tmp_path: Path) -> None:
    job, video, folder = await _with_files(api, make_job)
    secret = tmp_path / "secret.txt"
    secret.write_text("do not serve")
    assert (folder / ".." / ".." / ".." / ".." / "secret.txt").resolve() == secret.resolve()
    api.container.writer.update_video(
        video["id"], {"output_path": str(folder / ".." / ".." / ".." / ".." / "secret.txt")}
    )
    api.container.writer.update_video(video["id"], {"thumbnail_path": str(secret)})
    await api.container.writer.flush()
    for kind in ("file", "thumbnail"):
        response = await api.alice.get(f"{JOBS}/{job['id']}/videos/{video['id']}/{kind}")
        assert response.status_code == 404, kind


async def test_results_csv_has_every_column_and_escapes_formulas(api: Api, make_job) -> None:
    rows = [
        {"title": "first", "note": '=HYPERLINK("http://evil")'},
        {"title": "+sum", "extra": "@cmd", "note": "-1"},
        {"title": "plain", "note": "tab\tinside", "extra": "\tlead"},
    ]
    job = await make_job(api.alice, rows=rows)
    await api.settle()
    response = await api.alice.get(f"{JOBS}/{job['id']}/results.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert f'filename="{job["id"]}-results.csv"' in response.headers["content-disposition"]
    table = list(csv.reader(io.StringIO(response.text)))
    assert table[0] == ["title", "note", "extra", "state", "error", "output_url"]
    assert table[1] == ["first", '\'=HYPERLINK("http://evil")', "", "completed", "", ""]
    assert table[2] == ["'+sum", "'-1", "'@cmd", "completed", "", ""]
    assert table[3] == ["plain", "tab\tinside", "'\tlead", "completed", "", ""]
    assert len(table) == 4


async def test_results_csv_lists_errors_and_output_urls(api: Api, make_job) -> None:
    job, video, _ = await _with_files(api, make_job)
    table = list(csv.DictReader(io.StringIO((await api.alice.get(f"{JOBS}/{job['id']}/results.csv")).text)))
    assert table[0]["output_url"] == f"{JOBS}/{job['id']}/videos/{video['id']}/file"
    assert table[1]["output_url"] == ""

    failing = await make_job(api.alice, rows=1, overrides={"fail_rate": 1})
    await api.settle()
    table = list(csv.DictReader(io.StringIO((await api.alice.get(f"{JOBS}/{failing['id']}/results.csv")).text)))
    assert table == [{"title": "row 1", "state": "failed", "error": "simulated failure (fail_rate)", "output_url": ""}]
