"""Starting the server: settings checked, the port bound, the URL printed, uvicorn run.

The socket is bound before uvicorn starts, so `--port 0` gets a free port whose URL is
printed, and a port already taken is one line, not a traceback.
"""

from __future__ import annotations

import socket
from pathlib import Path

from ..errors import UserError
from .settings import Settings, check_binding, default_max_population, is_loopback


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port; one line if the address is taken or not this
    machine's."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # answers go out at once: without it a response's second write waits for the client's
    # delayed acknowledgement, 40 ms a request on a kept-alive connection (connections
    # accepted from this socket inherit the option)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as e:
        sock.close()
        raise UserError(f"cannot listen on {host}:{port}: {e.strerror or e}; choose another "
                        "--port (0 picks a free one) or --host", "--port") from None
    sock.listen(128)
    return sock


def url_of(host: str, port: int, token: str | None) -> str:
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}/" + (f"?token={token}" if token else "")


def hosts_for(host: str, port: int) -> frozenset[str] | None:
    """Host names a loopback server answers to (others are refused: a page elsewhere cannot
    reach it by renaming itself to this address); None beyond loopback, where the token
    guards it."""
    if not is_loopback(host):
        return None
    return frozenset({"localhost", "127.0.0.1", "::1", host.strip("[]").lower()})


def serve(data: Path, host: str, port: int, token: str | None, workers: int,
          max_population: int | None, max_days: int, max_queued: int, console) -> int:
    """Run the server until Ctrl-C; the queue's unfinished runs continue when it starts again
    on the same data folder."""
    import uvicorn

    from .app import create_app

    check_binding(host, token)
    if data.exists() and not data.is_dir():
        raise UserError(f"{str(data)!r} is a file; give a folder of runs", "--data")
    try:
        data.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"cannot create {str(data)!r}: {e.strerror or e}", "--data") from None
    settings = Settings(data=data.resolve(), token=token, workers=workers,
                        max_population=max_population or default_max_population(workers),
                        max_days=max_days, max_queued=max_queued)
    sock = bind(host, port)
    port = sock.getsockname()[1]
    app = create_app(settings, hosts=hosts_for(host, port))
    console.print(f"socialcredit serve: {url_of(host, port, token)}  (runs in {settings.data}; "
                  f"{workers} worker{'' if workers == 1 else 's'}, at most "
                  f"{settings.max_population:,} citizens a run; Ctrl-C stops, unfinished "
                  "runs continue at the next start)", markup=False, soft_wrap=True)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                            timeout_graceful_shutdown=5)
    uvicorn.Server(config).run(sockets=[sock])
    return 0
