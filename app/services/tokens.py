"""Token bookkeeping for the web edge: ``last_used_at``, written at most once a minute per token."""

from __future__ import annotations

import time

from app.store.users import UserStore

#: a commit per request would be wasteful; the listing only needs minute precision
TOUCH_INTERVAL_S = 60.0


class TokenUsage:
    """Records when tokens were last used, throttled per token."""

    def __init__(self, users: UserStore, interval_s: float = TOUCH_INTERVAL_S) -> None:
        self.users = users
        self.interval_s = interval_s
        self._touched: dict[str, float] = {}

    async def used(self, token_id: str | None) -> None:
        """Marks the token as used now (a store write only once per ``interval_s``)."""
        if not token_id:
            return
        now = time.monotonic()
        last = self._touched.get(token_id)
        if last is not None and now - last < self.interval_s:
            return
        self._touched[token_id] = now
        await self.users.touch_token(token_id)
