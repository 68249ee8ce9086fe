"""The PWA's files as the server sends them: smaller on the wire, the same program.

The sources in pwa/ stay as written (commented, no build step). At request time:

- **Minified content** (`PwaFiles`, the static router's file system): `.js` and `.css` files
  read as their minified form (minify.py: rjsmin / rcssmin, each result checked against the
  source's syntax tree, the source itself when a check fails), made once per file version
  (path, mtime, size) and kept in memory. ONEVISIT_PWA_MINIFY=0 serves every file exactly as
  on disk (debugging).
- **gzip** (`ShellEncoding`, the static router's middleware): a text response goes out gzip
  (zopfli's deflate, ≈ 2 % smaller than zlib's level 9 and still plain gzip to the browser;
  compressed once per file version, off the event loop, and kept) when the request's Accept-Encoding
  allows it, with `Vary: Accept-Encoding` and an ETag of its own (`"…-gzip"`: a strong
  validator names one representation, RFC 9110 §8.8.3). `If-None-Match` (or, without it,
  `If-Modified-Since`) is answered 304. HEAD answers stay litestar's (identity).

Caching: the router sends `Cache-Control: no-cache`. The service worker installs its shell
with `cache: 'reload'` (pwa/sw.js), which bypasses the HTTP cache anyway; `no-cache` makes
every other load (the first visit, before the worker controls the page) revalidate with the
ETag — a 304 without a body — so the HTTP cache never serves a shell file of another
version than the server's.
"""

from __future__ import annotations

import io
import logging
from collections import OrderedDict
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import anyio
import zopfli.gzip
from litestar.enums import ScopeType
from litestar.file_system import BaseLocalFileSystem
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from onevisit.minify import MINIFIABLE, minify

__all__ = ["PwaFiles", "ShellEncoding", "accepts_gzip"]

log = logging.getLogger("onevisit.pwa")


@dataclass(frozen=True, slots=True)
class _Version:
    key: tuple[float, int]  # (mtime, size) of the source on disk
    body: bytes  # what is served: minified, or the source as written


class _MemoryFile:
    """The async file object litestar's file response reads from."""

    def __init__(self, data: bytes) -> None:
        self._buffer = io.BytesIO(data)

    async def read(self, size: int = -1) -> bytes:
        return self._buffer.read(size)

    async def __aenter__(self) -> _MemoryFile:
        return self

    async def __aexit__(self, *_: object) -> None:
        self._buffer.close()


class PwaFiles(BaseLocalFileSystem):
    """The local file system, except that .js and .css files read as their minified form.

    Given to `create_static_files_router`, so everything else about serving pwa/ stays
    litestar's: path resolution and its traversal check, index.html, HEAD, 404, content type,
    and an ETag/Last-Modified made from the size served and the source's mtime."""

    def __init__(self, *, minify: bool = True) -> None:
        self.minify = minify
        self._versions: dict[str, _Version] = {}

    async def info(self, path: Any, **kwargs: Any) -> Any:
        info = await super().info(path, **kwargs)
        suffix = Path(str(path)).suffix
        if not self.minify or info["type"] != "file" or suffix not in MINIFIABLE:
            return info
        version = await self._version(str(path), suffix, (info["mtime"], info["size"]))
        return {**info, "size": len(version.body)}

    async def open(self, file: Any, mode: str, buffering: int = -1) -> Any:
        version = self._versions.get(str(file)) if self.minify else None
        if version is None:
            return await super().open(file, mode, buffering)
        # the version info() just described (even if the file changed since): the body
        # always matches the Content-Length sent
        return _MemoryFile(version.body)

    async def _version(self, path: str, suffix: str, key: tuple[float, int]) -> _Version:
        known = self._versions.get(path)
        if known is not None and known.key == key:
            return known
        version = await anyio.to_thread.run_sync(self._build, path, suffix, key)
        self._versions[path] = version
        return version

    @staticmethod
    def _build(path: str, suffix: str, key: tuple[float, int]) -> _Version:
        source = Path(path).read_bytes()
        out = minify(suffix, source)
        if out is None:
            log.info("pwa: %s served as written (no minified form checked out)", path)
        return _Version(key=key, body=source if out is None else out)


# Worth compressing; PNG icons are not.
_COMPRESSIBLE = (
    b"text/",
    b"application/javascript",
    b"application/json",
    b"application/manifest+json",
    b"image/svg+xml",
)
_MAX_BUFFERED = 1 << 20  # bigger responses pass through untouched (pwa/ has none)


def _zopfli(body: bytes) -> bytes:
    return zopfli.gzip.compress(body, numiterations=5)


def accepts_gzip(accept_encoding: str) -> bool:
    """RFC 9110 §12.5.3: gzip (or x-gzip, or *) listed with a non-zero weight."""
    weights: dict[str, float] = {}
    for part in accept_encoding.lower().split(","):
        name, _, params = part.strip().partition(";")
        weight = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if name.strip():
            weights[name.strip()] = weight
    for name in ("gzip", "x-gzip", "*"):
        if name in weights:
            return weights[name] > 0
    return False


def _etag_matches(if_none_match: str, identity_etag: str) -> bool:
    """Weak comparison (RFC 9110 §13.1.2) against the identity ETag or its gzip form."""
    if if_none_match.strip() == "*":
        return True
    ours = identity_etag.removeprefix("W/")
    for tag in if_none_match.split(","):
        tag = tag.strip().removeprefix("W/")
        if tag == ours or tag == _gzip_etag(ours):
            return True
    return False


def _gzip_etag(etag: str) -> str:
    return etag[:-1] + '-gzip"' if etag.endswith('"') else etag + "-gzip"


def _not_modified_since(if_modified_since: str, last_modified: str) -> bool:
    try:
        return parsedate_to_datetime(last_modified) <= parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False


# Headers a 304 keeps (RFC 9110 §15.4.5); the security headers are added app-wide after.
_KEEP_ON_304 = {b"etag", b"cache-control", b"vary", b"last-modified", b"content-location"}


class ShellEncoding(ASGIMiddleware):
    """gzip, ETag per encoding and conditional requests for the PWA's text files."""

    scopes = (ScopeType.HTTP,)

    def __init__(self, cache_entries: int = 512) -> None:
        # identity ETag → gzip body, or None when gzip would not be smaller. The ETag names
        # one version of one file (litestar makes it from path, mtime and size), so an entry
        # never goes stale; old versions fall out of the LRU.
        self._gzip: OrderedDict[str, bytes | None] = OrderedDict()
        self._limit = cache_entries

    async def _compressed(self, etag: str, body: bytes) -> bytes | None:
        if etag in self._gzip:
            self._gzip.move_to_end(etag)
            return self._gzip[etag]
        # zopfli costs ~30 ms per 10 KB (once per file version): a worker thread keeps the
        # server answering meanwhile. Five iterations gain nearly all that fifteen would.
        packed = await anyio.to_thread.run_sync(_zopfli, body)
        kept = packed if len(packed) < len(body) else None
        self._gzip[etag] = kept
        if len(self._gzip) > self._limit:
            self._gzip.popitem(last=False)
        return kept

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            await next_app(scope, receive, send)
            return
        request: dict[str, str] = {}
        for key, value in scope["headers"]:  # a field sent twice is one list (RFC 9110 §5.3)
            name = key.decode("latin-1").lower()
            text = value.decode("latin-1")
            request[name] = f"{request[name]}, {text}" if name in request else text
        wants_gzip = accepts_gzip(request.get("accept-encoding", ""))
        is_head = scope["method"] == "HEAD"
        start: dict[str, Any] | None = None
        chunks: list[bytes] = []
        passing = False

        async def wrapped(message: Message) -> None:
            nonlocal start, passing
            if passing:
                await send(message)
                return
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", []))
                kind = headers.get(b"content-type", b"")
                size = int(headers.get(b"content-length", b"0") or 0)
                if (
                    message["status"] != 200
                    or b"etag" not in headers
                    or b"content-encoding" in headers
                    or not kind.startswith(_COMPRESSIBLE)
                    or size > _MAX_BUFFERED
                ):
                    passing = True
                    await send(message)
                    return
                start = dict(message)
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            await self._respond(send, start, b"".join(chunks), request, wants_gzip, is_head)

        await next_app(scope, receive, wrapped)

    async def _respond(
        self,
        send: Send,
        start: dict[str, Any],
        body: bytes,
        request: dict[str, str],
        wants_gzip: bool,
        is_head: bool,
    ) -> None:
        headers: list[tuple[bytes, bytes]] = [
            (k, v) for k, v in start.get("headers", []) if k.lower() != b"vary"
        ]
        named = dict(headers)
        etag = named[b"etag"].decode("latin-1")
        packed = await self._compressed(etag, body) if wants_gzip and not is_head else None
        if packed is not None:
            replace = {
                b"etag": _gzip_etag(etag).encode("latin-1"),
                b"content-length": str(len(packed)).encode(),
            }
            headers = [(k, replace.get(k, v)) for k, v in headers]
            headers.append((b"content-encoding", b"gzip"))
            body = packed
        headers.append((b"vary", b"Accept-Encoding"))

        if_none_match = request.get("if-none-match")
        if if_none_match is not None:
            not_modified = _etag_matches(if_none_match, etag)
        else:
            since, modified = request.get("if-modified-since"), named.get(b"last-modified")
            not_modified = bool(since and modified) and _not_modified_since(
                since or "", (modified or b"").decode("latin-1")
            )
        if not_modified:
            kept = [(k, v) for k, v in headers if k.lower() in _KEEP_ON_304]
            await send({"type": "http.response.start", "status": 304, "headers": kept})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})
