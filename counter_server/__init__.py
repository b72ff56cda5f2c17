"""motcua counter server: queue engine, HTTP API, web console, reports.

Kept import-light: the kiosk and display import ``counter_server.client`` and
``counter_server.i18n`` without pulling in Flask or SQLAlchemy.
"""
__version__ = "0.1.0"


def create_app(config: dict | None = None):  # pragma: no cover - thin re-export
    from .app import create_app as _create_app

    return _create_app(config)
