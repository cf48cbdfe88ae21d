"""HTML -> readable text for HTML-only mail.

Built on the standard library's tolerant ``html.parser`` (no C extension, never
raises on broken markup). What it does beyond tag stripping:

- block elements (p, div, li, headings, br, ...) become line breaks;
- a table row becomes one line, its cells joined by `` | `` (logistics mail is
  full of tables: order lines, booking confirmations); a row with a single
  cell is a layout row and keeps its own line breaks; nested tables end the
  enclosing row's line before their own rows;
- ``<blockquote>`` content is prefixed with ``> `` so the quote splitter sees it
  as quoted history;
- script, style, head, title and template content is dropped;
- hidden content (``display:none``, ``visibility:hidden``, ``font-size:0``,
  ``opacity:0``, ``max-height:0``/``height:0`` with overflow hidden, the
  ``hidden`` attribute) is dropped and reported, since invisible text is a
  prompt-injection vector: the reader must not get what the person did not see.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

_BLOCK = frozenset({
    "p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "header",
    "footer", "ul", "ol", "hr", "pre", "address", "dl", "dt", "dd", "center", "form", "fieldset",
    "caption", "figure", "main", "nav", "aside",
})
_PARAGRAPH = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "pre", "hr"})
_SKIP = frozenset({"script", "style", "head", "title", "template", "xml"})
_VOID = frozenset({"br", "img", "hr", "meta", "link", "input", "area", "base", "col", "embed", "source",
                   "track", "wbr", "param"})
_HIDDEN_STYLE = re.compile(
    r"""(?:^|;)\s*(?:
        display\s*:\s*none
      | visibility\s*:\s*(?:hidden|collapse)
      | mso-hide\s*:\s*all
      | font-size\s*:\s*0(?:\.0+)?(?:px|pt|em|rem|%)?\s*(?:!important\s*)?(?:;|$)
      | opacity\s*:\s*0(?:\.0+)?\s*(?:!important\s*)?(?:;|$)
      | (?:max-)?height\s*:\s*0(?:px)?\s*(?:!important\s*)?;(?=.*overflow\s*:\s*hidden)
    )""",
    re.IGNORECASE | re.VERBOSE,
)
_SPACES = re.compile(r"[ \t\r\n\f]+")


@dataclass(frozen=True, slots=True)
class HtmlText:
    """The visible text of an HTML document and whether hidden text was dropped."""

    text: str
    hidden_text: bool


def html_to_text(html: str) -> str:
    """Readable text from HTML: block elements on their own lines, a table row per line."""
    return render_html(html=html).text


def render_html(*, html: str) -> HtmlText:
    """Visible text of ``html`` plus a flag telling whether hidden text was present and dropped."""
    parser = _HtmlText()
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError):  # very broken markup: keep what was read so far
        pass
    return HtmlText(text=parser.text(), hidden_text=parser.hidden_text)


def _is_hidden(attrs: list[tuple[str, str | None]]) -> bool:
    for name, value in attrs:
        if name == "hidden":
            return True
        if name == "style" and value and _HIDDEN_STYLE.search(value):
            return True
    return False


class _Cell:
    __slots__ = ("lines",)

    def __init__(self) -> None:
        self.lines: list[list[str]] = [[]]

    def add(self, data: str) -> None:
        self.lines[-1].append(data)

    def brk(self) -> None:
        if self.lines[-1]:
            self.lines.append([])

    def flat(self) -> list[str]:
        out = [" ".join("".join(parts).split()) for parts in self.lines]
        return [line for line in out if line]


class _HtmlText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._out: list[str] = []
        self._skip = 0
        self._stack: list[tuple[str, bool]] = []  # open elements and whether each hides its content
        self._hidden_depth = 0
        self._quote_depth = 0
        self._rows: list[list[_Cell] | None] = []  # per open table: the cells of its current row
        self._cell: list[_Cell | None] = []  # per open table: the cell being filled
        self.hidden_text = False
        self._trail = 2  # newlines at the end of the output so far (the start counts as a paragraph break)

    # ------------------------------------------------------------------ structure
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skip += 1
            return
        if tag not in _VOID:
            hidden = _is_hidden(attrs)
            self._stack.append((tag, hidden))
            self._hidden_depth += hidden
        if tag == "table":
            if self._cell and self._cell[-1] is not None:
                self._flush_row(partial=True)  # a nested (layout) table ends the outer row's line
            self._rows.append(None)
            self._cell.append(None)
        elif tag == "tr" and self._rows:
            self._flush_row(partial=False)
            self._rows[-1] = []
        elif tag in ("td", "th") and self._rows:
            if self._rows[-1] is None:
                self._rows[-1] = []
            self._close_cell()
            self._cell[-1] = _Cell()
        elif tag == "blockquote":
            self._newline()
            self._quote_depth += 1
        elif tag in _BLOCK:
            self._newline(blank=tag in _PARAGRAPH)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK:
            self._newline()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
            return
        if tag in _VOID:
            if tag in _BLOCK:
                self._newline()
            return
        if not any(t == tag for t, _ in self._stack):
            return  # a stray end tag
        while self._stack:
            open_tag, hidden = self._stack.pop()
            self._hidden_depth -= hidden
            self._close(open_tag)
            if open_tag == tag:
                break

    def _close(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell:
            self._close_cell()
        elif tag == "tr" and self._rows:
            self._flush_row(partial=False)
        elif tag == "table" and self._rows:
            self._flush_row(partial=False)
            self._rows.pop()
            self._cell.pop()
            self._newline()
        elif tag == "blockquote":
            self._newline()
            self._quote_depth = max(0, self._quote_depth - 1)
        elif tag in _BLOCK:
            self._newline(blank=tag in _PARAGRAPH)

    def _close_cell(self) -> None:
        if self._cell and self._cell[-1] is not None:
            row = self._rows[-1]
            if row is None:
                row = self._rows[-1] = []
            row.append(self._cell[-1])
            self._cell[-1] = None

    def _flush_row(self, *, partial: bool) -> None:
        if not self._rows:
            return
        self._close_cell()
        cells = self._rows[-1] or []
        self._rows[-1] = [] if partial else None
        flat = [c.flat() for c in cells]
        flat = [c for c in flat if c]
        if not flat:
            return
        # a single-cell row is layout: it keeps its lines; a real row becomes one line
        lines = flat[0] if len(flat) == 1 else [" | ".join(" ".join(c) for c in flat)]
        self._emit_lines(lines)

    # ------------------------------------------------------------------ text
    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._hidden_depth:
            if data.strip():
                self.hidden_text = True
            return
        if self._cell and self._cell[-1] is not None:
            self._cell[-1].add(data)
            return
        text = _SPACES.sub(" ", data)
        if not text:
            return
        if self._trail:
            text = text.lstrip()
            if not text:
                return
            text = "> " * self._quote_depth + text
        self._out.append(text)
        self._trail = 0

    def _newline(self, *, blank: bool = False) -> None:
        if self._cell and self._cell[-1] is not None:
            self._cell[-1].brk()
            return
        want = 2 if blank else 1
        if self._trail < want:
            self._out.append("\n" * (want - self._trail))
            self._trail = want

    def _emit_lines(self, lines: list[str]) -> None:
        prefix = "> " * self._quote_depth
        self._newline()
        self._out.append("\n".join(prefix + line for line in lines) + "\n")
        self._trail = 1

    def text(self) -> str:
        while self._rows:  # unclosed tables
            self._flush_row(partial=False)
            self._rows.pop()
            self._cell.pop()
        lines = (line.strip() for line in "".join(self._out).splitlines())
        out = "\n".join(line if line.strip("> ") else "" for line in lines)
        out = re.sub(r"\n{3,}", "\n\n", out)
        return out.strip()
