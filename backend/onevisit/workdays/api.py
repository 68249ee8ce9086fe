"""HTTP API of the working-day calendar: anyone signed in reads it, only an admin imports.
Thin controllers: parse, call one function of service.py, return a schema."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, FromQuery, MultipartBody

from onevisit.auth.guards import allow, caller_of, signed_in
from onevisit.auth.roles import Role
from onevisit.config import get_settings
from onevisit.errors import AppError
from onevisit.workdays import service
from onevisit.workdays.importing import MAX_YEAR, MIN_YEAR, parse_date

__all__ = ["ROUTES"]


class DayOut(msgspec.Struct):
    day: date = msgspec.field(name="date")
    kind: str = ""
    name: str = ""


class YearOut(msgspec.Struct):
    year: int
    loaded: bool  # False: Monday–Friday assumed, answers touching the year are provisional
    version: int | None
    versions: int
    source: str | None
    loaded_at: datetime | None
    days: list[DayOut]


class DueOut(msgspec.Struct):
    visit: date
    due: date
    provisional: bool


class ImportOut(msgspec.Struct):
    source: str
    years: list[dict[str, Any]]
    warnings: list[dict[str, Any]]


@dataclass
class CalendarFile:
    file: UploadFile


class CalendarController(Controller):
    path = "/api/calendar"
    tags = ("calendar",)

    @get("/due", guards=[signed_in])
    async def due(self, date: FromQuery[str]) -> DueOut:
        """The 20th working day after a visit on `date` (the visit day never counts)."""
        visit = parse_date(date)
        due, provisional = (await service.get_calendar()).due_date(visit)
        return DueOut(visit=visit, due=due, provisional=provisional)

    @get("/{year:int}", guards=[signed_in])
    async def year(self, year: FromPath[int]) -> YearOut:
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise AppError("calendar.year_invalid", str(year))
        view = await service.show_year(year=year)
        return YearOut(
            year=view.year, loaded=view.loaded, version=view.version, versions=view.versions,
            source=view.source, loaded_at=view.loaded_at,
            days=[DayOut(d.day, d.kind.value, d.name) for d in view.days],
        )  # fmt: skip

    @post("/import", guards=[allow(Role.admin)], status_code=200)
    async def import_file(self, request: Request, data: MultipartBody[CalendarFile]) -> ImportOut:
        """CSV (date,kind,name) or JSON; all or nothing; every bad row reported (422)."""
        caller = caller_of(request)
        assert caller is not None  # the guard requires one
        limit = get_settings().max_import_bytes
        content = await data.file.read(limit + 1)
        if len(content) > limit:
            raise AppError("request.too_large", max_bytes=limit)
        report = await service.import_calendar(
            data=content, filename=data.file.filename or "", actor=caller.user_id
        )
        return ImportOut(report.source, report.years, report.warnings)


ROUTES = [CalendarController]
