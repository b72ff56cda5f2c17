"""admin pages (filled in by its own issue)."""
from flask import Blueprint

bp = Blueprint("admin", __name__)
