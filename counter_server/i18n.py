"""Gettext catalogs for everything people see.

Message ids are English; each package keeps Vietnamese catalogs as plain
``.po`` files under ``<package>/locale/<lang>/LC_MESSAGES/<domain>.po``.  The
``.po`` file is compiled in memory with Babel when first used, so there is no
compiled ``.mo`` to forget to rebuild.  Vietnamese is the default language;
``MOTCUA_LANG=en`` shows the English message ids.

This module must stay light: the kiosk and display import it.
"""
from __future__ import annotations

import gettext as _gettext
import io
import os
import threading
from pathlib import Path
from typing import Callable

DEFAULT_LANG = "vi"
_lock = threading.Lock()
_cache: dict[tuple[str, str, str], _gettext.NullTranslations] = {}


def current_lang() -> str:
    return os.environ.get("MOTCUA_LANG", DEFAULT_LANG) or DEFAULT_LANG


def load(locale_dir: Path | str, domain: str, lang: str | None = None) -> _gettext.NullTranslations:
    """Return the translations of ``domain`` from ``locale_dir`` (cached)."""
    lang = lang or current_lang()
    key = (str(locale_dir), domain, lang)
    with _lock:
        if key in _cache:
            return _cache[key]
        po = Path(locale_dir) / lang / "LC_MESSAGES" / f"{domain}.po"
        trans: _gettext.NullTranslations
        if po.is_file():
            from babel.messages.mofile import write_mo
            from babel.messages.pofile import read_po

            with po.open("rb") as fh:
                catalog = read_po(fh, locale=lang, domain=domain)
            buf = io.BytesIO()
            write_mo(buf, catalog)
            buf.seek(0)
            trans = _gettext.GNUTranslations(buf)
        else:
            trans = _gettext.NullTranslations()
        _cache[key] = trans
        return trans


def translator(locale_dir: Path | str, domain: str) -> Callable[[str], str]:
    """A ``_()`` function for one package's domain, honouring MOTCUA_LANG at call time."""

    def _(message: str) -> str:
        return load(locale_dir, domain).gettext(message)

    return _


def clear_cache() -> None:
    with _lock:
        _cache.clear()


LOCALE_DIR = Path(__file__).resolve().parent / "locale"
_ = translator(LOCALE_DIR, "server")
