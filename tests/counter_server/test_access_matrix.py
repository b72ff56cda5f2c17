"""Every route of every blueprint against every kind of caller.

The expectations come from each view's own declaration
(``security.access_of(view)``): a view without one fails the test, so a new
route cannot slip past the access rules.  Allowed callers must not be
refused for lack of role (401, or 403 forbidden/unauthorized); refused callers
must get 401/403 or be sent to the sign-in page.
"""
from __future__ import annotations

import re
from typing import Any

import pytest

from counter_server.security import PUBLIC, access_of

CALLERS = ("anonymous", "kiosk", "display", "rating", "staff", "leader", "admin")
DENIAL_CODES = {"unauthorized", "forbidden", "invalid_token"}
# Views the frameworks add themselves (not decorated by us): public by design.
FRAMEWORK_PUBLIC = {"openapi.spec"}


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', html)[1]


def web_login(client: Any, creds: dict, username: str, counter: int | None = None) -> str:
    """Sign in through the console form; returns a CSRF token for the session."""
    token = csrf_of(client.get("/login").get_data(as_text=True))
    form = {"csrf_token": token, "username": username,
            "password": creds["users"][username]["password"]}
    if counter is not None:
        form["counter_id"] = str(creds["counters"][str(counter)])
    r = client.post("/login", data=form)
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    return csrf_of(client.get("/account").get_data(as_text=True))


def sample_value(conv: Any) -> str:
    """A value the converter accepts that names no real row (so no probe changes data)."""
    # (the 12 nines: a ticket code, 8 to 32 characters)
    for cand in ("999999", "99999", "9999", "999", "999999999999", "x"):
        if re.fullmatch(conv.regex, cand):
            try:
                conv.to_python(cand)
            except Exception:  # a bounded converter refusing a big id
                continue
            return cand
    return "x"


def sample_url(rule: Any) -> str:
    path = rule.rule
    for arg, conv in rule._converters.items():
        path = re.sub(r"<(?:[^<>:]+:)?%s>" % re.escape(arg), sample_value(conv), path)
    return path


def routes(app: Any) -> list[tuple[str, str, str]]:
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((rule.endpoint, method, sample_url(rule)))
    # Sign-out last: it clears the probing session (and its CSRF secret).
    return sorted(out, key=lambda r: r[0].endswith(("logout", "sign_out")))


@pytest.fixture
def callers(app, creds) -> dict[str, tuple[Any, dict[str, str]]]:
    """One test client per caller kind, each with the headers it sends."""
    out = {}
    for who in CALLERS:
        c = app.test_client()
        headers: dict[str, str] = {}
        if who in ("kiosk", "display"):
            headers["Authorization"] = "Bearer " + creds["devices"][who]["token"]
        elif who == "rating":
            headers["Authorization"] = "Bearer " + creds["devices"]["rating1"]["token"]
        if who in ("staff", "leader", "admin"):
            user = {"staff": "canbo1", "leader": "lanhdao", "admin": "quantri"}[who]
            headers["X-CSRFToken"] = web_login(c, creds, user, 1 if who == "staff" else None)
        else:
            # A valid CSRF token (bound to this client's cookie) so that a refusal
            # we see is the access rule, not the CSRF check in front of it.
            headers["X-CSRFToken"] = csrf_of(c.get("/login").get_data(as_text=True))
        out[who] = (c, headers)
    return out


def refused(resp: Any) -> bool:
    if resp.status_code in (301, 302, 303, 307, 308):
        return "/login" in resp.headers.get("Location", "")
    if resp.status_code == 401:
        return True
    if resp.status_code == 403:
        body = resp.get_json(silent=True) or {}
        code = (body.get("error") or {}).get("code")
        return code in DENIAL_CODES or code is None
    return False


def test_every_view_declares_its_access(app):
    missing = [ep for ep, view in app.view_functions.items()
               if ep != "static" and not ep.endswith(".static") and ep not in FRAMEWORK_PUBLIC
               and access_of(view) is None]
    assert not missing, f"views without @require: {missing}"


def test_access_matrix(app, callers):
    blueprints = {ep.split(".")[0] for ep, _m, _u in routes(app) if "." in ep}
    assert {"api", "console", "admin"} <= blueprints
    failures = []
    checked = 0
    for endpoint, method, url in routes(app):
        allowed = (frozenset({PUBLIC}) if endpoint in FRAMEWORK_PUBLIC
                   else access_of(app.view_functions[endpoint]))
        assert allowed is not None, f"{endpoint} declares no access policy"
        for who in CALLERS:
            if PUBLIC in allowed and who != "anonymous":
                continue  # public views may still judge callers on their own terms
            client, headers = callers[who]
            resp = client.open(url, method=method, headers=headers, buffered=False,
                               follow_redirects=False)
            try:
                ok = (PUBLIC in allowed) or (who in allowed)
                if PUBLIC in allowed:
                    if resp.status_code == 401 or (resp.status_code == 403 and refused(resp)):
                        failures.append(f"{method} {url} [{endpoint}] {who}: public view "
                                        f"refused with {resp.status_code}")
                elif ok and refused(resp):
                    failures.append(f"{method} {url} [{endpoint}] {who}: refused "
                                    f"{resp.status_code} but declared {sorted(allowed)}")
                if not ok and not refused(resp):
                    failures.append(f"{method} {url} [{endpoint}] {who}: got "
                                    f"{resp.status_code}, expected a refusal")
            finally:
                resp.close()
            checked += 1
    assert checked > 100
    assert not failures, "\n".join(failures)

