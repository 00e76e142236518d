"""Command line: ``python -m aerogrid run|describe APP.py``."""
from __future__ import annotations

import argparse
import json
import sys

from .version import PROTOCOL, __version__

_DESCRIPTION = """\
Run or inspect an AeroGrid connector (a Python file that creates one aerogrid.App).

commands:
  run APP.py        load the connector and serve it to the sidecar over the runtime
                    socket (%(protocol)s) until the sidecar says shutdown
  describe APP.py   load the connector and print its declaration as JSON (app, topics with
                    key/value types, grids with columns) without connecting to anything
""" % {"protocol": PROTOCOL}

_EPILOG = """\
environment:
  AEROGRID_RUNTIME_ADDR     where the sidecar listens: tcp://127.0.0.1:PORT or unix:///path (run)
  AEROGRID_CONNECT_TIMEOUT  seconds to keep retrying the connection (default 30)
  AEROGRID_BROKER           the value of BROKER_URI inside the connector (default 127.0.0.1:19092)

exit codes:
  0  shutdown by the sidecar, or the sidecar closed the socket
  1  protocol error, or an error reported by the sidecar
  2  the connector file failed to load (syntax error, exception at module level); the message
     names file:line
  3  cannot connect to AEROGRID_RUNTIME_ADDR
  4  a batch ran past the sidecar's batch_deadline_ms (user code hung)

example:
  AEROGRID_RUNTIME_ADDR=unix:///tmp/app.sock python -m aerogrid run app.py
  python -m aerogrid describe app.py
"""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m aerogrid", description=_DESCRIPTION, epilog=_EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version="aerogrid %s (%s)" % (__version__, PROTOCOL))
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    run = sub.add_parser("run", help="serve the connector to the sidecar",
                         description="Load APP.py and serve it to the sidecar at AEROGRID_RUNTIME_ADDR.",
                         epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("app", metavar="APP.py")
    run.add_argument("--addr", help="override AEROGRID_RUNTIME_ADDR")
    run.add_argument("--connect-timeout", type=float, metavar="SECONDS",
                     help="override AEROGRID_CONNECT_TIMEOUT")
    describe = sub.add_parser("describe", help="print the connector's topics and grids as JSON",
                              description="Load APP.py and print its topics and grids as JSON.")
    describe.add_argument("app", metavar="APP.py")
    return p


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "run":
        from .runtime import run
        return run(args.app, addr=args.addr, connect_timeout=args.connect_timeout)
    if args.command == "describe":
        from .loader import UserCodeError, load
        try:
            loaded = load(args.app)
        except UserCodeError as e:
            print("aerogrid: " + e.report(), file=sys.stderr)
            return 2
        out = loaded.app.describe()
        out["tenant"] = loaded.app.tenant
        print(json.dumps(out, indent=2))
        return 0
    parser.print_help(sys.stderr)
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # Ctrl-C in a terminal: no traceback
        sys.exit(130)
