"""Whatever a printer transport raises, as one PrinterError code.

Sockets, pyusb, pyserial, CUPS and python-escpos each fail their own way;
the kiosk shows one Vietnamese message per code (kiosk.printing.ERROR_CODES).
"""
from __future__ import annotations

import errno
import socket
from typing import Callable

from escpos.exceptions import DeviceNotFoundError

from kiosk.printing import PrinterError

_OFFLINE_ERRNOS = {errno.ECONNREFUSED, errno.ECONNRESET, errno.ECONNABORTED, errno.EPIPE,
                   errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ENETDOWN,
                   getattr(errno, "EHOSTDOWN", errno.EHOSTUNREACH)}
_MISSING_ERRNOS = {errno.ENOENT, errno.ENODEV, errno.ENXIO}


def _exception_chain(exc: BaseException) -> list[BaseException]:
    chain, seen, todo = [], set(), [exc]
    while todo:
        item = todo.pop(0)
        if id(item) in seen:
            continue
        seen.add(id(item))
        chain.append(item)
        todo += [e for e in (item.__cause__, item.__context__) if e is not None]
    return chain


def classify(exc: BaseException) -> PrinterError:
    """Map whatever a transport raised (socket, pyusb, pyserial, CUPS, python-escpos) to a code.

    python-escpos wraps the OS error of a failed ``open()`` in DeviceNotFoundError,
    so the whole chain of causes is inspected, most specific first.
    """
    if isinstance(exc, PrinterError):
        return exc
    chain = _exception_chain(exc)
    detail = " <- ".join(f"{type(e).__name__}: {e}".strip() for e in chain)[:500]

    def has(test: Callable[[BaseException], bool]) -> bool:
        return any(test(e) for e in chain)

    def errno_in(e: BaseException, codes: set[int]) -> bool:
        return isinstance(getattr(e, "errno", None), int) and e.errno in codes  # type: ignore[attr-defined]

    if has(lambda e: isinstance(e, TimeoutError) or "timeout" in type(e).__name__.lower()
           or errno_in(e, {errno.ETIMEDOUT})):
        code = "printer_timeout"
    elif has(lambda e: isinstance(e, ConnectionError) or errno_in(e, _OFFLINE_ERRNOS)):
        code = "printer_offline"
    elif has(lambda e: isinstance(e, PermissionError) or errno_in(e, {errno.EACCES, errno.EPERM})):
        code = "printer_error"
    elif has(lambda e: isinstance(e, (socket.gaierror, FileNotFoundError, DeviceNotFoundError))
             or errno_in(e, _MISSING_ERRNOS)):
        code = "printer_missing"
    else:
        code = "printer_error"
    return PrinterError(code, detail)
