"""Who a client is, for every per-client rule (rate limits, fair share, stream caps): one key per
address, with IPv6 addresses counted per /64 network (one subscriber's allocation) so that a client
cannot pick a fresh identity from its own prefix per request. IPv4-mapped IPv6 addresses count as
their IPv4 address. The address is the request's remote address, as werkzeug's ProxyFix (server.ratelimit,
PLAYGROUND_PROXY_HOPS) leaves it.
"""

from __future__ import annotations

import ipaddress

from flask import request

IPV6_PREFIX = 64  # the IPv6 network one client is counted as


def client_of(address: str | None) -> str:
    """The client key of an address: IPv4 as it is, IPv6 as its /64 network; anything else unchanged."""
    if not address:
        return "unknown"
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, IPV6_PREFIX), strict=False))
    return str(ip)


def client_key() -> str:
    """The client key of the current request."""
    return client_of(request.remote_addr)
