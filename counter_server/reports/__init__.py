"""Reports for leaders: dashboard, officer pages, Excel/CSV exports, summary API.

``bp`` holds the server-rendered pages at /reports; ``api.reports_api`` is an
APIFlask blueprint at /api/v1/reports so it appears in the OpenAPI document.
"""
from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")

from . import views  # noqa: E402,F401  (routes)
