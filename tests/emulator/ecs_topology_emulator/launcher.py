"""Extend moto, then serve it on loopback in the foreground until stopped."""

import argparse
import importlib
import logging
import os
import signal
import sys
import threading
import time

# Extensions in the order they are installed. ``realism`` wraps the whole WSGI application
# (counting, throttling, latency, faults and the /_emulator admin endpoints) and goes last.
EXTENSIONS = [
    "servicediscovery",
    "ram",
    "ec2",
    "ec2_peering",
    "ecs_express",
    "ecs_services",
    "tagging",
    "s3",
    "eventbridge",
]


def _is_gone(pid: int) -> bool:
    """True when pid no longer runs (an unreaped zombie counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            # pid (comm) state ...: comm may hold spaces and parentheses, the state follows the last ")".
            return stat.read().rpartition(")")[2].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        return False


def _watch_parent(parent_pid: int) -> None:
    """Exit when the process that started us is gone, so no emulator outlives its tests.

    ``parent_pid`` need not be our direct parent. When it is, being re-parented (the parent died
    and its pid may already be reused) also counts as gone.
    """
    started_under_it = os.getppid() == parent_pid

    def watch() -> None:
        while True:
            if _is_gone(parent_pid) or (started_under_it and os.getppid() != parent_pid):
                os._exit(0)
            time.sleep(0.25)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def build_app():
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    for name in EXTENSIONS:
        module_name = f"{__package__}.{name}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as e:
            if e.name != module_name:
                raise
            print(f"emulator: extension {name} not present, skipped", file=sys.stderr, flush=True)
            continue
        module.install()
    app = DomainDispatcherApplication(create_backend_app)
    app.debug = False
    realism = importlib.import_module(f"{__package__}.realism")
    return realism.wrap(app)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="tests/emulator/serve")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--parent-pid",
        type=int,
        default=None,
        help="exit when this process is gone (test harnesses pass their own pid)",
    )
    parser.add_argument(
        "--log-requests",
        action="store_true",
        help="log every request to stderr (off by default: tests make thousands)",
    )
    args = parser.parse_args(argv)
    if not args.host.startswith("127.") and args.host not in ("localhost", "::1"):
        parser.error("the emulator serves on loopback only")
    os.environ.setdefault("MOTO_PORT", str(args.port))
    # Accounts are chosen per request (header or assumed-role keys); never pin one.
    os.environ.pop("MOTO_ACCOUNT_ID", None)
    if args.parent_pid:
        _watch_parent(args.parent_pid)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))

    from werkzeug.serving import run_simple

    from .keepalive import KeepAliveRequestHandler

    if not args.log_requests:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = build_app()
    print(f"emulator: serving on http://{args.host}:{args.port}", file=sys.stderr, flush=True)
    run_simple(args.host, args.port, app, threaded=True, request_handler=KeepAliveRequestHandler)
