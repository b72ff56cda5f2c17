"""The on-disk rating queue against a real server that goes away and comes back."""
from __future__ import annotations

from counter_server.client import ApiClient
from kiosk.rating_queue import RatingQueue, RatingSender

from .rating_support import call_and_complete, issue, ratings_rows


def sender_for(live, path) -> RatingSender:
    client = ApiClient(live.url, live.token("kiosk"), timeout=(1.0, 3.0))
    return RatingSender(RatingQueue(path), lambda body: client.rate(**body))


def test_queue_survives_a_down_server_and_a_device_restart(live_server, tmp_path):
    done = issue(live_server, "HT")
    assert call_and_complete(live_server, 1)["id"] == done["id"]
    qfile = tmp_path / "device" / "rating_queue.jsonl"

    live_server.stop()
    sender = sender_for(live_server, qfile)
    item = sender.submit(level=1, ticket_code=done["code"], reasons=["long_wait"],
                         comment="Chờ hơi lâu")
    assert sender.flush_once() == 0          # server down: kept
    assert qfile.read_text(encoding="utf-8").count("\n") == 1
    assert "Chờ hơi lâu" in qfile.read_text(encoding="utf-8")

    # The device restarts: a new queue object reads the same file.
    live_server.start()
    sender = sender_for(live_server, qfile)
    assert [it["client_key"] for it in sender.queue.pending()] == [item["client_key"]]
    assert sender.flush_once() == 1
    assert len(sender.queue) == 0 and qfile.read_text(encoding="utf-8") == ""

    # A re-send of the same client_key (its answer was lost) adds nothing.
    sender.submit(**{k: item[k] for k in ("level", "ticket_code", "reasons", "comment",
                                          "client_key")})
    assert sender.flush_once() == 1
    rows = [r for r in ratings_rows(live_server) if r["ticket_code"] == done["code"]]
    assert len(rows) == 1
    assert rows[0]["channel"] == "kiosk" and rows[0]["level"] == 1
    assert rows[0]["comment"] == "Chờ hơi lâu" and not rows[0]["misuse"]
    assert rows[0]["client_key"] == item["client_key"]


def test_refused_items_are_dropped_and_a_torn_line_is_skipped(live_server, tmp_path):
    qfile = tmp_path / "q.jsonl"
    sender = sender_for(live_server, qfile)
    sender.submit(level=4, ticket_code="no-such-code")
    with open(qfile, "a", encoding="utf-8") as fh:
        fh.write('{"client_key": "half-writ')   # a torn write from an older version
    sender = sender_for(live_server, qfile)
    assert len(sender.queue) == 1
    assert sender.flush_once() == 1
    assert len(sender.dropped) == 1 and sender.dropped[0][1].status == 404
    assert len(sender.queue) == 0
    assert ratings_rows(live_server) == []
