"""Outbound-request safety (OWASP API7, server-side request forgery).

A webhook URL must be https and every address its host resolves to must be public. The check
runs when a subscription is saved AND at each delivery, and the delivery then connects to the
very address that was checked (`resolve_target` → `intake.services.delivery`), so a DNS answer
that changes between check and connect (rebinding) cannot steer us to an internal service.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from intake.errors import DomainError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Refused even when `is_global` would let them through: cloud metadata endpoints and NAT64.
_BLOCKED_NETWORKS: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(cidr)
    for cidr in (
        "169.254.169.254/32",  # AWS, GCP, Azure, OpenStack instance metadata
        "100.100.100.200/32",  # Alibaba Cloud metadata
        "fd00:ec2::254/128",  # AWS metadata over IPv6
        "64:ff9b::/96",  # NAT64: embeds an IPv4 address that may be private
        "100.64.0.0/10",  # carrier-grade NAT (shared address space)
    )
)


class UnsafeWebhookTarget(DomainError):
    """The URL is not an https URL of a public host (and no allow-list entry permits it)."""

    http_status = 400
    code = "unsafe_url"


class TargetUnresolvable(UnsafeWebhookTarget):
    """The host did not resolve: refused at creation, but only a transient failure at delivery."""


@dataclass(frozen=True)
class Target:
    """A checked destination: connect to `address`, but speak to `host` (Host header, SNI, cert)."""

    scheme: str
    host: str
    port: int
    address: str
    path: str


def _allowed_entries() -> tuple[list[str], list[IPNetwork]]:
    hosts: list[str] = []
    networks: list[IPNetwork] = []
    for entry in settings.WEBHOOK_ALLOWED_HOSTS:
        entry = entry.strip().lower()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            hosts.append(entry.rstrip("."))
    return hosts, networks


def is_public_address(address: IPAddress) -> bool:
    """True for a globally routable unicast address that is not a metadata endpoint."""
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None:
            return is_public_address(mapped)
        if address.teredo is not None:
            return False
    if any(address in network for network in _BLOCKED_NETWORKS):
        return False
    return address.is_global and not (
        address.is_multicast
        or address.is_loopback
        or address.is_link_local
        or address.is_private
        or address.is_reserved
        or address.is_unspecified
    )


def _is_allowed(host: str, address: IPAddress, hosts: list[str], networks: list[IPNetwork]) -> bool:
    if host in hosts:
        return True
    candidates: list[IPAddress] = [address]
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        candidates.append(address.ipv4_mapped)
    return any(candidate in network for candidate in candidates for network in networks)


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetUnresolvable(f"The host {host!r} does not resolve.") from exc
    # sockaddr[0] is the address text; IPv6 may carry a %scope suffix, which we refuse anyway.
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def resolve_target(url: str) -> Target:
    """Check `url` and pick the address to connect to; UnsafeWebhookTarget says why not."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeWebhookTarget("Not a valid URL.") from exc
    scheme = parts.scheme.lower()
    if scheme != "https" and not (scheme == "http" and settings.WEBHOOK_ALLOW_HTTP):
        raise UnsafeWebhookTarget("Webhook URLs must use https.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeWebhookTarget("Credentials in the URL are not allowed; sign with the secret instead.")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeWebhookTarget("The URL has no host.")
    port = port or (443 if scheme == "https" else 80)
    addresses = _resolve(host, port)
    if not addresses:
        raise TargetUnresolvable(f"The host {host!r} does not resolve.")
    hosts, networks = _allowed_entries()
    # Every answer must pass: an attacker's DNS may mix a public and a private address.
    for text in addresses:
        try:
            address = ipaddress.ip_address(text)
        except ValueError as exc:
            raise UnsafeWebhookTarget(f"The host {host!r} resolves to an unusable address.") from exc
        if not is_public_address(address) and not _is_allowed(host, address, hosts, networks):
            raise UnsafeWebhookTarget(
                f"The host {host!r} resolves to a non-public address ({address}); webhooks may only "
                "target public internet hosts."
            )
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(scheme=scheme, host=host, port=port, address=addresses[0], path=path)
