"""The ``motcua`` command line (DESIGN.md "Command line"), one module per concern:

* ``base``     the group, the instance and its database, one-line failures
* ``accounts`` ``init`` (first run), ``user ...``, ``office ...``
* ``devices``  ``device add | list | revoke``
* ``data``     ``backup``, ``restore``, ``check``
* ``serve``    ``serve``
* ``service``  ``service install`` (start on boot), ``service supervise``
* ``clients``  ``kiosk``, ``display``, ``demo``
"""
from __future__ import annotations

from . import accounts, clients, data, devices, serve, service  # noqa: F401  (commands)
from .base import main

__all__ = ["main"]
