"""console pages (filled in by its own issue)."""
from flask import Blueprint

bp = Blueprint("console", __name__)
