"""Helpers of the directory tests: unique valid ids and files built in memory."""

from __future__ import annotations

import csv
import io
import itertools
import secrets

from onevisit.directory.tabular import write_table
from onevisit.directory.uscc import make_uscc

_serial = itertools.count(1)
_RUN = secrets.choice("ABCDEFGHJKLMNPQRTUWXY") + secrets.choice("0123456789")


def new_uscc(region: str = "410302") -> str:
    """A valid USCC no other test uses (tests share one database per run)."""
    return make_uscc("9", "1", region, f"{_RUN}{next(_serial):07d}")


SUBJECT_HEADER = ["subject_id", "name", "kind", "address", "lat", "lon", "credit_class", "tags"]


def subject_row(sid: str | None = None, **over: str) -> dict[str, str]:
    row = {
        "subject_id": sid or new_uscc(),
        "name": "洛阳测试商贸有限公司",
        "kind": "enterprise",
        "address": "河南省洛阳市西工区中州中路 1 号",
        "lat": "34.669900",
        "lon": "112.442100",
        "credit_class": "B",
        "tags": "餐饮;重点",
    }
    row.update(over)
    return row


def csv_bytes(
    header: list[str], rows: list[dict[str, str]] | list[list[str]], *, bom=True, encoding="utf-8"
) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(h, "") for h in header] if isinstance(row, dict) else row)
    text = out.getvalue()
    return (("\ufeff" if bom and encoding == "utf-8" else "") + text).encode(encoding)


def xlsx_bytes(header: list[str], rows: list[dict[str, str]]) -> bytes:
    return write_table(header, [[r.get(h, "") for h in header] for r in rows], "xlsx")
