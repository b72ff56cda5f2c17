"""What a request may be: its size, its text, its rate.

Sizes and text are checked before any view runs (:func:`check_request`), so
every refusal is the server's JSON error (or, for a browser, its Vietnamese
page); rates are Flask-Limiter's (in-memory: one office server).
"""
from __future__ import annotations

import json

from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

API_MAX_BODY = 64 * 1024
WEB_MAX_BODY = 4 * 1024 * 1024  # photo uploads and configuration imports
# Request bodies are JSON objects of plain fields: a few levels at most.
MAX_JSON_DEPTH = 16


class ViewLimiter(Limiter):
    """Flask-Limiter with limits on views only (``@limiter.limit``,
    ``@limiter.shared_limit``), each checked by its decorator.  The check
    Flask-Limiter runs before every request is for default, application and
    blueprint limits, which this server has none of: it is skipped."""

    def _check_request_limit(self, callable_name: str | None = None,
                             in_middleware: bool = True) -> None:
        if not in_middleware:
            super()._check_request_limit(callable_name, in_middleware)


limiter = ViewLimiter(key_func=get_remote_address)

# Ratings: one bucket per device (a tablet or kiosk, whatever its address) or,
# for anonymous phones, per address; plus one per address for everybody.  The
# API and the phone page's no-JS form share these buckets (shared_limit scopes).
RATING_PER_DEVICE = "20/minute"
RATING_PER_ADDRESS = "60/minute"
# Finding a ticket by number and check code at the kiosk: a citizen's few tries,
# far too few to guess a 4-digit check code.
LOOKUP_PER_DEVICE = "30/minute"


def device_or_address() -> str:
    """Key a limit on the calling device, else on the remote address."""
    from .security import AuthError, current_principal

    try:
        p = current_principal()
    except AuthError:  # a bad token is refused by the view itself
        p = None
    if p is not None and p.device_id is not None:
        return f"device:{p.device_id}"
    return "addr:" + (get_remote_address() or "")


def check_request() -> None:
    """Refuse (400, or 413 for size) what no view should see: a body over the
    limit, and text no database column can hold or no view needs: NUL,
    a lone surrogate (a ``"\\ud800"`` escape), JSON nested too deep to parse
    safely, in the path, the query, the headers, a form or a JSON body."""
    from werkzeug.exceptions import RequestEntityTooLarge

    from .errors import bad_input

    req = request._get_current_object()  # (one proxy look-up, not one per use)
    if req.path.startswith("/api/"):
        req.max_content_length = API_MAX_BODY
    length = req.content_length
    if length is not None and length > (req.max_content_length or WEB_MAX_BODY):
        raise RequestEntityTooLarge()
    environ = req.environ
    texts = [req.path, *(v for k, v in environ.items() if k.startswith("HTTP_"))]
    if environ.get("QUERY_STRING"):
        texts += [t for kv in req.args.items(multi=True) for t in kv]
    if req.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        texts += [t for kv in req.form.items(multi=True) for t in kv]
    if all(isinstance(t, str) for t in texts) and storable("".join(texts)):
        if req.is_json:
            _check_json(req.get_data(cache=True))
        return
    raise bad_input("The text sent contains characters that cannot be stored.")


def storable(text: str) -> bool:
    """Text a database column can hold: no NUL, valid Unicode (UTF-8)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_json(raw: bytes) -> None:
    from .errors import bad_input

    if not raw:
        return
    try:
        data = json.loads(raw)
    except RecursionError:
        raise bad_input("The data sent is nested too deeply.")
    except ValueError:
        return  # not JSON: the view's input parsing says so
    stack = [(data, 1)]
    while stack:  # iterative: the depth is what is being checked
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise bad_input("The data sent is nested too deeply.")
        if isinstance(value, dict):
            for k, v in value.items():
                if not storable(k):
                    raise bad_input("The text sent contains characters that cannot be stored.")
                stack.append((v, depth + 1))
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
        elif isinstance(value, str) and not storable(value):
            raise bad_input("The text sent contains characters that cannot be stored.")
