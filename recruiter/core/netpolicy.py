"""Which network addresses the crawler may connect to: public ones, unless the user says otherwise.

A crawler that follows links found on the open web can be steered by any page it reads: a link, a redirect or a
feed URL naming ``127.0.0.1``, ``10.0.0.5`` or ``169.254.169.254`` (a cloud's metadata service) would make it
fetch from the user's own network and store what it found. So every address the crawler *derives* must be
public; this module says which addresses are, and what ``RECRUITER_ALLOW_PRIVATE`` lifts.

Pure functions over ``ipaddress`` objects (no I/O): the scrapers' network guard resolves a host once, asks
`AddressPolicy.refusal` about each address and connects only to an address that passed, so a name that
resolves differently the second time (DNS rebinding) cannot slip through.

``RECRUITER_ALLOW_PRIVATE`` is a comma-separated list of host names (``intranet.example``, ``localhost``), IP
addresses (``10.0.0.5``) or networks (``10.0.0.0/8``, ``fd00::/8``); ``*`` allows every address.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass

from recruiter.core.errors import InvalidValue

ENV_VAR = "RECRUITER_ALLOW_PRIVATE"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: the last 32 bits are an IPv4 address
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: local-use translation, never public
_HOST_NAME = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)*"
                        r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")


def parse_ip(host: str) -> IPAddress | None:
    """The address a URL's host names literally (``127.0.0.1``, ``[::1]``, ``fe80::1%eth0``), else None."""
    text = host.strip().strip("[]")
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def private_reason(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a public address (e.g. ``"loopback"``), or None when it is public.

    IPv6 forms that carry an IPv4 address (IPv4-mapped ``::ffff:a.b.c.d``, 6to4 ``2002::/16``, NAT64
    ``64:ff9b::/96``) are judged by the IPv4 address inside them; Teredo by its client address and its own.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return "link-local"
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            inner = private_reason(embedded)
            if inner is not None:
                return f"{inner}, embedded in an IPv6 address"
            if ip.teredo is None:
                return None  # mapped, 6to4 or NAT64 (how IPv6-only networks reach IPv4 sites): the IPv4 decides
        if ip in _NAT64_LOCAL:
            return "local NAT64"
        if ip.is_site_local:
            return "site-local"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "carrier-grade NAT"
    if ip.is_private:
        return "private network"
    if ip.is_reserved:
        return "reserved"
    if not ip.is_global:
        return "not globally routable"
    return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.teredo is not None:
        return ip.teredo[1]  # the client's address (the server's is public by construction)
    return None


@dataclass(frozen=True)
class AddressPolicy:
    """Public addresses always; private ones only for the hosts, addresses and networks named."""

    allow_all: bool = False
    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_env(cls, value: str | None = None) -> AddressPolicy:
        """The policy ``RECRUITER_ALLOW_PRIVATE`` (or ``value``) describes; a bad entry is an InvalidValue."""
        text = os.environ.get(ENV_VAR, "") if value is None else value
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        allow_all = False
        for raw in text.split(","):
            entry = raw.strip()
            if not entry:
                continue
            if entry == "*":
                allow_all = True
                continue
            ip = parse_ip(entry)
            if ip is not None:
                networks.append(ipaddress.ip_network(ip))
                continue
            if "/" in entry:
                try:
                    networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
                    continue
                except ValueError:
                    pass
            name = normalize_host(entry)
            if not _HOST_NAME.match(name):
                raise InvalidValue(f"{ENV_VAR}: {entry!r} is not a host name, an IP address or a network (CIDR)")
            hosts.add(name)
        return cls(allow_all=allow_all, hosts=frozenset(hosts), networks=tuple(networks))

    def allows_host(self, host: str) -> bool:
        """True when every address of ``host`` may be used (``*``, or the host is named)."""
        return self.allow_all or normalize_host(host) in self.hosts

    def refusal(self, host: str, ip: IPAddress) -> str | None:
        """None when the crawler may connect to ``ip`` for ``host``; else the one-line reason, naming the host."""
        reason = private_reason(ip)
        if reason is None or self.allows_host(host):
            return None
        if any(ip.version == net.version and ip in net for net in self.networks):
            return None
        mapped = _embedded_ipv4(ip) if isinstance(ip, ipaddress.IPv6Address) else None
        if mapped is not None and any(mapped in net for net in self.networks if net.version == 4):
            return None
        return refusal_message(host, ip, reason)


def refusal_message(host: str, ip: IPAddress, reason: str) -> str:
    name = normalize_host(host)
    where = f"{name} is a private address" if parse_ip(name) == ip else f"{name} resolves to {ip}, a private address"
    return (f"refused: {where} ({reason}); the crawler only follows links to public addresses "
            f"(set {ENV_VAR}={name} to allow it)")


def normalize_host(host: str) -> str:
    """Lower case, without brackets or a trailing dot: how hosts are compared."""
    return host.strip().strip("[]").rstrip(".").lower()
