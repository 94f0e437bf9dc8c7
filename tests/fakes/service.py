"""Base of every fake remote service: a WSGI app served on loopback from a thread.

A fake is a werkzeug application with a URL map; tests (and the sandbox) start it on an
ephemeral port, point an integration's endpoints at ``service.url``, and stop it afterwards.
Every request is recorded so a test can assert what the connector actually sent.
"""

import errno
import html
import json
import os
import socket
import threading
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


@dataclass
class RecordedRequest:
    method: str
    path: str
    args: dict
    headers: dict
    body: bytes = field(repr=False)

    def json(self):
        return json.loads(self.body or b"null")


class FakeService:
    """Subclasses declare ``rules``: (path, endpoint, methods) and ``on_<endpoint>`` methods.

    Each handler gets the werkzeug ``Request`` and the URL values and returns a ``Response``.
    """

    rules = ()

    def __init__(self, host="127.0.0.1", port=0):
        self.host = host
        self.port = port
        self.requests = []
        self._lock = threading.Lock()
        self._server = None
        self._thread = None
        self.url_map = Map([Rule(path, endpoint=endpoint, methods=methods) for path, endpoint, methods in self.rules])

    # -- lifecycle -----------------------------------------------------------------------
    @property
    def url(self):
        return f"http://{self.host}:{self.port}"

    def start(self):
        try:
            self._server = make_server(self.host, self.port, self.wsgi_app, threaded=True)
        except SystemExit as exit_:
            # Werkzeug before 3.1 exits the process on a busy port (after printing why) instead
            # of raising: a stand-in must report it to its caller like any bind error.
            raise OSError(errno.EADDRINUSE, os.strerror(errno.EADDRINUSE)) from exit_
        self.port = self._server.server_port
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=type(self).__name__, daemon=True
        )
        self._thread.start()
        return self

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=10)
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- dispatch ------------------------------------------------------------------------
    def wsgi_app(self, environ, start_response):
        request = Request(environ)
        body = request.get_data()
        with self._lock:
            self.requests.append(
                RecordedRequest(
                    method=request.method,
                    path=request.path,
                    args=request.args.to_dict(),
                    headers=dict(request.headers),
                    body=body,
                )
            )
        adapter = self.url_map.bind_to_environ(environ)
        try:
            endpoint, values = adapter.match()
            handler = getattr(self, f"on_{endpoint}", None)
            if handler is None:
                raise NotFound()
            response = handler(request, **values)
        except HTTPException as error:
            response = error.get_response(environ)
        return response(environ, start_response)

    # -- helpers for handlers ------------------------------------------------------------
    @staticmethod
    def json_response(payload, status=200, headers=None):
        return Response(json.dumps(payload), status=status, headers=headers, content_type="application/json")

    def web_app_page(self, title, details):
        """What a deep link into the remote system's web app opens in the sandbox: a page saying
        which record the real service would show (the stand-ins have no web app)."""
        service = html.escape(getattr(self, "service_name", type(self).__name__))
        rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>" for k, v in details)
        body = (
            f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
            f"<body style='font-family:sans-serif;margin:2rem'><p><em>Stand-in of {service}</em>: "
            f"the real service shows this record in its web app.</p><h1>{html.escape(title)}</h1>"
            f"<table>{rows}</table></body></html>"
        )
        return Response(body, content_type="text/html; charset=utf-8")

    def requests_to(self, path_prefix, method=None):
        with self._lock:
            return [
                r for r in self.requests if r.path.startswith(path_prefix) and (method is None or r.method == method)
            ]


# -- faults shared by the fakes -------------------------------------------------------------
def take_queued(faults, lock, path):
    """The first queued fault aimed at ``path`` (``path_prefix``), one of its ``times`` used up; or None."""
    with lock:
        for fault in faults:
            if path.startswith(fault.path_prefix):
                fault.times -= 1
                if fault.times == 0:
                    faults.remove(fault)
                return fault
    return None


@dataclass
class AfterCommitFault:
    """The next ``times`` writes under ``path_prefix`` commit, then their answer hangs ``delay``
    seconds (``drop``: the connection is closed without an answer)."""

    times: int = 1
    delay: float = 5.0
    drop: bool = False
    path_prefix: str = "/"


class AfterCommitFaultsMixin:
    """``inject_after_commit`` for a fake whose writes may lose their answer after committing.

    The fake keeps ``self._after_commit = []`` (and a ``_faults_lock``, from
    ``FaultInjectionMixin``); its write handlers ask ``take_after_commit(path)`` once the write
    is stored, then delay or ``drop_connection``.
    """

    def inject_after_commit(self, times=1, delay=5.0, drop=False, path_prefix="/"):
        fault = AfterCommitFault(times, delay, drop, path_prefix)
        with self._faults_lock:
            self._after_commit.append(fault)
        return fault

    def take_after_commit(self, path):
        return take_queued(self._after_commit, self._faults_lock, path)


def capture_response(app, environ):
    """Run a WSGI app; (status, headers, body bytes)."""
    captured, chunks = {}, []

    def start_response(status, headers, exc_info=None):
        captured["status"], captured["headers"] = status, list(headers)
        return chunks.append

    result = app(environ, start_response)
    try:
        chunks.extend(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return captured["status"], captured["headers"], b"".join(chunks)


def drop_connection(environ):
    """Close the client's connection without an answer (the write stays committed)."""
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    raise ConnectionResetError("dropped after commit (fault)")


# -- amounts ---------------------------------------------------------------------------------
def dec(value, places=None):
    """A JSON number (or numeric string) as Decimal, optionally rounded half up; None stays None."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(value)
    number = Decimal(str(value))
    if not number.is_finite():
        raise ValueError(value)
    return number if places is None else number.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)


def money(value):
    return dec(value, 2)


# -- running a fake alone (``python3 -m tests.fakes.<name> --port ... --seed ...``) ----------
def int_in_range(raw, low, high):
    """A query parameter's text as an integer from ``low`` to ``high``; None when it is not one
    (each fake answers that in its API's own words)."""
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if low <= value <= high else None


def add_service_arguments(parser, service_class, port):
    """The options every fake's command shares: where it listens, its seed and today, its OAuth client
    (only for a service with a ``client_id``: an API-token service has none)."""
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=port, help="0 picks a free port")
    parser.add_argument("--seed", default="0")
    parser.add_argument("--today", type=date.fromisoformat, help="the world's today (default: today, UTC)")
    if getattr(service_class, "client_id", None) is None:
        return parser
    parser.add_argument("--client-id", default=service_class.client_id)
    parser.add_argument("--client-secret", default=service_class.client_secret)
    parser.add_argument("--redirect-uri", action="append", help="registered redirect URI (repeatable; default any)")
    return parser


def service_options(args):
    """The keyword arguments of a fake's constructor from what ``add_service_arguments`` parsed."""
    options = {"host": args.host, "port": args.port}
    if hasattr(args, "client_id"):
        options.update(
            client_id=args.client_id, client_secret=args.client_secret, registered_redirect_uris=args.redirect_uri
        )
    return options


def seed_of(text):
    """``--seed`` as the generators take it: a number when it is one, else the text."""
    return int(text) if text.lstrip("-").isdigit() else text


def serve_until_interrupted(service, banner):
    """Print ``banner`` and "Serving until Ctrl-C." (what tests wait for), serve, stop on Ctrl-C."""
    print(f"{banner}\nServing until Ctrl-C.", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        service.stop()
        print("Stopped.", flush=True)
