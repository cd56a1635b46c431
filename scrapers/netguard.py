"""The crawler's address guard: resolve once, check, connect to the address that was checked.

``PoliteClient`` sends every request through `GuardedTransport`, an ``httpx`` transport whose connection pool
opens sockets through `GuardedBackend`. For each new connection the backend resolves the host itself, asks the
`AddressPolicy` about every address and connects to the first address that passed, so the address checked is
the address connected to: a name that answers with a public address to a first lookup and a private one to the
next (DNS rebinding) cannot slip through. TLS still verifies the certificate for, and sends SNI with, the host
name (httpcore passes the origin's name to ``start_tls``, not the address), and the Host header is the URL's.

Origins the user named (the URLs typed on the command line, the configured service base URLs) are *trusted*:
their connections are not checked, whatever they resolve to. Everything else the crawler derives (redirect
targets, feed and about links, search results, snowball links) is.
"""

from __future__ import annotations

import socket
import typing

import anyio
import httpcore
import httpx

from recruiter.core.netpolicy import AddressPolicy, normalize_host, parse_ip


class AddressRefused(Exception):
    """A connection to a private address was refused; the message names the host (raised through httpx)."""


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that connects only to addresses the policy allows."""

    def __init__(self, policy: AddressPolicy, *, trusted: set[tuple[str, int]] | None = None,
                 inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self.policy = policy
        self.trusted = trusted if trusted is not None else set()  # (host, port) pairs, shared with the client
        self._inner = inner or httpcore.AnyIOBackend()

    def is_trusted(self, host: str, port: int) -> bool:
        return (normalize_host(host), port) in self.trusted

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        if self.is_trusted(host, port):
            return await self._inner.connect_tcp(host, port, timeout=timeout, local_address=local_address,
                                                 socket_options=socket_options)
        addresses = await self._resolve(host, port, timeout)
        refusal = None
        allowed = []
        for address in addresses:
            reason = self.policy.refusal(host, address)
            if reason is None:
                allowed.append(address)
            elif refusal is None:
                refusal = reason
        if not allowed:
            raise AddressRefused(refusal or f"refused: {host} has no usable address")
        error: Exception | None = None
        for address in allowed:
            try:
                return await self._inner.connect_tcp(str(address), port, timeout=timeout,
                                                     local_address=local_address, socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    async def _resolve(self, host: str, port: int, timeout: float | None) -> list:
        """Every address ``host`` has (a literal address is its own), in the resolver's order, without repeats."""
        literal = parse_ip(host)
        if literal is not None:
            return [literal]
        try:
            with anyio.fail_after(timeout):
                infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host} took longer than {timeout:g} s") from None
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
        addresses = []
        for _family, _type, _proto, _name, sockaddr in infos:
            address = parse_ip(str(sockaddr[0]))
            if address is not None and address not in addresses:
                addresses.append(address)
        return addresses

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None):
        raise AddressRefused(f"refused: unix socket {path}")  # never used by the crawler; never allowed

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """``httpx.AsyncHTTPTransport`` whose connections go through a `GuardedBackend` (no proxies, HTTP/1.1)."""

    def __init__(self, backend: GuardedBackend, *, limits: httpx.Limits,
                 verify: typing.Any = True) -> None:
        super().__init__(verify=verify, limits=limits, trust_env=False)
        if not isinstance(getattr(self, "_pool", None), httpcore.AsyncConnectionPool):
            raise RuntimeError("this httpx version keeps its connection pool elsewhere; the address guard "
                               "cannot be installed")
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=False,
            network_backend=backend,
        )
        self.backend = backend
