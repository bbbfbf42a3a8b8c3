"""The template registry: built-ins, user files, bad files, ids."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.generators.base import Generator
from app.generators.default_template import DefaultTemplateGenerator
from app.generators.http_generator import HttpGenerator
from app.generators.registry import TemplateFileError, TemplateRegistry, UnknownTemplateError
from app.generators.simulated import SimulatedGenerator


def test_builtins_without_folder() -> None:
    registry = TemplateRegistry(None)
    assert isinstance(registry.get("default_template"), DefaultTemplateGenerator)
    assert isinstance(registry.get("simulated"), SimulatedGenerator)
    assert [t.id for t in registry.list()] == ["default_template", "simulated"]
    assert all(isinstance(registry.get(t.id), Generator) for t in registry.list())


def test_missing_folder_is_fine(tmp_path: Path) -> None:
    assert len(TemplateRegistry(tmp_path / "nope").list()) == 2


def test_user_templates_json_and_toml(tmp_path: Path) -> None:
    (tmp_path / "promo.json").write_text(
        json.dumps(
            {
                "id": "promo",
                "name": "Promo",
                "description": "Product promo",
                "overrides": {"title": "{product} is here", "script": "Buy {product}.", "style": "bold"},
            }
        )
    )
    (tmp_path / "ai.toml").write_text(
        'id = "ai-video"\nkind = "http"\n[http]\nsubmit_url = "http://127.0.0.1:9/r"\n'
        'status_url = "http://127.0.0.1:9/s/{id}"\n[http.headers]\nX-Key = "t"\n'
    )
    (tmp_path / "notes.txt").write_text("ignored")
    registry = TemplateRegistry(tmp_path, http_headers={"Authorization": "Bearer s"})
    promo = registry.get("promo")
    assert isinstance(promo, DefaultTemplateGenerator) and promo.template_id == "promo"
    assert promo.validate({"product": "Gizmo"}, {}) is None
    assert (
        promo.validate({}, {}) == "title: placeholder {product} names no column of the row "
        "(write {{ and }} for literal braces)"
    )
    ai = registry.get("ai-video")
    assert isinstance(ai, HttpGenerator)
    assert ai.headers == {"Authorization": "Bearer s", "X-Key": "t"}
    infos = {t.id: t for t in registry.list()}
    assert infos["promo"].kind == "default" and infos["promo"].overrides["style"] == "bold"
    assert infos["ai-video"].name == "ai-video" and infos["ai-video"].kind == "http"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("broken.json", "{not json", "broken.json"),
        ("badid.json", json.dumps({"id": "../etc"}), "id: String should match pattern"),
        ("upper.json", json.dumps({"id": "Promo"}), "upper.json"),
        ("kind.json", json.dumps({"id": "x", "kind": "magic"}), "kind"),
        ("nohttp.json", json.dumps({"id": "x", "kind": "http"}), "needs an 'http' block"),
        ("dup.json", json.dumps({"id": "simulated"}), "already used"),
        ("bad.toml", "id = ", "bad.toml"),
    ],
)
def test_bad_files_name_the_file(tmp_path: Path, name: str, content: str, message: str) -> None:
    (tmp_path / name).write_text(content)
    with pytest.raises(TemplateFileError) as info:
        TemplateRegistry(tmp_path)
    assert name in str(info.value) and message in str(info.value)


def test_non_strict_skips_bad_files(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{")
    (tmp_path / "b.json").write_text(json.dumps({"id": "ok"}))
    registry = TemplateRegistry(tmp_path, strict=False)
    assert "ok" in registry and list(registry.errors) == [tmp_path / "a.json"]


@pytest.mark.parametrize("bad", ["../default_template", "A", "", "x" * 65, "a/b"])
def test_malformed_ids_are_value_errors(bad: str) -> None:
    with pytest.raises(ValueError, match="invalid template id"):
        TemplateRegistry(None).get(bad)


def test_unknown_id_is_key_error_with_known_list() -> None:
    with pytest.raises(UnknownTemplateError) as info:
        TemplateRegistry(None).get("nope")
    assert isinstance(info.value, KeyError)
    assert str(info.value) == "unknown template 'nope' (known: default_template, simulated)"


def test_reload_picks_up_new_files(tmp_path: Path) -> None:
    registry = TemplateRegistry(tmp_path)
    (tmp_path / "late.json").write_text(json.dumps({"id": "late"}))
    assert "late" not in registry
    registry.reload()
    assert "late" in registry
