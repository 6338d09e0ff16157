"""Persistent connections, as AWS's endpoints keep them.

werkzeug's development server answers every request with ``Connection: close``: Python's
``http.server`` cannot tell where an unread request body ends, so werkzeug closes the connection
and drains whatever the client sent. AWS keeps HTTP/1.1 connections open, and a client's cost per
call depends on it (a TCP connection, and for the SDK a new connection task, per call otherwise).

This handler reads each request's whole body (by its ``Content-Length``) before the application
runs, so that the next request on the connection starts right after it, and then leaves the
connection open unless the client asked to close it or the request's length is not known
(``Transfer-Encoding: chunked``), where werkzeug's closing behaviour stays. A fault that drops
the connection (``realism``) still resets it: the socket is shut down and the handler's next read
ends the connection.
"""

import io

from moto.moto_server.werkzeug_app import MotoRequestHandler


class _Drained(io.RawIOBase):
    """What werkzeug's drain after a reply reads: nothing (the body was read whole before), so
    that it never swallows the client's next request on the connection."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        return 0


class KeepAliveRequestHandler(MotoRequestHandler):
    protocol_version = "HTTP/1.1"

    def handle_one_request(self) -> None:
        self._keep_open = False
        self._connection_rfile = self.rfile
        try:
            super().handle_one_request()
        finally:
            self.rfile = self._connection_rfile

    def make_environ(self):
        environ = super().make_environ()
        length = self.headers.get("Content-Length")
        chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        if chunked or self.close_connection or (length is None and self.command != "GET"):
            return environ
        try:
            size = int(length or 0)
        except ValueError:
            return environ
        body = self.rfile.read(size) if size > 0 else b""
        environ["wsgi.input"] = io.BytesIO(body)
        # Whatever werkzeug drains after the reply comes from here, not from the connection.
        self.rfile = io.BufferedReader(_Drained())
        self._keep_open = True
        return environ

    def send_header(self, keyword: str, value: str) -> None:
        if self._keep_open and keyword.lower() == "connection" and value.lower() == "close":
            return
        super().send_header(keyword, value)
