"""Saved web pages with selectolax (the Lexbor parser): the main content without the
site's navigation, headings as sections, ``<title>`` as the document's title.

The main content is the page's ``<main>`` (or ``role="main"``, or the one ``<article>``)
when it has one, else its body; either way the parts every page of a site repeats
(navigation, header, footer, side bars, breadcrumbs, forms, scripts) are dropped by
element and by the class and id names sites give them.
"""

from __future__ import annotations

import re

from stiqa.ingest.base import Extracted, Reader, ReadError
from stiqa.ingest.blocks import CELL_SEPARATOR, Block, assemble, clean
from stiqa.ingest.text import decode

DROP = (
    "script, style, noscript, template, svg, iframe, object, canvas, form, button, select, "
    "nav, header, footer, aside, [hidden], [aria-hidden=true], [role=navigation], [role=banner], "
    "[role=contentinfo], [role=search]"
)
# Class or id words of site furniture: breadcrumbs, menus, side bars, share buttons, "to top".
FURNITURE = re.compile(
    r"(?:^|[-_\s])(?:breadcrumbs?|topicpath|pankuzu|g?nav(?:i|igation)?|menu|sidebar|side|"
    r"footer|header|share|sns|social|pagetop|page-top|skip|banner|utility|related)(?:$|[-_\s])",
    re.IGNORECASE,
)
HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
BLOCKS = {
    "p", "div", "section", "article", "main", "ul", "ol", "li", "dl", "dt", "dd", "table", "thead",
    "tbody", "tfoot", "tr", "blockquote", "pre", "figure", "figcaption", "caption", "address", "hr", "br",
    *HEADINGS,
}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w-]+)""", re.IGNORECASE)


class HtmlReader(Reader):
    format = "html"

    def sniff(self, head: bytes, suffix: str) -> bool:
        start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
        return start.startswith((b"<!doctype html", b"<html")) or (
            suffix in (".html", ".htm") and start.startswith(b"<")
        )

    def read(self, data: bytes) -> Extracted:
        from selectolax.lexbor import LexborHTMLParser

        tree = LexborHTMLParser(_decode(data))
        title_node = tree.css_first("title")
        title = clean(title_node.text()) if title_node else ""
        root = _main(tree)
        if root is None:
            raise ReadError("an HTML page without a body")
        for node in root.css(DROP):
            node.decompose()
        for node in root.css("[class], [id]"):
            names = f"{node.attributes.get('class') or ''} {node.attributes.get('id') or ''}"
            if FURNITURE.search(names) and node.tag not in ("main", "article", "body"):
                node.decompose()
        blocks: list[Block] = []
        _walk(root, blocks)
        return assemble(blocks, self.format, title)


def _decode(data: bytes) -> str:
    """The page's text: by its BOM or UTF-8, else the charset its <meta> declares, else
    the Japanese encodings of :func:`stiqa.ingest.text.decode`."""
    declared = _META_CHARSET.search(data[:4096])
    if declared and not data.startswith(b"\xef\xbb\xbf"):
        try:
            return data.decode(declared.group(1).decode("ascii"))
        except (LookupError, UnicodeDecodeError):
            pass
    return decode(data)[0]


def _main(tree):
    for selector in ("main", "[role=main]"):
        found = tree.css_first(selector)
        if found is not None:
            return found
    articles = tree.css("article")
    return articles[0] if len(articles) == 1 else tree.body


def _walk(node, blocks: list[Block]) -> None:
    """Blocks of ``node`` in reading order: each heading, table row and run of inline text."""
    tag = node.tag
    if tag in HEADINGS:
        blocks.append(Block(clean(node.text(deep=True, separator=" ")), HEADINGS[tag]))
        return
    if tag == "tr":
        cells = [clean(c.text(deep=True, separator=" ")) for c in node.iter() if c.tag in ("td", "th")]
        blocks.append(Block(CELL_SEPARATOR.join(c for c in cells if c)))
        return
    if tag == "pre":
        blocks.extend(Block(line.strip()) for line in node.text(deep=True).splitlines())
        return
    run: list[str] = []
    for child in node.iter(include_text=True):
        if child.tag == "-text" or child.tag not in BLOCKS:
            run.append(child.text(deep=True, separator=" " if child.tag != "-text" else ""))
            continue
        _flush(run, blocks)
        _walk(child, blocks)
    _flush(run, blocks)


def _flush(run: list[str], blocks: list[Block]) -> None:
    text = clean("".join(run))
    if text:
        blocks.append(Block(text))
    run.clear()
