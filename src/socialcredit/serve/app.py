"""The web application: the API, the pages and their static files, and what guards them.

`create_app(settings)` builds it over one data folder. Every request passes the guard first:
with a token set, a request without it (header `Authorization: Bearer T` or `X-Token`, the
cookie the first page sets, or `?token=T`) gets a 401; a Host header other than the server's
own names is refused (so a web page elsewhere cannot reach a loopback server by renaming
itself); every answer carries a content security policy that lets a page load scripts,
styles and data from this server only. Errors are one line of JSON, never a traceback.
"""

from __future__ import annotations

import hmac
import importlib.util
import json
from contextlib import asynccontextmanager
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.exceptions import HTTPException

from ..errors import UserError
from .api import TooLarge, build_router
from .folders import NotFound, NotReady
from .queue import QueueFull, RunQueue
from .settings import Settings

PAGES = Path(__file__).parent / "pages"
COOKIE = "socialcredit_token"
ROUTES = {"/": "scenarios", "/new": "new", "/runs": "runs", "/compare": "compare",
          "/runs/{run_id}": "run", "/runs/{run_id}/citizens/{n}": "citizen"}
"""Each page's address and its script, pages/<name>.js."""
TITLES = {"scenarios": "Scenarios", "new": "New run", "runs": "Runs", "run": "A run",
          "citizen": "A citizen", "compare": "Compare"}
CHARTS = {"run", "citizen", "compare"}
"""Pages that draw with plotly.js."""
STATIC = {"app.js": "text/javascript", "style.css": "text/css",
          "plotly.min.js": "text/javascript", **{f"{p}.js": "text/javascript" for p in TITLES}}
"""Static files by name: the pages' own, and plotly.js from the installed plotly package."""
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
"""Nothing outside this server: no CDN, no font service. Plotly sets inline styles."""
STATUS = {NotFound: 404, NotReady: 409, TooLarge: 413, QueueFull: 429}


def plotly_js() -> Path:
    """plotly.min.js as the plotly Python package ships it (no CDN)."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        raise UserError("the plotly package is not installed; pip install plotly", "serve")
    return Path(spec.submodule_search_locations[0]) / "package_data" / "plotly.min.js"


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": " ".join(message.split())}, status_code=status)


def _validation_line(exc: RequestValidationError) -> str:
    """Pydantic's first complaint as one line: where, and what."""
    errors = exc.errors()
    if not errors:
        return "the request is not valid"
    first = errors[0]
    loc = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "request"
    msg = str(first.get("msg", "not valid")).removeprefix("Value error, ")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{loc}: {msg}{more}"


class Guard:
    """ASGI middleware: token, Host header, and the security headers on every answer."""

    def __init__(self, app, token: str | None, hosts: frozenset[str] | None):
        self.app, self.token, self.hosts = app, token, hosts

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        host = headers.get("host", "").rsplit(":", 1)[0].strip("[]").lower()
        if self.hosts is not None and host not in self.hosts:
            return await _answer(send, 400, "this server answers only to its own address "
                                 f"({', '.join(sorted(self.hosts))}), not to {host[:60]!r}")
        from_query = False
        if self.token is not None:
            given = _bearer(headers.get("authorization", "")) or headers.get("x-token")
            if not given:
                cookie = SimpleCookie()
                try:
                    cookie.load(headers.get("cookie", ""))
                except Exception:  # a malformed cookie header: as if none were sent
                    cookie = SimpleCookie()
                given = cookie[COOKIE].value if COOKIE in cookie else None
            if not given:
                query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
                given = (query.get("token") or [None])[0]
                from_query = given is not None
            if not given or not hmac.compare_digest(given.encode(), self.token.encode()):
                return await _answer(send, 401, "this server needs its token: give it as "
                                     "?token=..., or as the header Authorization: Bearer ...")

        async def guarded(message):
            if message["type"] == "http.response.start":
                extra = [(b"content-security-policy", CSP.encode()),
                         (b"x-content-type-options", b"nosniff"),
                         (b"referrer-policy", b"no-referrer"),
                         (b"x-frame-options", b"DENY")]
                if from_query:
                    extra.append((b"set-cookie", f"{COOKIE}={self.token}; HttpOnly; "
                                  "SameSite=Strict; Path=/".encode()))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, guarded)


def _bearer(value: str) -> str | None:
    scheme, _, rest = value.partition(" ")
    return rest.strip() or None if scheme.lower() == "bearer" else None


async def _answer(send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"content-security-policy", CSP.encode())]})
    await send({"type": "http.response.body", "body": body})


def _page(html: bytes):
    """A page's route: the same shell for every page, its data fetched from the API by its
    script."""
    def page() -> Response:
        return Response(html, media_type="text/html; charset=utf-8",
                        headers={"cache-control": "no-cache"})
    return page


def create_app(settings: Settings, queue: RunQueue | None = None,
               hosts: frozenset[str] | None = None, start_queue: bool = True) -> FastAPI:
    """The application over `settings.data`: API, pages and the run queue (started with the
    application, stopped with it; `start_queue=False` leaves that to the caller). `hosts`
    are the Host names it answers to (None: any)."""
    queue = queue or RunQueue(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if start_queue:
            queue.start()
        try:
            yield
        finally:
            if start_queue:
                queue.stop()

    from .. import __version__

    app = FastAPI(title="socialcredit", version=__version__, lifespan=lifespan,
                  docs_url=None, redoc_url=None,
                  description="The local explorer of socialcredit runs: scenarios, runs, "
                  "their daily series, citizens' stories and comparisons. Synthetic "
                  "populations only.")
    app.state.queue = queue
    app.state.settings = settings
    app.include_router(build_router(settings, queue))

    @app.exception_handler(UserError)
    async def user_error(request: Request, exc: UserError):
        status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
        return error(status, str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        return error(422, _validation_line(exc))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        return error(exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception):  # a bug, said in one line
        first = (str(exc).splitlines() or [""])[0][:200]
        return error(500, f"internal error: {type(exc).__name__}: {first}")

    shell = (PAGES / "page.html").read_text(encoding="utf-8")
    for route, name in ROUTES.items():
        scripts = ['<script src="/static/plotly.min.js"></script>'] if name in CHARTS else []
        scripts.append(f'<script src="/static/{name}.js" defer></script>')
        html = shell.replace("{title}", TITLES[name]).replace(
            "{scripts}", "".join(f"  {x}\n" for x in scripts)).encode()
        app.add_api_route(route, _page(html), methods=["GET"], include_in_schema=False)

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str):
        if name not in STATIC:
            raise NotFound(f"no static file {name[:60]!r}", "static")
        path = plotly_js() if name == "plotly.min.js" else PAGES / name
        return FileResponse(path, media_type=STATIC[name],
                            headers={"cache-control": "max-age=3600"})

    app.add_middleware(Guard, token=settings.token, hosts=hosts)
    return app
