"""Which generator serves which ``template_id``: the built-ins plus user files in the templates folder.

A template file (``<templates_dir>/*.json`` or ``*.toml``)::

    {"id": "promo", "name": "Promo", "kind": "default", "description": "...",
     "overrides": {"title": "{product} is here", "style": "bold"}}

    {"id": "ai-video", "kind": "http", "http": {"submit_url": "...", "status_url": ".../{id}"}}
"""

from __future__ import annotations

import json
import logging
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from app.generators.base import Generator
from app.generators.default_template import DefaultTemplateGenerator
from app.generators.http_generator import HttpGenerator, HttpTemplateConfig
from app.generators.simulated import SimulatedGenerator

log = logging.getLogger(__name__)
TEMPLATE_ID = re.compile(r"[a-z0-9_-]{1,64}")


class TemplateInfo(BaseModel):
    """A template as listed by ``GET /api/v1/templates``."""

    id: str
    name: str
    kind: Literal["default", "http", "simulated"]
    description: str = ""
    overrides: dict[str, Any] = Field(default_factory=dict, description="the template's default overrides")


class TemplateFile(BaseModel):
    """The content of a user template file."""

    id: str = Field(pattern=r"^[a-z0-9_-]{1,64}$")
    name: str = ""
    kind: Literal["default", "http"] = "default"
    description: str = ""
    overrides: dict[str, Any] = Field(default_factory=dict)
    http: HttpTemplateConfig | None = None


class TemplateFileError(ValueError):
    """A template file could not be used; the message names the file."""


class UnknownTemplateError(KeyError):
    """No template has this id."""

    def __str__(self) -> str:  # KeyError would print the message quoted
        return str(self.args[0])


_BUILTINS = [
    TemplateInfo(
        id="default_template",
        name="Default (voice + title cards)",
        kind="default",
        description="An eSpeak voice reads the row's script over title cards with timed captions. "
        "Columns: title, script (or text); optional subtitle, style, voice, duration_s.",
        overrides={"style": "modern", "voice": "female"},
    ),
    TemplateInfo(
        id="simulated",
        name="Simulated (no rendering)",
        kind="simulated",
        description="Sleeps instead of rendering, for demos, load tests and benchmarks.",
        overrides={"duration_ms": 1000, "fail_rate": 0.0, "seed": 0},
    ),
]


class TemplateRegistry:
    """The generators by template id.

    :param templates_dir: folder of user template files (``None`` or missing: built-ins only).
    :param http_headers: headers added to every request of http templates (for example credentials).
    :param strict: raise :class:`TemplateFileError` for a bad file; otherwise log it, skip it and keep the
        message in :attr:`errors`.
    """

    def __init__(
        self,
        templates_dir: Path | None = None,
        http_headers: dict[str, str] | None = None,
        *,
        strict: bool = True,
    ) -> None:
        self.templates_dir = templates_dir
        self.http_headers = dict(http_headers or {})
        self.strict = strict
        self.errors: dict[Path, str] = {}
        self._generators: dict[str, Generator] = {}
        self._infos: dict[str, TemplateInfo] = {}
        self.reload()

    def reload(self) -> None:
        """Reads the built-ins and the template files again."""
        self._generators = {"default_template": DefaultTemplateGenerator(), "simulated": SimulatedGenerator()}
        self._infos = {info.id: info for info in _BUILTINS}
        self.errors = {}
        if self.templates_dir is None or not self.templates_dir.is_dir():
            return
        paths = sorted(p for p in self.templates_dir.iterdir() if p.suffix in (".json", ".toml") and p.is_file())
        for path in paths:
            try:
                self._register_file(path)
            except TemplateFileError as exc:
                if self.strict:
                    raise
                log.warning("%s", exc)
                self.errors[path] = str(exc)

    def _register_file(self, path: Path) -> None:
        try:
            raw = path.read_bytes()
            data = tomllib.loads(raw.decode()) if path.suffix == ".toml" else json.loads(raw)
            spec = TemplateFile.model_validate(data)
        except (OSError, UnicodeDecodeError, ValueError, tomllib.TOMLDecodeError) as exc:
            raise TemplateFileError(f"template file {path}: {_short(exc)}") from None
        if spec.id in self._infos:
            raise TemplateFileError(f"template file {path}: id {spec.id!r} is already used")
        generator: Generator
        if spec.kind == "http":
            if spec.http is None:
                raise TemplateFileError(f"template file {path}: kind 'http' needs an 'http' block")
            generator = HttpGenerator(spec.id, spec.http, headers=self.http_headers, defaults=spec.overrides)
        else:
            generator = DefaultTemplateGenerator(spec.id, defaults=spec.overrides)
        self._generators[spec.id] = generator
        self._infos[spec.id] = TemplateInfo(
            id=spec.id,
            name=spec.name or spec.id,
            kind=spec.kind,
            description=spec.description,
            overrides=spec.overrides,
        )

    def register(self, generator: Generator, info: TemplateInfo) -> None:
        """Adds a generator built in code (plugins, tests); its id must be new."""
        if info.id in self._generators or info.id != generator.template_id:
            raise ValueError(f"template id {info.id!r} is already used or does not match the generator")
        self._generators[info.id] = generator
        self._infos[info.id] = info

    def get(self, template_id: str) -> Generator:
        """The generator of ``template_id``; :class:`UnknownTemplateError` (a ``KeyError``) if there is none,
        ``ValueError`` if the id is malformed."""
        if not isinstance(template_id, str) or not TEMPLATE_ID.fullmatch(template_id):
            raise ValueError(f"invalid template id {template_id!r}: use 1-64 of a-z, 0-9, '_' and '-'")
        try:
            return self._generators[template_id]
        except KeyError:
            known = ", ".join(sorted(self._generators))
            raise UnknownTemplateError(f"unknown template {template_id!r} (known: {known})") from None

    def __contains__(self, template_id: object) -> bool:
        return template_id in self._generators

    def list(self) -> list[TemplateInfo]:
        """Every template, built-ins first."""
        return list(self._infos.values())


def _short(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in err['loc']) or 'file'}: {err['msg']}" for err in exc.errors()[:5])
    return str(exc)
