"""The Jinja2 environment: Markdown with protected math, localisation, hashed asset URLs."""

import hashlib
from collections.abc import Callable
from functools import cache, lru_cache
from typing import Any

from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
from markdown_it.token import Token
from markupsafe import Markup, escape

from app import typesetting
from app.config import PROJECT_ROOT
from app.markdown import MATH_TOKENS, Math
from app.markdown import parser as markdown_parser
from app.plots import Text
from app.typesetting import TypesetMath
from app.web.charts import PATTERNS, layout
from app.web.i18n import translate
from app.web.learners import csrf_token

STATIC_DIR = PROJECT_ROOT / "static"
MATHJAX = f"{typesetting.MATHJAX}/tex-chtml.js"
HTMX = "vendor/htmx-2.0.11/htmx.min.js"
MATHJAX_FONTS = [
    f"{typesetting.FONTS}/MathJax_{name}.woff" for name in ("Zero", "Main-Regular", "Math-Italic")
]
"""Fonts every formula needs: preloaded, they arrive while MathJax starts, not after."""
SWAGGER_JS = "vendor/swagger-ui-5.32.0/swagger-ui-bundle.js"
SWAGGER_CSS = "vendor/swagger-ui-5.32.0/swagger-ui.css"


def _delimited(latex: str, display: bool) -> str:
    """TeX in the delimiters MathJax looks for; escaped, so `<` stays text."""
    opening, closing = (r"\[", r"\]") if display else (r"\(", r"\)")
    return f"{opening}{escape(latex)}{closing}"


def math_html(typeset: TypesetMath | None, math: Math) -> str:
    """The formula as the server typeset it, or else its TeX for MathJax in the browser."""
    html = typeset.get(math) if typeset else None
    return html if html is not None else _delimited(*math)


@pass_context
def tex(context: Context, latex: str, display: bool = False) -> Markup:
    """A formula in an element of class "math", as Markdown's are: the page hands MathJax
    those it finds untypeset as they come into view (static/js/mathjax-config.js)."""
    html = math_html(context.get("typeset"), (latex, display))
    return Markup(f'<span class="math">{html}</span>')


def _math_rule(element: str, kind: str, display: bool) -> Callable[..., str]:
    """How dollarmath's tokens render, with the formulas typeset (`env["typeset"]`)."""

    def render(_renderer: Any, tokens: list[Token], index: int, _options: Any, env: Any) -> str:
        html = math_html(env.get("typeset"), (tokens[index].content.strip(), display))
        return f'<{element} class="math {kind}">{html}</{element}>'

    return render


_markdown = markdown_parser()
for _token, (_element, _kind) in {
    "math_inline": ("span", "inline"),
    "math_inline_double": ("div", "inline"),
    "math_block": ("div", "block"),
    "math_block_label": ("div", "block"),
}.items():
    _markdown.add_render_rule(_token, _math_rule(_element, _kind, MATH_TOKENS[_token]))


@lru_cache(maxsize=16_384)  # all the card text, twice over; old typesetting ages out
def _rendered(text: str, inline: bool, typeset: TypesetMath | None) -> Markup:
    env = {"typeset": typeset}
    html = _markdown.renderInline(text, env) if inline else _markdown.render(text, env)
    return Markup(html)


@pass_context
def markdown(context: Context, text: str) -> Markup:
    return _rendered(text, False, context.get("typeset"))


@pass_context
def markdown_inline(context: Context, text: str) -> Markup:
    return _rendered(text, True, context.get("typeset"))


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
