"""docs/events.md is the PWA's contract: every JSON example in it must pass check_body."""

from __future__ import annotations

import json
import re
from pathlib import Path

from onevisit.field.bodies import BODY_TYPES, VISITLESS_TYPES, check_body, needs_visit

DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"


def test_every_example_is_valid_and_every_type_has_one() -> None:
    seen = set()
    for section in re.split(r"^### ", DOC.read_text(encoding="utf-8"), flags=re.M)[1:]:
        etype = re.match(r"`(\w+)`", section).group(1)  # type: ignore[union-attr]
        for example in re.findall(r"```json\n(.*?)```", section, flags=re.S):
            check_body(etype, json.loads(example))
            seen.add(etype)
    assert seen == set(BODY_TYPES)


def test_the_visit_table_matches_needs_visit() -> None:
    """The "which events need a visit" table names every type, as the code decides it."""
    text = DOC.read_text(encoding="utf-8")
    table = text.split("## Events and their visit", 1)[1].split("\n## ", 1)[0]
    rows = [r for r in table.splitlines() if r.startswith("| `")]
    optional, required = rows  # a plain note; everything else
    assert optional.startswith("| `note` without `matter` |") and VISITLESS_TYPES == ("note",)
    assert not needs_visit("note", {"text": "备忘"})
    named = re.findall(r"`(\w+)`", required.split("|")[1])
    assert set(named) == set(BODY_TYPES) | {"matter"} and "visit.required" in required
    assert needs_visit("note", {"text": "x", "matter": "M"})
    assert all(needs_visit(t, {}) for t in BODY_TYPES if t not in VISITLESS_TYPES)
