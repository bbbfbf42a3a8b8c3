"""Credentials encrypted at rest with Fernet; the key lives in one 0600 file under the data dir."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken


class SecretError(Exception):
    """A stored secret cannot be decrypted (wrong or replaced key file, corrupted value)."""


class SecretBox:
    """Encrypts dicts and strings; the key file is created on first use and reused afterwards."""

    def __init__(self, key_path: Path) -> None:
        self.key_path = Path(key_path)
        self._fernet: Fernet | None = None

    def encrypt(self, value: dict[str, Any] | str) -> str:
        """Encrypt a JSON-able dict or a string; the type survives the round trip."""
        return self._box().encrypt(json.dumps(value).encode()).decode("ascii")

    def decrypt(self, token: str) -> dict[str, Any] | str:
        """The dict or string that ``encrypt`` was given."""
        try:
            return json.loads(self._box().decrypt(token.encode("ascii")))
        except (InvalidToken, ValueError) as exc:
            raise SecretError(f"cannot decrypt a stored secret: was {self.key_path} replaced?") from exc

    def _box(self) -> Fernet:
        if self._fernet is None:
            self._fernet = Fernet(self._load_or_create_key())
        return self._fernet

    def _load_or_create_key(self) -> bytes:
        try:
            return self.key_path.read_bytes().strip()
        except FileNotFoundError:
            pass
        self.key_path.parent.mkdir(parents=True, exist_ok=True)
        key = Fernet.generate_key()
        try:
            # O_EXCL: if two processes race, exactly one key wins and both use it.
            fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return self.key_path.read_bytes().strip()
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
        return key
