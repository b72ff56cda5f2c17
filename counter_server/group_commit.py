"""Group commit for SQLite: concurrent write transactions share one commit.

With ``synchronous=FULL`` every commit waits for the disk; under load,
requests that queue for SQLite's single writer store their jobs in one
transaction and share that wait, while each caller still returns only after
its own change is durable.  ``Database.batched()`` is the way in (the API's
``run_write(..., batch=True)``); on PostgreSQL every job has its own
transaction.
"""
from __future__ import annotations

import threading
from typing import Any, Callable, TypeVar

T = TypeVar("T")


class _Slot:
    """One caller's place in the group commit: its job's outcome (set by the
    leader that runs it, like a Future's) and ``wake``, a lock held until the
    caller may go on: its job is done, or it is to lead the next batch."""

    __slots__ = ("_done", "_result", "_error", "wake")

    def __init__(self) -> None:
        self._done, self._result, self._error = False, None, None
        self.wake = threading.Lock()
        self.wake.acquire()

    def set_result(self, result: Any) -> None:
        self._result, self._done = result, True

    def set_exception(self, error: BaseException) -> None:
        self._error, self._done = error, True

    def done(self) -> bool:
        return self._done

    def result(self) -> Any:
        if self._error is not None:
            raise self._error
        return self._result


class GroupCommitter:
    """Group commit for SQLite, leader and followers: every caller queues its
    job; when no batch is being run, the caller leads: it takes the write lock
    and runs, in one transaction, every job queued by then and commits them
    with one disk flush (a refused job makes the batch run again with a
    SAVEPOINT per job, so it rolls back alone).  Callers arriving meanwhile
    sleep until their job is done; the first of them still queued when a
    batch ends is woken to lead the next one.

    A lone request runs its job on its own thread, without a hand-over.  Each
    follower is woken once, by the leader that ran its job."""

    MAX_BATCH = 64

    def __init__(self, sessions: Callable[[], Any], write_lock: Any, notifier: Any) -> None:
        """``sessions`` makes the write sessions (``db.Tx``), ``write_lock`` is
        the database's writer mutex, ``notifier`` wakes the event streams."""
        self._sessions, self._write_lock, self._notifier = sessions, write_lock, notifier
        self._mutex = threading.Lock()  # guards the two below
        self._queue: list[tuple[Callable[[Any], Any], _Slot]] = []
        self._leading = False

    def run(self, fn: Callable[[Any], T]) -> T:
        slot = _Slot()
        with self._mutex:
            self._queue.append((fn, slot))
            follow, self._leading = self._leading, True
        if follow:
            slot.wake.acquire()  # until done, or handed the lead
        if not slot.done():
            self._lead()
        return slot.result()

    def _lead(self) -> None:
        """Run the queue's first jobs (the caller's own first), then wake
        their callers and hand the lead to the next queued caller."""
        with self._mutex:
            batch = self._queue[:self.MAX_BATCH]
            del self._queue[:self.MAX_BATCH]
        try:
            with self._write_lock:
                self._run_batch(batch)
        finally:
            for _fn, slot in batch:
                if not slot.done():  # _run_batch itself broke (never expected)
                    slot.set_exception(RuntimeError("group commit failed"))
            for _fn, slot in batch[1:]:  # (the first is the leader's own)
                slot.wake.release()
            with self._mutex:
                if self._queue:
                    self._queue[0][1].wake.release()  # its caller leads next
                else:
                    self._leading = False

    def _run_batch(self, batch: list[tuple[Callable[[Any], Any], Any]]) -> None:
        """Run and commit ``batch`` (jobs and their slots or Futures); the
        caller holds the write lock.

        First all jobs run straight in one transaction.  Should one of them be
        refused or fail, that transaction is rolled back and the batch runs
        again with a SAVEPOINT around each job, so the refusal rolls back
        alone (refusals are rare under load: savepoints cost every job)."""
        if self._run_plain(batch):
            return
        outcomes: list[tuple[Any, Any, BaseException | None]] = []
        try:
            with self._sessions() as tx, tx.begin():
                for fn, fut in batch:
                    mark = len(tx.events)
                    try:
                        with tx.begin_nested():
                            outcomes.append((fut, fn(tx), None))
                    except Exception as exc:  # refused or failed: this job only
                        del tx.events[mark:]  # its events go with its savepoint
                        outcomes.append((fut, None, exc))
                tx.insert_events()
        except Exception as exc:  # the commit itself failed: nothing was stored
            outcomes = [(fut, None, exc) for _fn, fut in batch]
        else:
            self._notifier.notify(tx.offices())
        self._settle(outcomes)

    def _run_plain(self, batch: list[tuple[Callable[[Any], Any], Any]]) -> bool:
        """Every job of ``batch`` in one transaction without savepoints; False
        (nothing stored, nothing settled) when a job of a larger batch failed.
        A lone job's failure is its own outcome."""
        results = []
        try:
            with self._sessions() as tx, tx.begin():
                for fn, _fut in batch:
                    results.append(fn(tx))
                tx.insert_events()
        except Exception as exc:
            if len(batch) > 1 and len(results) < len(batch):
                return False  # a job failed: the batch runs again, job by job
            self._settle([(fut, None, exc) for _fn, fut in batch])  # the commit failed
            return True
        self._notifier.notify(tx.offices())
        self._settle([(fut, r, None) for (_fn, fut), r in zip(batch, results)])
        return True

    @staticmethod
    def _settle(outcomes: list[tuple[Any, Any, BaseException | None]]) -> None:
        for fut, result, err in outcomes:
            if err is None:
                fut.set_result(result)
            else:
                fut.set_exception(err)
