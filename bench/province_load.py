"""The closed-loop load of the province throughput run (bench/office_day.py
``--workers``), in client processes of its own so that the load generator's
CPU is not the server's and one client process's GIL is not the limit.

Each client process runs a few threads; each thread holds one keep-alive
connection (``http.client``: a fraction of ``requests``' CPU per call) and
plays one counter of one office and its share of the kiosk: it fills the
queue, then issues a ticket and calls the next one (completing the one in
hand) in turn, then calls until its queue is empty.  It returns every answer
it got, for the checks, with the latencies and its own CPU time.
"""
from __future__ import annotations

import http.client
import json
import os
import random
import threading
import time
from typing import Any


def _post(conn: http.client.HTTPConnection, path: str, token: str, body: dict) -> tuple[int, Any]:
    conn.request("POST", path, body=json.dumps(body),
                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    r = conn.getresponse()
    return r.status, json.loads(r.read() or b"null")


def _issue(conn: http.client.HTTPConnection, job: dict, rng: random.Random, out: list) -> None:
    t0 = time.perf_counter()
    status, body = _post(conn, "/api/v1/tickets", job["kiosk"],
                         {"service_id": rng.choice(job["services"])})
    ms = (time.perf_counter() - t0) * 1000
    if status == 201:
        out.append(("issue", ms, {"office": job["office"], "id": body["id"],
                                  "service_id": body["service_id"], "number": body["number"]}))
    else:
        out.append(("error", ms, {"status": status, "body": body}))


def _call(conn: http.client.HTTPConnection, job: dict, out: list) -> bool:
    """Call next at the job's counter, completing the ticket in hand; False
    when nobody is waiting for it."""
    t0 = time.perf_counter()
    status, body = _post(conn, f"/api/v1/counters/{job['counter']}/call-next", job["staff"],
                         {"complete_current": True})
    ms = (time.perf_counter() - t0) * 1000
    if status == 200:
        out.append(("call", ms, {"office": job["office"], "id": body["id"],
                                 "counter_id": body["counter_id"]}))
    elif status == 409 and body["error"]["code"] == "queue_empty":
        out.append(("empty", ms, None))
        return False
    else:
        out.append(("error", ms, {"status": status, "body": body}))
    return True


def _work(port: int, phase: str, job: dict, start_at: float, deadline: float,
          out: list) -> None:
    """``fill``: issue ``job['count']`` tickets; ``mixed``: issue one, call
    one, until the deadline; ``drain``: call until the queue is empty."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    rng = random.Random(job["seed"])
    time.sleep(max(0.0, start_at - time.time()))
    if phase == "fill":
        for _ in range(job["count"]):
            _issue(conn, job, rng, out)
    elif phase == "mixed":
        while time.time() < deadline:
            _issue(conn, job, rng, out)
            _call(conn, job, out)
    else:
        while time.time() < deadline and _call(conn, job, out):
            pass
    conn.close()


def run(port: int, phase: str, jobs: list[dict], start_at: float, seconds: float) -> dict:
    """One client process: a thread per job, started together at ``start_at``
    (wall clock, shared by every client process), for ``seconds``."""
    out: list = []  # list.append is atomic: one list for all threads
    threads = [threading.Thread(target=_work, args=(port, phase, job, start_at,
                                                    start_at + seconds, out))
               for job in jobs]
    cpu0 = sum(os.times()[:2])
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"answers": out, "cpu": sum(os.times()[:2]) - cpu0, "ended": time.time()}
