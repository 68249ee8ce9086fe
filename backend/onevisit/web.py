"""Small pieces the areas' HTTP faces share: bounded text fields for msgspec bodies, the
public routes' marker and headers, and content negotiation between a page and its JSON."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request

__all__ = ["HTML", "JSON", "NO_NUL", "PUBLIC", "PUBLIC_HEADERS", "Text", "wants_json"]

HTML, JSON = "text/html", "application/json"
PUBLIC = {"public": True}  # route opt: no session is read (test_route_guards lists them)
PUBLIC_HEADERS = {"Cache-Control": "no-cache", "Vary": "Accept"}
NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL; no field of ours needs it


def Text(limit: int, min_length: int = 0) -> Any:
    """A str of min_length..limit characters without NUL."""
    return Annotated[str, msgspec.Meta(min_length=min_length, max_length=limit, pattern=NO_NUL)]


def wants_json(request: Request) -> bool:
    """A public page answers its JSON to `Accept: application/json`, else HTML."""
    return request.accept.best_match([HTML, JSON], default=HTML) == JSON
