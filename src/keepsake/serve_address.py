"""Where `keepsake serve` listens, and the address it hands out in URLs.

Signed upload and media URLs (local storage) and emailed links start with
`KEEPSAKE_PUBLIC_URL`. When it is not set, they follow the address the server was
started on: the port actually bound (so `--port 0` and `--port 9000` work), and, bound to
every interface, the machine's own network address, which a phone on the same network
can reach (127.0.0.1 would be the phone itself).
"""

from __future__ import annotations

import socket

from keepsake.config import Settings

# Documentation addresses (RFC 5737, RFC 3849): connecting a UDP socket to them sends
# nothing, it only asks the kernel which local address the default route would use.
_PROBE = {socket.AF_INET: "192.0.2.1", socket.AF_INET6: "2001:db8::1"}
_ANY = {"0.0.0.0": socket.AF_INET, "::": socket.AF_INET6, "": socket.AF_INET}  # noqa: S104


def bind(host: str, port: int) -> socket.socket:
    """A listening socket, bound before the app is made so that its URLs know the port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def network_address(family: socket.AddressFamily) -> str:
    loopback = "127.0.0.1" if family == socket.AF_INET else "::1"
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect((_PROBE[family], 9))
        except OSError:
            # No route at all: only this machine can reach the server anyway.
            return loopback
        address: str = probe.getsockname()[0]
    return address


def url_of(sock: socket.socket) -> str:
    """The base URL clients reach a socket's server at."""
    host, port = sock.getsockname()[:2]
    if host in _ANY:
        host = network_address(_ANY[host])
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def with_public_url(settings: Settings, sock: socket.socket) -> Settings:
    """The settings, with the socket's URL as the public URL unless one was configured."""
    if "public_url" in settings.model_fields_set:
        return settings
    return settings.model_copy(update={"public_url": url_of(sock)})
