"""The live-event fixtures of tests/ws (real server, users with tokens) for the client tests."""

from tests.ws.conftest import alice_token, bob_token, server  # noqa: F401 - fixtures
