"""Markdown written by admins (a project's guidelines) as HTML safe to put in a page."""

from __future__ import annotations

from functools import lru_cache

import markdown
import nh3

GUIDELINE_TAGS = {
    "a", "blockquote", "br", "code", "em", "h1", "h2", "h3", "h4", "hr", "li", "ol", "p",
    "pre", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip


@lru_cache(maxsize=64)
def markdown_html(text: str) -> str:
    """The Markdown as HTML with anything active (scripts, handlers, styles) stripped.

    Cached by the text itself: guidelines change rarely and are shown on every page.
    """
    if not text.strip():
        return ""
    html = markdown.markdown(text, extensions=["tables", "sane_lists"])
    return nh3.clean(html, tags=GUIDELINE_TAGS, attributes={"a": {"href", "title"}})
