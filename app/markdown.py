"""Card text's Markdown: one parser for the pages that render it and for finding its math.

CommonMark with tables; raw HTML is off, since card text is content, never markup.
dollarmath lifts $…$ and $$…$$ out before Markdown sees them, so `_`, `*` and `\\` in TeX
stay as written.
"""

from collections.abc import Iterator

from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin

Math = tuple[str, bool]
"""A formula's TeX, and whether it is displayed (a block of its own) or inline."""

MATH_TOKENS = {
    "math_inline": False,  # $…$
    "math_inline_double": True,  # $$…$$ within a paragraph
    "math_block": True,  # $$…$$ as a paragraph of its own
    "math_block_label": True,  # the same with an (label)
}
"""dollarmath's token types, and whether each is displayed."""


def parser() -> MarkdownIt:
    return (
        MarkdownIt("commonmark", {"html": False})
        .enable("table")
        .use(dollarmath_plugin, double_inline=True, allow_digits=False)
    )


_parser = parser()


def math_in(text: str, *, inline: bool) -> Iterator[Math]:
    """The formulas in `text`, as its page renders them (`inline`: one line, no blocks)."""
    tokens = _parser.parseInline(text) if inline else _parser.parse(text)
    pending = list(tokens)
    while pending:
        token = pending.pop()
        pending.extend(token.children or ())
        if token.type in MATH_TOKENS:
            yield token.content.strip(), MATH_TOKENS[token.type]
