"""The Jinja2 environment: Markdown with protected math, localisation, hashed asset URLs."""

import hashlib
from functools import cache
from typing import Any

from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
from markdown_it import MarkdownIt
from markupsafe import Markup, escape
from mdit_py_plugins.dollarmath import dollarmath_plugin

from app.config import PROJECT_ROOT
from app.plots import Text
from app.web.charts import PATTERNS, layout
from app.web.i18n import translate
from app.web.learners import csrf_token

STATIC_DIR = PROJECT_ROOT / "static"
MATHJAX = "vendor/mathjax-3.2.2/tex-chtml.js"
HTMX = "vendor/htmx-2.0.11/htmx.min.js"
MATHJAX_FONTS = [
    f"vendor/mathjax-3.2.2/output/chtml/fonts/woff-v2/MathJax_{name}.woff"
    for name in ("Zero", "Main-Regular", "Math-Italic")
]
"""Fonts every formula needs: preloaded, they arrive while MathJax starts, not after."""
SWAGGER_JS = "vendor/swagger-ui-5.32.0/swagger-ui-bundle.js"
SWAGGER_CSS = "vendor/swagger-ui-5.32.0/swagger-ui.css"


def _delimited(latex: str, display: bool) -> str:
    """TeX in the delimiters MathJax looks for; escaped, so `<` stays text."""
    opening, closing = (r"\[", r"\]") if display else (r"\(", r"\)")
    return f"{opening}{escape(latex)}{closing}"


def tex(latex: str, display: bool = False) -> Markup:
    """A formula in an element of class "math", as dollarmath wraps Markdown's: the page
    hands MathJax those elements as they come into view (static/js/mathjax-config.js)."""
    return Markup(f'<span class="math">{_delimited(latex, display)}</span>')


def _render_math(content: str, options: dict[str, Any]) -> str:
    return _delimited(content, options["display_mode"])


# Raw HTML is off: card text is content, never markup. dollarmath lifts $…$ and $$…$$
# out before Markdown sees them, so `_`, `*` and `\` in TeX reach MathJax untouched.
_markdown = (
    MarkdownIt("commonmark", {"html": False})
    .enable("table")
    .use(dollarmath_plugin, renderer=_render_math, double_inline=True, allow_digits=False)
)


@cache
def markdown(text: str) -> Markup:
    return Markup(_markdown.render(text))


@cache
def markdown_inline(text: str) -> Markup:
    return Markup(_markdown.renderInline(text))


@cache
def static_url(path: str) -> str:
    """URL of a static file carrying a hash of its content, so it can be cached forever."""
    digest = hashlib.sha256((STATIC_DIR / path).read_bytes()).hexdigest()[:12]
    return f"/static/{path}?v={digest}"


def number(value: Any) -> str:
    """A number as shown to a person: six significant digits (the API keeps them all)."""
    if isinstance(value, bool) or not isinstance(value, float):
        return str(value)
    return f"{value:.6g}"


@pass_context
def t(context: Context, key: str) -> str:
    return translate(key, context["lang"])


@pass_context
def localized(context: Context, obj: Any, field: str) -> str:
    """`obj.<field>_<lang>` for ORM rows, `obj[lang]` for {ja, en} mappings."""
    if isinstance(obj, dict):
        return obj[context["lang"]]
    return getattr(obj, f"{field}_{context['lang']}")


@pass_context
def text(context: Context, value: Text) -> str:
    """A plot's text: notation as it is, words in the page's language."""
    return value if isinstance(value, str) else value[context["lang"]]


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=PROJECT_ROOT / "templates")
    environment = templates.env
    environment.filters.update(
        markdown=markdown, markdown_inline=markdown_inline, tex=tex, number=number
    )
    environment.globals.update(
        t=t,
        localized=localized,
        static_url=static_url,
        MATHJAX=MATHJAX,
        HTMX=HTMX,
        MATHJAX_FONTS=MATHJAX_FONTS,
        csrf_token=csrf_token,
        text=text,
        layout=layout,
        PATTERNS=PATTERNS,
    )
    environment.trim_blocks = environment.lstrip_blocks = True
    return templates
