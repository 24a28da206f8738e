"""Text that users or files supply, made safe for a spreadsheet, Streamlit markdown or HTML.

Subject codes, notes, upload and profile file names and manifest values are data: none of
them may become a spreadsheet formula, a markdown link, bold text, LaTeX or an HTML tag.

Example:
    >>> csv_safe_cell('=HYPERLINK("http://x","y")')
    '\\'=HYPERLINK("http://x","y")'
    >>> csv_safe_cell(-12.5), csv_safe_cell("-12.5"), csv_safe_cell(None)
    (-12.5, '-12.5', '')
    >>> escape_markdown("**P01** costs $5")
    '\\\\*\\\\*P01\\\\*\\\\* costs \\\\$5'
    >>> escape_html("<b>&</b>")
    '&lt;b&gt;&amp;&lt;/b&gt;'
"""

from __future__ import annotations

import html
import re
from typing import Any

# OWASP "CSV injection": a cell starting with one of these is read as a formula by Excel,
# LibreOffice or Google Sheets. The full-width forms are folded to the ASCII ones by some
# spreadsheets, so they are treated the same.
_FORMULA_START = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
# A plain number written as text ("-12.5", "+3", "1e-3") is read as that number, never as a
# formula: it keeps its sign instead of becoming the text "'-12.5".
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def csv_safe_cell(value: Any) -> Any:
    """A CSV cell that no spreadsheet runs as a formula.

    ``None`` becomes an empty cell; numbers (and anything else not a string) are returned
    as they are, so negative angles stay numbers. A string whose first character (or first
    after leading spaces and line breaks) is ``= + - @``, a tab or a carriage return gets a
    leading apostrophe, the OWASP rule, unless the whole string is a plain number.
    """
    if value is None:
        return ""
    if not isinstance(value, str) or not value:
        return value
    first = value[0] if value[0] in "\t\r" else value.lstrip(" \n")[:1]
    if first in _FORMULA_START and not _PLAIN_NUMBER.fullmatch(value.strip()):
        return "'" + value
    return value


# Inline markdown anywhere in a line: escapes, code, emphasis, links and images, GFM
# strikethrough and tables, headings, Streamlit's LaTeX ($) and its :color[...] /
# :material/icon: / :emoji: directives (a colon before a space starts none of them);
# & < > become entities.
_MD_SPECIAL = re.compile(r"[\\`*_\[\]~|#$&<>]|:(?=\S)")
_HTML_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\x0b\x0c\x85\u2028\u2029]")
# Only at the start of a line: a list item ("- ", "+ ", "1. ", "1) ") or a setext underline.
_MD_LINE_START = re.compile(r"^(\s*)([-+=])|^(\s*\d{1,9})([.)])")


def escape_markdown(text: Any) -> str:
    """``text`` shown literally by ``st.markdown`` (and captions, alerts, widget labels).

    Markdown specials are backslash-escaped, ``$`` too (Streamlit renders LaTeX), ``& < >``
    become HTML entities (so even with ``unsafe_allow_html`` no tag is made), and line
    breaks become spaces (no new block can start inside the text). Plain web addresses
    (``www.x.org``) may still be shown as links, as typed.
    """
    s = _LINE_BREAKS.sub(" ", str(text))
    s = _MD_SPECIAL.sub(lambda m: _HTML_ENTITIES.get(m[0], "\\" + m[0]), s)
    return _MD_LINE_START.sub(
        lambda m: f"{m[1]}\\{m[2]}" if m[2] is not None else f"{m[3]}\\{m[4]}", s, count=1
    )


def escape_html(text: Any) -> str:
    """``text`` for an HTML element or attribute (``html.escape``, quotes included)."""
    return html.escape(str(text), quote=True)


__all__ = ["csv_safe_cell", "escape_html", "escape_markdown"]
