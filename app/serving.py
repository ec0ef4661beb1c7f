"""How uvicorn serves Koshiki: its h11 protocol, with Nagle's algorithm off on every connection.

asyncio turns Nagle's algorithm off only on sockets that report `IPPROTO_TCP`, and the
listening socket that uvicorn binds itself for several workers reports 0 (uvicorn issue
3149). Every response it writes is then two segments, headers and body, and the body
waits for the client's delayed acknowledgement of the headers: 40 ms on Linux, on every
request of a kept-alive connection but the first.
"""

import asyncio
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol

PROTOCOL = "app.serving:NoDelayH11Protocol"
"""For uvicorn's `--http` option."""


class NoDelayH11Protocol(H11Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        connection = transport.get_extra_info("socket")
        if connection is not None and connection.family in (socket.AF_INET, socket.AF_INET6):
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
