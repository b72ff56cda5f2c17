"""The README's office commands are lines of the walkthrough that
tests/counter_server/test_operations_walkthrough.py runs, so the README
cannot promise a command that does not work."""
from __future__ import annotations

from tests.conftest import ROOT
from tests.counter_server.test_operations_walkthrough import walkthrough


def _office_section_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Running an office")[1].split("\n## ")[0]
    block = section.split("```")[1]
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


def test_readme_office_commands_are_tested_walkthrough_lines():
    lines = _office_section_commands()
    assert len(lines) >= 4 and all(line.startswith(".venv/bin/motcua ") for line in lines)
    tested = set(walkthrough())
    assert [line for line in lines if line not in tested] == []
