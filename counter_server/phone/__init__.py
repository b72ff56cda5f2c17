"""phone pages (filled in by its own issue)."""
from flask import Blueprint

bp = Blueprint("phone", __name__)
