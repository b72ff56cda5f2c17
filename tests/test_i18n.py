"""Vietnamese first: every message id the code passes to gettext (or to a
DomainError/AuthError) has a Vietnamese translation in the package's catalogs."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
# call name -> position of the message id among the positional arguments
MESSAGE_ARG = {"_": 0, "gettext": 0, "DomainError": 1, "AuthError": 2, "error_response": 2}


def message_ids(source: str):
    """Literal message ids passed to gettext-like calls (ast: handles
    implicit string concatenation and keyword layout)."""
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else \
            node.func.attr if isinstance(node.func, ast.Attribute) else None
        pos = MESSAGE_ARG.get(name)
        if pos is None or len(node.args) <= pos:
            continue
        arg = node.args[pos]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value.strip():
            yield arg.value
VIETNAMESE = re.compile(r"[àáạảãâầấậẩẫăằắặẳẵèéẹẻẽêềếệểễìíịỉĩòóọỏõôồốộổỗơờớợởỡùúụủũưừứựửữỳýỵỷỹđ]",
                        re.IGNORECASE)


def catalogs(*packages: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for pkg in packages:
        for po in (ROOT / pkg / "locale" / "vi" / "LC_MESSAGES").glob("*.po"):
            with po.open("rb") as fh:
                for msg in read_po(fh):
                    if msg.id and msg.string:
                        out[msg.id if isinstance(msg.id, str) else msg.id[0]] = \
                            msg.string if isinstance(msg.string, str) else msg.string[0]
    return out


@pytest.mark.parametrize("package,domains", [
    ("counter_server", ("counter_server",)),
    ("kiosk", ("kiosk", "counter_server")),
    ("display", ("display", "counter_server")),
])
def test_every_message_is_translated(package: str, domains: tuple[str, ...]):
    known = catalogs(*domains)
    missing = set()
    for path in (ROOT / package).rglob("*.py"):
        for msgid in message_ids(path.read_text(encoding="utf-8")):
            if msgid not in known:
                missing.add(f"{path.relative_to(ROOT)}: {msgid}")
    assert not missing, "untranslated:\n" + "\n".join(sorted(missing))


def test_catalogs_are_vietnamese():
    for pkg in ("counter_server", "kiosk", "display"):
        for msgid, text in catalogs(pkg).items():
            if VIETNAMESE.search(msgid):
                continue
            assert text != msgid or not re.search(r"[a-z]{4}", msgid), msgid
    sample = catalogs("counter_server")
    assert sum(1 for t in sample.values() if VIETNAMESE.search(t)) > 0.8 * len(sample)
