"""Keeps API tokens out of the logs: uvicorn logs each request's path with its query string, and both ``/ws``
and the login link carry ``token=<secret>`` there (CONTRACT §7, §3)."""

from __future__ import annotations

import logging
import re
from typing import Any

_TOKEN_PARAM = re.compile(r"((?:^|[?&;\s])(?:token|access_token)=)[^&\s\"'#]+", re.IGNORECASE)
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
_installed = False


def redact(text: str) -> str:
    """``text`` with every ``token=<value>`` query parameter and ``Bearer <value>`` replaced by ``***``."""
    if "token" not in text.lower() and "bearer" not in text.lower():
        return text
    return _BEARER.sub(r"\1***", _TOKEN_PARAM.sub(r"\1***", text))


def _clean(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


def install_log_redaction() -> None:
    """Wraps the log record factory so every record, from any logger and to any handler, is redacted before it
    is formatted. Idempotent."""
    global _installed
    if _installed:
        return
    _installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.msg = _clean(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_clean(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _clean(v) for k, v in record.args.items()}
        return record

    logging.setLogRecordFactory(factory)
