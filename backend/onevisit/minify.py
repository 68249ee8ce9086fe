"""Minifying the PWA's JavaScript and CSS without changing what they do. Pure: no I/O.

rjsmin and rcssmin remove comments and whitespace by rules, not with a parser, and say so:
rjsmin handles only *unnested* template literals (`ui/team.js` has a nested one, and
rjsmin then strips the space in `` ` · ` `` inside it). So no result is taken on trust: the
minified text must parse, with tree-sitter's JavaScript or CSS grammar, to the same syntax
tree as the source — the same nodes, the same tokens with the same text — and every
character outside the tokens, in both texts, must be whitespace or a comment. If rjsmin's
output fails that, JavaScript gets a plainer pass driven by the parse itself (comments and
indentation go, every line break stays, so automatic semicolon insertion cannot change),
checked the same way. If that fails too, or the source does not parse cleanly, `minify`
returns None and the source is served as written. A minification can thus cost bytes; what
it serves is the source's program as a real grammar reads it (the browser suite then runs on
the served files).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import rcssmin
import rjsmin
import tree_sitter_css
import tree_sitter_javascript
from tree_sitter import Language, Node, Parser

__all__ = ["MINIFIABLE", "minify", "same_syntax"]

_JS = Language(tree_sitter_javascript.language())
_CSS = Language(tree_sitter_css.language())
_GRAMMARS = {".js": _JS, ".css": _CSS}
MINIFIABLE = frozenset(_GRAMMARS)

_OPEN, _CLOSE, _TOKEN = "open", "close", "token"
_SEPARATORS = frozenset(b"{}()[];,")  # never part of a longer token: no space needed beside
_LINE_BREAKS = ("\n", "\r", "\u2028", "\u2029")  # ECMA-262 §12.3 line terminators


def _pieces(root: Node, source: bytes) -> Iterator[tuple[str, Node | None]]:
    """The tree in source order: ("open", node) for an inner node, ("close", None) when it
    ends, ("token", node) for each token and comment. A token is a leaf, or a node with text
    of its own outside its children (tree-sitter-css gives `#111` as a color_value holding
    only the `#`)."""
    stack: list[Node | None] = [root]
    while stack:
        node = stack.pop()
        if node is None:
            yield _CLOSE, None
        elif _is_token(node, source):
            yield _TOKEN, node
        else:
            yield _OPEN, node
            stack.append(None)
            stack.extend(reversed(node.children))


def _is_token(node: Node, source: bytes) -> bool:
    if node.child_count == 0 or node.type == "comment":
        return True
    at = node.start_byte
    for child in node.children:
        if not _blank(source[at : child.start_byte]):
            return True
        at = max(at, child.end_byte)
    return not _blank(source[at : node.end_byte])


def _blank(gap: bytes) -> bool:
    return not gap or gap.decode("utf-8", "replace").isspace()


def _shape(source: bytes, grammar: Language) -> list[object] | None:
    """Inner nodes by type, tokens by type and text, comments left out; None if the text has
    a syntax error or any character outside the tokens that is not whitespace or a comment.

    One token is left out as well: the `;` ending a CSS declaration (rcssmin drops the last
    one of a block, which CSS allows). A `;` missing between two declarations still shows,
    as a differently shaped tree."""
    root = Parser(grammar).parse(source).root_node  # a Parser per call: not thread-safe
    if root.has_error:
        return None
    shape: list[object] = []
    end = 0
    for kind, piece in _pieces(root, source):
        if piece is None:
            shape.append(_CLOSE)
        elif kind == _OPEN:
            shape.append(piece.type)
        else:
            if not _blank(source[end : piece.start_byte]):
                return None
            end = max(end, piece.end_byte)
            if piece.type == "comment" or (piece.type == ";" and _in_declaration(piece)):
                continue
            shape.append((piece.type, piece.text))
    return shape if _blank(source[end:]) else None


def _in_declaration(node: Node) -> bool:
    parent = node.parent
    return parent is not None and parent.type == "declaration"


def same_syntax(suffix: str, source: bytes, minified: bytes) -> bool:
    """True if both texts parse cleanly to the same tree, comments and whitespace aside."""
    grammar = _GRAMMARS[suffix]
    a = _shape(source, grammar)
    return a is not None and a == _shape(minified, grammar)


def _plain_js(source: bytes) -> bytes | None:
    """Comments and runs of spaces out, one line break kept wherever there was any: a pass
    over the parser's own tokens, for files rjsmin gets wrong."""
    root = Parser(_JS).parse(source).root_node
    if root.has_error:
        return None
    out = bytearray()
    end = 0
    apart = 0  # what separated the last token from the next: 0 nothing, 1 space, 2 a break
    for kind, piece in _pieces(root, source):
        if kind != _TOKEN or piece is None:
            continue
        if piece.start_byte == piece.end_byte:
            continue  # zero-width
        gap = source[end : piece.start_byte].decode("utf-8", "replace")
        text = source[piece.start_byte : piece.end_byte]
        apart = max(apart, _separation(gap))
        end = piece.end_byte
        if piece.type == "comment":  # whitespace; one spanning lines counts as a line break
            apart = max(apart, 1, _separation(text.decode("utf-8", "replace")))
            continue
        if out and apart == 2:
            out += b"\n"
        elif out and apart == 1 and out[-1] not in _SEPARATORS and text[0] not in _SEPARATORS:
            out += b" "
        out += text
        apart = 0
    return bytes(out)


def _separation(whitespace: str) -> int:
    if any(b in whitespace for b in _LINE_BREAKS):
        return 2
    return 1 if whitespace else 0


_RULE_BASED: dict[str, Callable[[str], str]] = {".js": rjsmin.jsmin, ".css": rcssmin.cssmin}


def minify(suffix: str, source: bytes) -> bytes | None:
    """The checked minified form of a .js or .css file, or None (then serve the source)."""
    if suffix not in MINIFIABLE:
        return None
    try:
        text = source.decode("utf-8")
    except UnicodeDecodeError:
        return None
    out: bytes | None = _RULE_BASED[suffix](text).encode("utf-8")
    if _smaller_and_same(suffix, source, out):
        return out
    if suffix == ".js":
        out = _plain_js(source)
        if _smaller_and_same(suffix, source, out):
            return out
    return None


def _smaller_and_same(suffix: str, source: bytes, out: bytes | None) -> bool:
    return out is not None and len(out) < len(source) and same_syntax(suffix, source, out)
