"""SIGKILL the server while tickets are being issued: every acknowledged
ticket survives the restart and numbering continues without reuse."""
from __future__ import annotations

import threading
import time

import pytest
import requests

from tests.conftest import LiveServer, bearer

pytestmark = pytest.mark.slow


def test_kill_9_while_issuing_keeps_every_acknowledged_ticket(live_server: LiveServer):
    server = live_server
    sid = server.creds["services"]["HT"]
    acked: list[dict] = []
    lock = threading.Lock()
    stop = threading.Event()

    def issuer(k: int) -> None:
        s = requests.Session()
        i = 0
        while not stop.is_set():
            i += 1
            try:
                r = s.post(server.url + "/api/v1/tickets", headers=bearer(server.token("kiosk")),
                           json={"service_id": sid, "idempotency_key": f"w{k}-{i}"}, timeout=5)
            except requests.RequestException:
                continue  # the server is gone: that ticket was never acknowledged
            if r.status_code == 201:
                with lock:
                    acked.append(r.json())

    workers = [threading.Thread(target=issuer, args=(k,)) for k in range(4)]
    for w in workers:
        w.start()
    while len(acked) < 60:
        time.sleep(0.01)
    server.kill()  # SIGKILL in the middle of the stream of requests
    stop.set()
    for w in workers:
        w.join(10)
    assert len(acked) >= 60

    server.start()
    with requests.Session() as s:
        for t in acked:  # every acknowledged ticket is there, unchanged
            r = s.get(f"{server.url}/api/v1/tickets/{t['code']}", timeout=10)
            assert r.status_code == 200, t
            assert r.json()["number"] == t["number"]
        after = s.post(server.url + "/api/v1/tickets", headers=bearer(server.token("kiosk")),
                       json={"service_id": sid}, timeout=10).json()
    assert after["number"] > max(t["number"] for t in acked)
    numbers = [t["number"] for t in acked]
    assert len(numbers) == len(set(numbers))
