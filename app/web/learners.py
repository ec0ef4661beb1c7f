"""Who is practising: a random 128-bit learner id in a signed, HttpOnly, SameSite cookie.

No passwords: the id itself is the credential, shown on the progress page as a recovery
key that resumes the same learner on another device.
"""

import re
import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from itsdangerous import BadSignature, URLSafeSerializer
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "learner"
A_YEAR = 365 * 24 * 3600
WITHOUT_LEARNER = ("/static/", "/math.css", "/api/", "/openapi.json", "/docs", "/healthz")
RECOVERY_KEY = re.compile(r"^[0-9a-f]{32}$")


def serializer(key: str) -> URLSafeSerializer:
    return URLSafeSerializer(key, salt="koshiki-learner")


def cookie_header(signer: URLSafeSerializer, learner_id: str, secure: bool) -> str:
    flags = f"Max-Age={A_YEAR}; Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if secure else "")
    return f"{COOKIE}={signer.dumps(learner_id)}; {flags}"


class LearnerCookie:
    """Give every page request a learner id, setting the cookie on the first visit."""

    def __init__(self, app: ASGIApp, signing_key: str, secure: bool) -> None:
        self.app, self.signer, self.secure = app, serializer(signing_key), secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(WITHOUT_LEARNER):
            await self.app(scope, receive, send)
            return
        learner_id = self._verified(HTTPConnection(scope).cookies.get(COOKIE))
        fresh = learner_id is None
        learner_id = learner_id or secrets.token_hex(16)
        scope.setdefault("state", {})["learner_id"] = learner_id

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if not any(v.startswith(f"{COOKIE}=") for v in headers.getlist("set-cookie")):
                    headers.append(
                        "set-cookie", cookie_header(self.signer, learner_id, self.secure)
                    )
            await send(message)

        await self.app(scope, receive, send_with_cookie if fresh else send)

    def _verified(self, value: str | None) -> str | None:
        if not value:
            return None
        try:
            learner_id = self.signer.loads(value)
        except BadSignature:
            return None
        return (
            learner_id if isinstance(learner_id, str) and RECOVERY_KEY.match(learner_id) else None
        )


def current_learner_id(request: Request) -> str:
    return request.state.learner_id


LearnerDep = Annotated[str, Depends(current_learner_id)]
CSRF_SALT = "koshiki-form"


def csrf_token(request: Request) -> str:
    """A token for this learner's forms; a page from another site cannot know it."""
    return serializer(request.app.state.settings.signing_key()).dumps(
        request.state.learner_id, salt=CSRF_SALT
    )


async def require_csrf_token(request: Request, learner_id: LearnerDep) -> None:
    """Refuse a state-changing form post that does not carry this learner's token."""
    token = (await request.form()).get("csrf")
    signer = serializer(request.app.state.settings.signing_key())
    try:
        valid = isinstance(token, str) and signer.loads(token, salt=CSRF_SALT) == learner_id
    except BadSignature:
        valid = False
    if not valid:
        raise HTTPException(
            403,
            "csrf: the form has expired or came from another site; reload the page and try again",
        )


CsrfProtected = Depends(require_csrf_token)


def recovery_key(learner_id: str) -> str:
    return "-".join(learner_id[i : i + 4] for i in range(0, len(learner_id), 4))


def learner_id_from_recovery_key(key: str) -> str | None:
    cleaned = re.sub(r"[\s-]", "", key).lower()
    return cleaned if RECOVERY_KEY.match(cleaned) else None
