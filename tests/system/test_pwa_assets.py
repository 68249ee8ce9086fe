"""The PWA's files as served: minified yet the same program, gzip when asked, ETag/304, and
ONEVISIT_PWA_MINIFY=0 for the exact sources (backend/onevisit/pwa_assets.py, minify.py)."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from litestar.static_files import create_static_files_router

from onevisit.app import PWA_DIR, create_app
from onevisit.config import get_settings
from onevisit.minify import minify, same_syntax
from onevisit.pwa_assets import PwaFiles, ShellEncoding, accepts_gzip

CHROMIUM = Path("/usr/bin/chromium")
SOURCES = sorted(p for p in PWA_DIR.rglob("*") if p.suffix in (".js", ".css"))
TYPES = {".js": "text/javascript", ".css": "text/css"}


def _url(path: Path) -> str:
    return "/" + path.relative_to(PWA_DIR).as_posix()


async def _get(client: httpx.AsyncClient, url: str, **headers: str) -> httpx.Response:
    """The response with its body exactly as sent (httpx would decode gzip)."""
    request = client.build_request("GET", url, headers=headers)
    response = await client.send(request, stream=True)
    response._content = b"".join([chunk async for chunk in response.aiter_raw()])
    await response.aclose()
    return response


@pytest.fixture
async def unminified_client(monkeypatch) -> httpx.AsyncClient:
    get_settings.cache_clear()
    monkeypatch.setenv("ONEVISIT_PWA_MINIFY", "0")
    try:
        app = create_app()
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8000") as c:
        yield c


async def test_served_js_and_css_are_minified_and_parse_to_the_same_tree(client):
    assert any(p.name == "team.js" for p in SOURCES)  # has a nested template literal
    for path in SOURCES:
        r = await _get(client, _url(path), **{"accept-encoding": "identity"})
        assert r.status_code == 200, path
        assert r.headers["content-type"].startswith(TYPES[path.suffix]), path
        assert "content-encoding" not in r.headers
        source = path.read_bytes()
        assert len(r.content) < len(source), f"{path} is not served minified"
        assert same_syntax(path.suffix, source, r.content), path
        assert r.headers["content-security-policy"].startswith("default-src 'self'")


async def test_gzip_when_accepted_identity_otherwise(client):
    plain = await _get(client, "/chain.js", **{"accept-encoding": "identity"})
    packed = await _get(client, "/chain.js", **{"accept-encoding": "gzip, deflate, br"})
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.headers["vary"] == "Accept-Encoding" == plain.headers["vary"]
    assert int(packed.headers["content-length"]) == len(packed.content) < len(plain.content) / 2
    assert gzip.decompress(packed.content) == plain.content
    assert packed.headers["content-type"] == plain.headers["content-type"]
    # a strong ETag names one representation
    assert packed.headers["etag"] == plain.headers["etag"][:-1] + '-gzip"'
    for refused in ("gzip;q=0", "br", "identity", ""):
        r = await _get(client, "/chain.js", **{"accept-encoding": refused})
        assert "content-encoding" not in r.headers, refused
        assert r.content == plain.content
    html = await _get(client, "/", **{"accept-encoding": "gzip"})
    assert html.headers["content-encoding"] == "gzip"
    assert gzip.decompress(html.content) == (PWA_DIR / "index.html").read_bytes()
    png = await _get(client, "/icons/icon-192.png", **{"accept-encoding": "gzip"})
    assert "content-encoding" not in png.headers
    assert png.content == (PWA_DIR / "icons" / "icon-192.png").read_bytes()


def test_accept_encoding_weights():
    assert accepts_gzip("gzip") and accepts_gzip("br, GZIP;q=0.5") and accepts_gzip("*")
    assert accepts_gzip("x-gzip")
    assert not accepts_gzip("gzip;q=0") and not accepts_gzip("*;q=0") and not accepts_gzip("")
    assert not accepts_gzip("br, *;q=0") and not accepts_gzip("gzip;q=0.000")


async def test_revalidation_answers_304_for_either_etag(client):
    plain = await _get(client, "/outbox.js", **{"accept-encoding": "identity"})
    packed = await _get(client, "/outbox.js", **{"accept-encoding": "gzip"})
    assert plain.headers["cache-control"] == "no-cache"  # always revalidated (pwa_assets.py)
    for etag in (plain.headers["etag"], packed.headers["etag"], "W/" + plain.headers["etag"]):
        for encoding in ("gzip", "identity"):
            r = await _get(
                client, "/outbox.js", **{"if-none-match": etag, "accept-encoding": encoding}
            )
            assert (r.status_code, r.content) == (304, b""), (etag, encoding)
            sent = packed if encoding == "gzip" else plain
            assert r.headers["etag"] == sent.headers["etag"]
            assert r.headers["vary"] == "Accept-Encoding"
            assert r.headers["cache-control"] == "no-cache"
    r = await _get(client, "/outbox.js", **{"if-none-match": '"other", "x-gzip"'})
    assert r.status_code == 200
    since = {"if-modified-since": plain.headers["last-modified"]}
    assert (await _get(client, "/outbox.js", **since)).status_code == 304
    old = {"if-modified-since": "Mon, 01 Jan 2001 00:00:00 GMT"}
    assert (await _get(client, "/outbox.js", **old)).status_code == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2)
    both = {**since, "if-none-match": '"other"'}
    assert (await _get(client, "/outbox.js", **both)).status_code == 200


async def test_static_router_semantics_are_kept(client):
    r = await client.get("/no-such-file.js")
    assert (r.status_code, r.json()["code"]) == (404, "request.not_found")
    assert (await client.post("/app.js")).status_code == 405
    head = await client.head("/app.js")
    get = await _get(client, "/app.js", **{"accept-encoding": "identity"})
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]
    assert head.headers["etag"] == get.headers["etag"]
    assert (await client.get("/../pyproject.toml")).status_code == 404


async def test_minify_switch_off_serves_the_exact_sources(unminified_client):
    for path in [*SOURCES, PWA_DIR / "index.html"]:
        url = "/" if path.name == "index.html" else _url(path)
        r = await _get(unminified_client, url, **{"accept-encoding": "identity"})
        assert r.content == path.read_bytes(), path
        packed = await _get(unminified_client, url, **{"accept-encoding": "gzip"})
        assert gzip.decompress(packed.content) == path.read_bytes(), path


def test_minify_switch_takes_0_or_1(monkeypatch):
    get_settings.cache_clear()
    monkeypatch.setenv("ONEVISIT_PWA_MINIFY", "yes")
    try:
        with pytest.raises(SystemExit, match="ONEVISIT_PWA_MINIFY must be 0 or 1"):
            get_settings()
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert get_settings().pwa_minify is (os.environ.get("ONEVISIT_PWA_MINIFY", "1") == "1")


def test_minify_never_changes_the_program():
    # rjsmin strips the space inside a nested template literal: the check catches it and
    # the parser-driven pass is served instead
    nested = b"// a comment\nexport const f = (x) => `${x ? ` \xc2\xb7 ${x}` : ''}`;\n"
    out = minify(".js", nested)
    assert out is not None and b"// a comment" not in out and b"` \xc2\xb7 ${x}`" in out
    assert same_syntax(".js", nested, out)
    # automatic semicolon insertion: the line break after return stays
    asi = b"function g() {\n  return\n  1;\n}\nlet a = 1\nlet b = a\n++b\n"
    assert same_syntax(".js", asi, minify(".js", asi) or b"")
    assert not same_syntax(".js", asi, asi.replace(b"return\n", b"return "))
    # a source that does not parse is served as written
    assert minify(".js", b"export const = 1;\n") is None
    assert not same_syntax(".js", b"x = ' '", b"x = ''")
    # CSS: whitespace that is a descendant combinator, or a value separator, stays
    css = b"/* c */\n.a .b { margin: 0 auto; width: calc(1px + 2px); color: #111; }\n"
    out = minify(".css", css)
    assert out == b".a .b{margin:0 auto;width:calc(1px + 2px);color:#111}"
    assert not same_syntax(".css", css, out.replace(b".a .b", b".a.b"))
    assert not same_syntax(".css", css, out.replace(b"#111", b"#112"))
    assert not same_syntax(".css", css, out.replace(b"1px + 2px", b"1px+2px"))


async def test_a_changed_file_is_served_anew(tmp_path):
    """Minified forms are kept per (path, mtime, size): an edit shows on the next request."""
    script = tmp_path / "a.js"
    script.write_text("// first\nexport const a = 1;\n")
    router = create_static_files_router(
        path="/", directories=[tmp_path], file_system=PwaFiles(), middleware=[ShellEncoding()]
    )
    transport = httpx.ASGITransport(app=Litestar(route_handlers=[router]))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        first = await client.get("/a.js")
        assert first.text == "export const a=1;"
        script.write_text("// second\nexport const a = 22;\n")
        stat = script.stat()
        os.utime(script, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
        second = await client.get("/a.js", headers={"if-none-match": first.headers["etag"]})
        assert (second.status_code, second.text) == (200, "export const a=22;")
        assert second.headers["etag"] != first.headers["etag"]
        script.write_text("export const = ;\n")  # not JavaScript: sent as it is
        os.utime(script, ns=(stat.st_atime_ns, stat.st_mtime_ns + 4_000_000_000))
        assert (await client.get("/a.js")).text == "export const = ;\n"


async def test_chromium_loads_the_served_files_as_the_sources(client):
    """Chromium, given the served files (through a route to the in-process app), exports the
    same names from every module as the source declares, and builds the same CSSOM from the
    served CSS as from the source."""
    if not CHROMIUM.exists():
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} not found and REQUIRE_BROWSER=1", pytrace=False)
        pytest.skip(f"{CHROMIUM} not found")
    from playwright.async_api import async_playwright

    from tests.browser.conftest import CHROMIUM_ARGS

    async def serve(route):
        url = route.request.url.removeprefix("http://localhost:8000")
        if url == "/blank":
            await route.fulfill(status=200, body="<!doctype html>", content_type="text/html")
            return
        # route.fulfill takes the decoded body (the live server's gzip reaches Chromium in
        # tests/browser, which run on the served files)
        r = await client.get(url, headers={"accept-encoding": "gzip"})
        skip = ("content-encoding", "content-length")
        headers = {k: v for k, v in r.headers.items() if k not in skip}
        await route.fulfill(status=r.status_code, headers=headers, body=r.content)

    modules = [p for p in SOURCES if p.suffix == ".js" and p.name != "sw.js"]
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = await chromium.new_page()
            await page.route("http://localhost:8000/**", serve)
            await page.goto("http://localhost:8000/blank")
            exported = await page.evaluate(
                """async (urls) => {
                  const out = {};
                  for (const url of urls) out[url] = Object.keys(await import(url)).sort();
                  return out;
                }""",
                [_url(p) for p in modules],
            )
            sheets = await page.evaluate(
                """async (pairs) => {
                  const rules = (text) => { const s = new CSSStyleSheet(); s.replaceSync(text);
                    return [...s.cssRules].map((r) => r.cssText); };
                  const out = [];
                  for (const [url, source] of pairs) {
                    const served = await (await fetch(url)).text();
                    out.push([url, served.length < source.length,
                              JSON.stringify(rules(served)) === JSON.stringify(rules(source))]);
                  }
                  return out;
                }""",
                [[_url(p), p.read_text(encoding="utf-8")] for p in SOURCES if p.suffix == ".css"],
            )
        finally:
            await chromium.close()
    for path in modules:
        assert exported[_url(path)] == _exports(path.read_bytes()), path
    assert sheets and all(smaller and same for _, smaller, same in sheets), sheets


def _exports(source: bytes) -> list[str]:
    """The names a module's source exports, read from its syntax tree."""
    from tree_sitter import Parser

    from onevisit.minify import _JS

    names: set[str] = set()
    for node in Parser(_JS).parse(source).root_node.children:
        if node.type != "export_statement":
            continue
        decl = node.child_by_field_name("declaration")
        if any(child.type == "default" for child in node.children):
            names.add("default")
        elif decl is not None:
            if decl.type in ("lexical_declaration", "variable_declaration"):
                for d in decl.children:
                    if d.type == "variable_declarator":
                        names.add(d.child_by_field_name("name").text.decode())
            else:
                names.add(decl.child_by_field_name("name").text.decode())
        else:  # export { a, b as c } [from '…']
            for clause in node.children:
                if clause.type == "export_clause":
                    for spec in clause.children:
                        if spec.type == "export_specifier":
                            alias = spec.child_by_field_name("alias")
                            names.add((alias or spec.child_by_field_name("name")).text.decode())
    return sorted(names)


def test_exports_reader_sees_every_kind_of_export():
    source = b"""export const a = 1, b = 2; export let c; export function d() {}
    export async function e() {} export class F {} export default function i() {}
    const g = 1; export { g, g as h };"""
    assert _exports(source) == ["F", "a", "b", "c", "d", "default", "e", "g", "h"]
    assert _exports(b"export default 3;") == ["default"]
