"""The security tests use the REST fixtures of tests/api (the real ASGI app, a client per user)."""

from tests.api.conftest import api, limits, make_job  # noqa: F401
