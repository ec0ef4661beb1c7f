import gc
import http.client
import socket
import threading
import time

import uvicorn
from fastapi.testclient import TestClient
from starlette.types import Receive, Scope, Send

from app.config import Settings
from app.main import create_app
from app.serving import NoDelayH11Protocol


async def hello(_scope: Scope, _receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hello"})


def test_connections_to_a_socket_bound_for_several_workers_send_without_nagle() -> None:
    config = uvicorn.Config(hello, host="127.0.0.1", port=0, http=NoDelayH11Protocol)
    listener = config.bind_socket()  # as uvicorn binds it for --workers N: proto 0
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        client = http.client.HTTPConnection(*listener.getsockname()[:2], timeout=5)
        client.request("GET", "/")
        assert client.getresponse().read() == b"hello"
        (connection,) = server.server_state.connections  # kept alive
        accepted = connection.transport.get_extra_info("socket")
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        client.close()
    finally:
        server.should_exit = True
        thread.join(10)


def test_what_the_app_has_loaded_is_kept_out_of_full_collections_while_it_serves(
    settings: Settings,
) -> None:
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200
        assert gc.get_freeze_count() > 10_000  # modules, the app, its templates
    assert gc.get_freeze_count() == 0  # collectable again once it has shut down
