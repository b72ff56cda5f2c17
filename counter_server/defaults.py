"""Office defaults from DOMAIN.md; every value stays editable per office."""
from __future__ import annotations

import json
from typing import Any

WORKDAY = [["07:00", "11:30"], ["13:30", "17:00"]]
DEFAULT_HOURS: dict[str, list[list[str]]] = {
    "mon": WORKDAY, "tue": WORKDAY, "wed": WORKDAY, "thu": WORKDAY, "fri": WORKDAY,
    "sat": [], "sun": [],
}
ALWAYS_OPEN: dict[str, list[list[str]]] = {
    d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
}

# value: stored level; official: the three shares of official reports;
# low: asks for reasons.
DEFAULT_RATING_LEVELS: list[dict[str, Any]] = [
    {"value": 4, "label": "Rất hài lòng", "face": "very_happy", "color": "#1b9e3e",
     "official": "very_satisfied", "low": False},
    {"value": 3, "label": "Hài lòng", "face": "happy", "color": "#7cb342",
     "official": "satisfied", "low": False},
    {"value": 2, "label": "Bình thường", "face": "neutral", "color": "#f9a825",
     "official": "satisfied", "low": True},
    {"value": 1, "label": "Không hài lòng", "face": "unhappy", "color": "#d32f2f",
     "official": "unsatisfied", "low": True},
]
DEFAULT_RATING_REASONS: list[dict[str, str]] = [
    {"code": "long_wait", "label": "Thời gian chờ lâu"},
    {"code": "attitude", "label": "Thái độ chưa đúng mực"},
    {"code": "unclear", "label": "Hướng dẫn chưa rõ ràng"},
    {"code": "resubmit", "label": "Phải bổ sung hồ sơ nhiều lần"},
    {"code": "other", "label": "Khác"},
]

DEFAULT_SETTINGS: dict[str, Any] = {
    # Lock issuing outside opening hours.
    "enforce_hours": True,
    "notice": "",
    # The lobby TV scrolls the notice (true) or shows it still (false: no redraws).
    "display_ticker": True,
    # Interleave: serve `priority_run` priority tickets, then `normal_run`
    # normal ones, while both queues have people; normal tickets waiting
    # longer than `aging_minutes` join the priority lane (nobody waits forever).
    "priority_run": 1,
    "normal_run": 2,
    "aging_minutes": 30,
    "kiosk_priority_step": True,
    # The kiosk reads aloud what is touched from the start (its speaker button still toggles).
    "kiosk_speech_default": False,
    "rating_levels": DEFAULT_RATING_LEVELS,
    "rating_reasons": DEFAULT_RATING_REASONS,
    "rating_timeout_seconds": 30,
    # Presses closer together than this (same device) are flagged as misuse.
    "rating_min_interval_seconds": 3,
    "announcement_template": "Mời công dân có số thứ tự {so} đến quầy số {quay}",
    "voice_engine": "espeak-ng",
    "voice_number_mode": "words",
    "voice_repeat": 2,
    # Minutes to estimate with until there are enough real service times.
    "recent_service_samples": 20,
    # A counter whose console has not reached the server for this many minutes
    # closes itself and puts its ticket in hand back at the head of the queue
    # (0: never).
    "idle_close_minutes": 15,
}
# --- officeday: what the printed ticket tells phones ---
DEFAULT_SETTINGS.update({
    # Base address phones open from the ticket's QR (e.g. http://192.168.1.10:8080);
    # blank: the address the kiosk itself uses for the server.
    "public_url": "",
    # A short line printed under the QR, e.g. "Wi-Fi: MotCua-Khach"; blank: none.
    "wifi_hint": "",
})
# --- phone: "your turn is near" ---
DEFAULT_SETTINGS.update({
    # The phone page rings when this many places or fewer are ahead (0: only when called).
    "near_alert_places": 3,
    # Optional SMS/Zalo message through the office's HTTP gateway (notify_sms.py): off.
    "sms_enabled": False,
    "sms_webhook_url": "",
    # The POST body, JSON once {phone}, {message}, {number}, {counter}, {office} are filled in.
    "sms_body_template": '{"to": "{phone}", "text": "{message}"}',
})


_DEFAULTS_JSON = json.dumps(DEFAULT_SETTINGS, ensure_ascii=False)


def office_settings(stored: dict[str, Any] | None) -> dict[str, Any]:
    """The stored settings over the defaults (stored values win).

    A fresh copy every call (callers may edit it); decoding the defaults from
    JSON is several times cheaper than deepcopy on the ticket path."""
    merged = json.loads(_DEFAULTS_JSON)
    merged.update(stored or {})
    return merged


DEMO_SERVICES = [
    # code, name, icon, number_start
    ("HT", "Tư pháp – Hộ tịch", "family", 1001),
    ("CT", "Chứng thực", "stamp", 2001),
    ("BHYT", "Bảo hiểm y tế", "health", 3001),
    ("CU", "Cư trú", "home", 4001),
    ("DD", "Đất đai – Xây dựng", "land", 5001),
    ("LDXH", "Lao động – Thương binh và Xã hội", "people", 6001),
]
# counter number -> (name, service codes)
DEMO_COUNTERS = {
    1: ("Quầy 1", ["HT", "BHYT"]),
    2: ("Quầy 2", ["CT", "HT"]),
    3: ("Quầy 3", ["CU", "LDXH"]),
    4: ("Quầy 4", ["DD", "CT"]),
}
DEMO_STAFF = {
    1: ("canbo1", "Nguyễn Thị Hoa"),
    2: ("canbo2", "Trần Văn Minh"),
    3: ("canbo3", "Lê Thị Thu Hà"),
    4: ("canbo4", "Phạm Đức Thắng"),
}
