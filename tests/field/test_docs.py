"""docs/events.md is the PWA's contract: every JSON example in it must pass check_body."""

from __future__ import annotations

import json
import re
from pathlib import Path

from onevisit.field.bodies import BODY_TYPES, check_body

DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"


def test_every_example_is_valid_and_every_type_has_one() -> None:
    seen = set()
    for section in re.split(r"^### ", DOC.read_text(encoding="utf-8"), flags=re.M)[1:]:
        etype = re.match(r"`(\w+)`", section).group(1)  # type: ignore[union-attr]
        for example in re.findall(r"```json\n(.*?)```", section, flags=re.S):
            check_body(etype, json.loads(example))
            seen.add(etype)
    assert seen == set(BODY_TYPES)
