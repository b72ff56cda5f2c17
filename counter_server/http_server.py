"""The office server's HTTP server: uvicorn running :class:`~counter_server.asgi.MotcuaAsgi`.

One process (``serve()``), or on Linux several sharing one listening socket
(``workers > 1``: uvicorn's supervisor starts them, each loads the app through
:func:`worker_app` from the environment set here).
"""
from __future__ import annotations

import asyncio
import os
import socket
import sys
from typing import Any, Callable

import uvicorn
from uvicorn.supervisors import Multiprocess

from .asgi import JsonErrorHttpProtocol, MotcuaAsgi, close_all_streams

ENV_INSTANCE = "MOTCUA_SERVE_INSTANCE"
ENV_THREADS = "MOTCUA_SERVE_THREADS"


def listen(host: str, port: int) -> socket.socket:
    """The listening socket (OSError when the port is taken)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named: asyncio sets TCP_NODELAY only on sockets that say so
    # (without it every answer waits ~40 ms for the client's delayed ACK).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        if sys.platform != "win32":  # on Windows it would let a second server share the port
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _config(app: Any, **kw: Any) -> uvicorn.Config:
    return uvicorn.Config(
        app, http=JsonErrorHttpProtocol, ws="none", lifespan="on", log_config=None,
        access_log=False, server_header=False, timeout_keep_alive=30,
        # A worker process stops its streams only by this timeout (one
        # process ends them at once, Server.shutdown).
        timeout_graceful_shutdown=5, **kw)


class Server(uvicorn.Server):
    """uvicorn's server that ends the open event streams when it stops (they
    would hold its graceful shutdown) and says once it is serving."""

    on_started: Callable[[], None] | None = None

    async def startup(self, sockets: list | None = None) -> None:
        await super().startup(sockets)
        if self.started and self.on_started is not None:
            self.on_started()

    async def main_loop(self) -> None:
        """uvicorn's housekeeping (the Date header, whether to stop) once a
        second rather than ten times: an idle office server wakes less; a
        stop request waits at most a second."""
        while not await self.on_tick(0):  # tick 0: the Date header is renewed on each
            await asyncio.sleep(1.0)

    async def shutdown(self, sockets: list | None = None) -> None:
        close_all_streams()
        await super().shutdown(sockets)


def serve(flask_app: Any, sock: socket.socket, threads: int,
          on_started: Callable[[], None]) -> None:
    """Serve ``flask_app`` on ``sock`` in this process until stopped."""
    server = Server(_config(MotcuaAsgi(flask_app, threads=threads)))
    server.on_started = on_started
    server.run(sockets=[sock])


def serve_workers(instance: str | None, sock: socket.socket, threads: int, workers: int,
                  on_started: Callable[[], None]) -> None:
    """``workers`` processes on ``sock``, each with its own app (Linux)."""
    os.environ[ENV_INSTANCE] = instance or ""
    os.environ[ENV_THREADS] = str(threads)
    config = _config("counter_server.http_server:worker_app", factory=True, workers=workers)
    supervisor = Multiprocess(config, sockets=[sock])
    on_started()
    supervisor.run()


def worker_app() -> MotcuaAsgi:
    """The app of one worker process (uvicorn's factory)."""
    from .app import create_app

    instance = os.environ.get(ENV_INSTANCE) or None
    app = create_app({"INSTANCE_DIR": instance} if instance else None)
    return MotcuaAsgi(app, threads=int(os.environ.get(ENV_THREADS, "16")))
