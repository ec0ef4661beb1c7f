"""Static files, cached for a year when the URL carries a content hash (`?v=`) or a version."""

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

A_YEAR = 365 * 24 * 3600
IMMUTABLE = f"public, max-age={A_YEAR}, immutable"


VERSIONED = "vendor/"
"""Each folder under vendor/ is one pinned release named for its version, so a file there
never changes; MathJax loads its fonts and extensions from there without a `?v=`."""


class ImmutableStaticFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if b"v=" in scope.get("query_string", b"") or path.startswith(VERSIONED):
            response.headers["Cache-Control"] = IMMUTABLE
        return response
