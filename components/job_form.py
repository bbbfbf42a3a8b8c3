"""The new-job form: source, template and overrides, output, priority, deadline; validated with JobCreate.

Validation errors appear next to the field they belong to (pydantic's ``loc`` → field); whatever has no
field of its own is listed above the submit button.
"""

from __future__ import annotations

from typing import Any

from nicegui import ui
from pydantic import ValidationError

from app.container import Bulkdash
from app.domain.schemas import JobCreate
from app.domain.states import Priority
from app.services.errors import ServiceError
from components.source_picker import SourcePicker

STYLES = ["", "modern", "classic", "bold", "minimal"]
VOICES = ["", "female", "male", "none"]
CODECS = {"mp4": ("h264", "aac"), "webm": ("vp9", "opus")}


def error_messages(exc: ValidationError) -> list[tuple[str, str]]:
    """``(dotted loc, message)`` of each pydantic error, the union branch name dropped."""
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"] if p not in ("inline", "sheet", "upload")]
        out.append((".".join(loc), err["msg"].removeprefix("Value error, ")))
    return out


def _num(value: float | None) -> float | int | None:
    """``ui.number`` gives floats; whole numbers go out as ints (``60000``, not ``60000.0``)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


class JobForm:
    """The new-job form; ``await start()`` once built. Submitting creates the job with the job service."""

    def __init__(self, container: Bulkdash, user: dict[str, Any]) -> None:
        self.container, self.user = container, user
        with ui.card().classes("w-full gap-2"):
            ui.label("Source").classes("text-lg font-semibold")
            self.picker = SourcePicker(
                getattr(container, "sheets", None), user, uploads=getattr(container, "uploads", None)
            )
        with ui.card().classes("w-full gap-2"):
            ui.label("Job").classes("text-lg font-semibold")
            with ui.row().classes("w-full gap-2"):
                self.title = ui.input("title", value="Sample campaign").classes("grow min-w-64").mark("title")
                self.priority = (
                    ui.select([p.value for p in Priority], value="normal", label="priority")
                    .classes("w-36")
                    .mark("priority")
                )
                self.deadline = (
                    ui.number("deadline (minutes, optional)", min=0, format="%.0f").classes("w-56").mark("deadline")
                )
        with ui.card().classes("w-full gap-2"):
            ui.label("Template").classes("text-lg font-semibold")
            templates = {t.id: t.name for t in container.templates.list()}
            with ui.row().classes("w-full gap-2"):
                self.template = (
                    ui.select(templates, value="default_template", label="template", on_change=self._template_changed)
                    .classes("w-72")
                    .mark("template")
                )
                self.style = (
                    ui.select({s: s or "(template default)" for s in STYLES}, value="modern", label="style")
                    .classes("w-44")
                    .mark("style")
                )
                self.voice = (
                    ui.select({v: v or "(template default)" for v in VOICES}, value="female", label="voice")
                    .classes("w-44")
                    .mark("voice")
                )
                self.duration = (
                    ui.number("simulated duration (ms)", value=1000, min=0).classes("w-48").mark("duration_ms")
                )
                self.fail_rate = (
                    ui.number("simulated fail rate (0–1)", value=0.0, min=0, max=1, step=0.05)
                    .classes("w-48")
                    .mark("fail_rate")
                )
            self.template_help = ui.label().classes("text-xs opacity-70")
        with ui.card().classes("w-full gap-2"):
            ui.label("Output").classes("text-lg font-semibold")
            with ui.row().classes("w-full gap-2"):
                self.format = (
                    ui.select(["mp4", "webm"], value="mp4", label="format", on_change=self._format_changed)
                    .classes("w-28")
                    .mark("format")
                )
                self.video_codec = (
                    ui.select(["h264", "h265", "vp9"], value="h264", label="video codec")
                    .classes("w-32")
                    .mark("video_codec")
                )
                self.audio_codec = (
                    ui.select(["aac", "opus"], value="aac", label="audio codec").classes("w-32").mark("audio_codec")
                )
                self.resolution = (
                    ui.select(["480p", "720p", "1080p"], value="1080p", label="resolution")
                    .classes("w-32")
                    .mark("resolution")
                )
                self.bucket = ui.input("bucket", value="content-outputs").classes("w-56").mark("output_bucket")
        self.errors = ui.column().classes("gap-0 text-negative text-sm").mark("form-errors")
        self.submit_button = ui.button("Create job", icon="rocket_launch", on_click=self.submit).mark("submit")
        self.fields: dict[str, Any] = {
            "title": self.title,
            "priority": self.priority,
            "processing_deadline_ms": self.deadline,
            "template.template_id": self.template,
            "template.overrides": self.duration,
            "output.format": self.format,
            "output.video_codec": self.video_codec,
            "output": self.video_codec,
            "output.audio_codec": self.audio_codec,
            "output.resolution": self.resolution,
            "output.output_bucket": self.bucket,
            "input_source": self.picker.error,
        }
        self._template_changed()

    async def start(self) -> None:
        await self.picker.start()

    def _template_changed(self) -> None:
        simulated = self.template.value == "simulated"
        for element in (self.duration, self.fail_rate):
            element.set_visibility(simulated)
        for element in (self.style, self.voice):
            element.set_visibility(not simulated)
        info = next((t for t in self.container.templates.list() if t.id == self.template.value), None)
        self.template_help.set_text(info.description if info else "")

    def _format_changed(self) -> None:
        video, audio = CODECS[self.format.value]
        self.video_codec.set_value(video)
        self.audio_codec.set_value(audio)

    def body(self) -> dict[str, Any]:
        """The request body as the user filled it in (not validated yet)."""
        if self.template.value == "simulated":
            overrides: dict[str, Any] = {
                "duration_ms": _num(self.duration.value),
                "fail_rate": _num(self.fail_rate.value),
            }
        else:
            overrides = {k: v for k, v in (("style", self.style.value), ("voice", self.voice.value)) if v}
        deadline = self.deadline.value
        return {
            "title": self.title.value or "",
            "priority": self.priority.value,
            "processing_deadline_ms": int(deadline * 60_000) if deadline else None,
            "input_source": self.picker.source(),
            "output": {
                "format": self.format.value,
                "video_codec": self.video_codec.value,
                "audio_codec": self.audio_codec.value,
                "resolution": self.resolution.value,
                "output_bucket": self.bucket.value or "",
            },
            "template": {"template_id": self.template.value or "", "overrides": overrides},
        }

    def show_errors(self, errors: list[tuple[str, str]]) -> None:
        """Puts each message on its field (longest matching loc prefix); the rest above the button."""
        for element in self.fields.values():
            if hasattr(element, "error"):
                element.error = None
        self.picker.error.set_text("")
        self.errors.clear()
        for loc, message in errors:
            key = max((k for k in self.fields if loc == k or loc.startswith(k + ".")), key=len, default=None)
            element = self.fields.get(key) if key else None
            if isinstance(element, ui.label):
                element.set_text(message)
            elif element is not None:
                element.error = message
            with self.errors:
                ui.label(f"{loc or 'body'}: {message}")

    async def submit(self) -> None:
        """Validates the form, then creates the job with the job service (as ``POST /bulk-jobs``)."""
        errors: list[tuple[str, str]] = []
        try:
            body = JobCreate.model_validate(self.body())
        except ValidationError as exc:
            errors = error_messages(exc)
        problem = self.picker.problem()
        if problem:  # clearer than the schema's words for an empty upload id
            errors = [e for e in errors if not e[0].startswith("input_source")] + [("input_source", problem)]
        if errors:
            self.show_errors(errors)
            return
        self.show_errors([])
        self.submit_button.disable()
        try:
            job, _ = await self.container.jobs.create(self.user, body)
        except ServiceError as exc:
            loc = ".".join(str(p) for p in (exc.loc or []) if p != "body")
            self.show_errors([(loc, exc.message)])
            self.submit_button.enable()
            return
        ui.navigate.to(f"/bulk-jobs/{job['id']}")
