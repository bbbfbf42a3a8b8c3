"""SecretBox: credentials encrypted at rest."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from app.sources.secrets import SecretBox, SecretError


def test_round_trip_dict_and_str(tmp_path: Path) -> None:
    box = SecretBox(tmp_path / "data" / "secret.key")
    info = {"type": "service_account", "client_email": "bot@x.iam", "private_key": "-----BEGIN..."}
    token = box.encrypt(info)
    assert "bot@x.iam" not in token
    assert box.decrypt(token) == info
    assert box.decrypt(box.encrypt("AIza-key")) == "AIza-key"


def test_key_file_created_once_with_0600(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    token = SecretBox(path).encrypt("x")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    first = path.read_bytes()
    assert SecretBox(path).decrypt(token) == "x"  # a second box reuses the key
    assert path.read_bytes() == first


def test_other_key_cannot_decrypt(tmp_path: Path) -> None:
    token = SecretBox(tmp_path / "a.key").encrypt({"k": 1})
    with pytest.raises(SecretError, match="cannot decrypt"):
        SecretBox(tmp_path / "b.key").decrypt(token)
