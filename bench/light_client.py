"""A keep-alive HTTP/1.1 client on the standard library's ``http.client``
with the part of ``requests.Session``'s interface the benchmarks use.

The load generator shares the machine's cores with the server it measures:
``requests`` spends about a millisecond of CPU per call, this a fraction of
that (see bench/README.md, "Server load")."""
from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit


class LightResponse:
    def __init__(self, status: int, body: bytes) -> None:
        self.status_code, self.content = status, body

    def json(self):
        return json.loads(self.content)


_dumps = json.dumps  # (request()'s keyword ``json`` hides the module, as in requests)


class LightSession:
    """One keep-alive connection per host; ``post``/``get`` like requests."""

    def __init__(self) -> None:
        self._conns: dict[str, http.client.HTTPConnection] = {}

    def request(self, method: str, url: str, headers: dict | None = None, json=None,
                timeout: float = 60) -> LightResponse:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        hdrs = dict(headers or {})
        body = None
        if json is not None:
            body = _dumps(json).encode()
            hdrs["Content-Type"] = "application/json"
        for attempt in (0, 1):
            conn = self._conns.get(parts.netloc)
            if conn is None:
                conn = self._conns[parts.netloc] = http.client.HTTPConnection(
                    parts.hostname, parts.port, timeout=timeout)
            try:
                conn.request(method, path, body=body, headers=hdrs)
                resp = conn.getresponse()
                return LightResponse(resp.status, resp.read())
            except (http.client.RemoteDisconnected, ConnectionError):
                conn.close()  # the server closed an idle connection: open another
                del self._conns[parts.netloc]
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def post(self, url: str, **kw) -> LightResponse:
        return self.request("POST", url, **kw)

    def get(self, url: str, **kw) -> LightResponse:
        return self.request("GET", url, **kw)
