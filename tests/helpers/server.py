"""Runs the real app (REST routers + ``/ws``) under uvicorn on 127.0.0.1:<free port>, in the test's event loop,
sharing the test's started ``container``.

    async with running_server(container) as server:
        server.url, server.ws_url, server.hub
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI

from app.api import router as api_router
from app.api.ws import WsHub, WsOptions
from app.container import Bulkdash


@dataclass
class RunningServer:
    url: str
    ws_url: str
    app: FastAPI
    hub: WsHub
    server: uvicorn.Server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_app(container: Bulkdash, ws_options: WsOptions) -> FastAPI:
    """A FastAPI app with ``/ws`` first (so it wins over any other ``/ws``), then the REST routes."""
    app = FastAPI()
    api_router.install(app, container, ws_options=ws_options)
    return app


@asynccontextmanager
async def running_server(
    container: Bulkdash, ws_options: WsOptions | None = None, *, port: int | None = None
) -> AsyncIterator[RunningServer]:
    """Serves the app until the block ends (on ``port``, or a free one); WebSocket connections are closed first."""
    options = ws_options or WsOptions()
    app = make_app(container, options)
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    loop = asyncio.get_running_loop()
    end = loop.time() + 10
    while not server.started:
        if task.done():
            task.result()
        if loop.time() > end:
            raise RuntimeError("uvicorn did not start in time")
        await asyncio.sleep(0.01)  # uvicorn offers no event for "started"
    try:
        yield RunningServer(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", app, options.hub, server)
    finally:
        await options.hub.close_all(1001, "test server stopping")
        server.should_exit = True
        await asyncio.wait_for(task, 10)
