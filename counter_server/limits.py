"""Request rate limits (Flask-Limiter, in-memory: one office server)."""
from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(key_func=get_remote_address, default_limits=[])

# Ratings: one bucket per device (a tablet or kiosk, whatever its address) or,
# for anonymous phones, per address; plus one per address for everybody.  The
# API and the phone page's no-JS form share these buckets (shared_limit scopes).
RATING_PER_DEVICE = "20/minute"
RATING_PER_ADDRESS = "60/minute"


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


# The endpoints every citizen's ticket passes through, none of which carries a
# limit (a signed-in kiosk issues, signed-in officers act): the limiter skips
# its per-request search for the limits that apply (about 60 µs of each
# request's CPU).  A test checks that no limit is declared on any of them.
UNLIMITED_HOT_ENDPOINTS = frozenset({
    "api.issue", "api.call_next", "api.recall", "api.ticket_start", "api.ticket_complete",
    "api.ticket_no_show", "api.events", "api.display",
})


@limiter.request_filter
def _hot_endpoint() -> bool:
    return request.endpoint in UNLIMITED_HOT_ENDPOINTS
