"""Records, and blocks, every network call that would leave loopback, for the no-outbound tests.

Put this folder first on PYTHONPATH and set NET_AUDIT_LOG to a file: Python imports ``sitecustomize`` at start-up,
and the audit hook below appends one JSON line per name lookup, connect, send or bind, then refuses the call when
its address is not on loopback, so a regression is caught without any traffic leaving the machine. A forked child
inherits the hook (that is how OpenVINO's telemetry sender was caught), and children started with exec inherit
PYTHONPATH.
"""

import ipaddress
import json
import os
import sys

_LOG = os.environ.get("NET_AUDIT_LOG")
_NETWORK = {"socket.getaddrinfo", "socket.gethostbyname", "socket.connect", "socket.sendto", "socket.sendmsg",
            "socket.bind"}
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def is_loopback(host) -> bool:
    """True for loopback names and addresses; None is the wildcard a listening socket's lookup may use."""
    if host is None:
        return True
    text = str(host).strip("[]").lower()
    if text in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False  # any other name means a DNS lookup; '' or 0.0.0.0 means every interface


def leaves_loopback(event: str, args: list) -> bool:
    if event not in _NETWORK or not args:
        return False
    address = args[0]
    if isinstance(address, (str, bytes)) and event not in ("socket.getaddrinfo", "socket.gethostbyname"):
        return False  # a UNIX socket path
    host = address[0] if isinstance(address, (tuple, list)) and address else address
    return not is_loopback(host)


def _plain(value):
    if isinstance(value, (str, int, float, type(None))):
        return value
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return repr(value)[:200]


def _hook(event, args):
    if event not in _NETWORK and event not in ("subprocess.Popen", "os.fork"):
        return
    if event in ("socket.connect", "socket.sendto", "socket.bind", "socket.sendmsg"):
        args = args[1:]  # drop the socket object, keep the address
    args = list(args)
    blocked = leaves_loopback(event, args)
    record = {"pid": os.getpid(), "event": event, "args": _plain(args)[:4], "outbound": blocked}
    with open(_LOG, "a", encoding="utf-8") as out:
        out.write(json.dumps(record) + "\n")
    if blocked:
        raise PermissionError(f"no-outbound test: {event} {args[:1]!r} refused")


if _LOG:
    sys.addaudithook(_hook)
