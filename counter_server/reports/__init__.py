"""reports pages (filled in by its own issue)."""
from flask import Blueprint

bp = Blueprint("reports", __name__)
