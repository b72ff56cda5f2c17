"""display_web pages (filled in by its own issue)."""
from flask import Blueprint

bp = Blueprint("display_web", __name__)
