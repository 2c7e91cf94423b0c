"""New source documents: plain text, Markdown or HTML, converted once to normalised plain text.

Quote offsets refer to the stored text, so the conversion happens once, when a document is added,
and its result is what is kept. Normalised means: UTF-8, Unicode NFC, ``\\n`` line ends, no trailing
spaces on a line, at most one blank line in a row, one final newline. Markdown is rendered
(CommonMark, markdown-it-py) and then read like HTML; HTML keeps its words and paragraph breaks,
drops scripts, styles and markup.
"""

from __future__ import annotations

import re
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

from kxgraph.errors import InputError
from kxgraph.loaders.sources import read_document

__all__ = ["FORMATS", "convert", "media_type_of", "normalise", "read_new_document"]

FORMATS = {".txt": "text/plain", ".text": "text/plain", ".md": "text/markdown", ".markdown": "text/markdown",
           ".html": "text/html", ".htm": "text/html"}

_BLOCK = {"p", "div", "section", "article", "header", "footer", "main", "aside", "nav", "blockquote", "pre",
          "ul", "ol", "li", "table", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "figure", "figcaption", "hr",
          "dl", "dt", "dd", "address", "details", "summary"}
_SKIP = {"script", "style", "head", "template", "noscript", "svg"}


class _Text(HTMLParser):
    """Words and paragraph breaks of an HTML document, nothing else."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skipping += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCK:
            self.parts.append("\n\n")
            if tag == "pre":
                self.pre += 1
            if tag == "li":
                self.parts.append("- ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK:
            self.parts.append("\n\n")
            if tag == "pre":
                self.pre = max(0, self.pre - 1)

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        self.parts.append(data if self.pre else re.sub(r"\s+", " ", data))


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = text.lstrip("\ufeff")
    lines = [line.rstrip() for line in text.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
    return text + "\n" if text else ""


def _html_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    joined = "".join(parser.parts)
    # spaces left at the edges of paragraphs by the markup
    return "\n".join(line.strip(" ") for line in joined.split("\n"))


def convert(raw: str, media_type: str) -> str:
    """The normalised text of a document's content."""
    if media_type == "text/html":
        return normalise(_html_text(raw))
    if media_type == "text/markdown":
        from markdown_it import MarkdownIt

        return normalise(_html_text(MarkdownIt("commonmark").render(raw)))
    return normalise(raw)


def media_type_of(path: Path) -> str:
    media = FORMATS.get(path.suffix.lower())
    if media is None:
        raise InputError(f"kxgraph does not read {path.suffix or 'files without an extension'} documents",
                         file=str(path), fix=f"give a text, Markdown or HTML file ({', '.join(sorted(FORMATS))})")
    return media


def read_new_document(path: Path) -> tuple[str, str]:
    """``(normalised text, media type of the original)`` of a new document file."""
    media = media_type_of(path)
    decoded = read_document(path, cited_from=str(path))  # the same size and UTF-8 checks as any document
    text = convert(decoded, media)
    if not text.strip():
        raise InputError("the document has no text", file=str(path), fix="check that it is the right file")
    return text, media
