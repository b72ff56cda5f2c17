"""The office server's HTTP server: waitress, with its refusals in the API's shape.

Waitress refuses on its own what it cannot pass on: a ``Content-Length`` over
its body limit (refused before the body is read), a header with a NUL or a
bare CR, headers too large.  Its limits sit above the app's (``limits.py``), so
the app answers every body it can; what waitress still refuses it answers as
the app would, ``{"error": {"code", "message"}}`` in the server's language.
"""
from __future__ import annotations

import json
from typing import Any

from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, create_server
from waitress.task import ErrorTask

from . import i18n
from .errors import HTTP_CODES, OTHER
from .limits import WEB_MAX_BODY

WAITRESS_MAX_BODY = 2 * WEB_MAX_BODY  # above every limit the app answers itself


class JsonErrorTask(ErrorTask):
    def execute(self) -> None:
        e = self.request.error
        code, text = HTTP_CODES.get(e.code, OTHER)
        body = json.dumps({"error": {"code": code, "message": i18n._(text)}},
                          ensure_ascii=False).encode("utf-8")
        self.status = f"{e.code} {e.reason}"
        self.response_headers.append(("Content-Type", "application/json"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class JsonErrorChannel(HTTPChannel):
    error_task_class = JsonErrorTask


def make_server(app: Any, **kw: Any) -> Any:
    """``waitress.server.create_server`` with JSON refusals and the body limit
    above the app's; the caller runs it (``server.run()``)."""
    kw.setdefault("max_request_body_size", WAITRESS_MAX_BODY)
    server = create_server(app, **kw)
    for listener in [server, *getattr(server, "map", {}).values()]:
        if isinstance(listener, BaseWSGIServer):
            listener.channel_class = JsonErrorChannel
    return server
