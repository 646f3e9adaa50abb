"""Which endpoint URLs may be registered and which addresses a delivery may reach: pure rules, no network.

Both lines of the SSRF defence share one address rule (``is_public_address`` plus the deployment's
allow-list). At **registration** (``validate_endpoint_url``) only ``https://`` (or ``http://`` when the
deployment allows it), no user-info, a syntactically sound host and port are accepted; a host that is an IP
literal in *any* spelling the C resolver accepts (``2130706433``, ``0177.0.0.1``, ``0x7f.1``, ``127.1``,
``[::ffff:127.0.0.1]``...) is normalised and vetted, and so are ``localhost`` names (RFC 6761). Other host
names are not resolved here: what they resolve to today says nothing about delivery time, which is why
``delivery.guarded_http`` resolves and vets again on every connection. The URL is returned unchanged, so
users see back exactly what they registered.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import unicodedata
from urllib.parse import urlsplit

from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from hookline.core.config import TargetPolicy
from hookline.core.errors import InvalidRequestError

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL_LENGTH = 2048

# ---------------------------------------------------------------------------------------------------------
# The address rule
# ---------------------------------------------------------------------------------------------------------

# IANA special-purpose ranges that are not globally reachable, with the name a refusal reports. First match
# wins, so narrower entries come before the ranges that contain them. Python's own ``is_global`` is checked
# as well, but its tables change between versions and it calls multicast and NAT64 global.
_REFUSED_V4: tuple[tuple[ipaddress.IPv4Network, str], ...] = tuple(
    (ipaddress.IPv4Network(net), label)
    for net, label in (
        ("0.0.0.0/8", "'this network' (0.0.0.0/8)"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "carrier-grade NAT"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "IETF protocol assignment"),
        ("192.0.2.0/24", "documentation"),
        ("192.88.99.0/24", "6to4 relay anycast"),
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"),
        ("255.255.255.255/32", "broadcast"),
        ("240.0.0.0/4", "reserved"),
    )
)
_REFUSED_V6: tuple[tuple[ipaddress.IPv6Network, str], ...] = tuple(
    (ipaddress.IPv6Network(net), label)
    for net, label in (
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("::/96", "IPv4-compatible (deprecated)"),
        ("64:ff9b:1::/48", "local-use NAT64"),
        ("100::/64", "discard-only"),
        ("2001:db8::/32", "documentation"),
        ("2001::/23", "IETF protocol assignment"),  # includes Teredo, whose client address is obfuscated
        ("3fff::/20", "documentation"),
        ("5f00::/16", "segment routing"),
        ("fc00::/7", "unique local"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local"),
        ("ff00::/8", "multicast"),
    )
)

# IPv6 forms that carry an IPv4 address in their low 32 bits and reach it when a gateway translates them:
# such an address is exactly as safe as the IPv4 address it carries.
_IPV4_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")  # SIIT, RFC 2765
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052 well-known prefix


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, str] | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped, "IPv4-mapped"
    if ip in _IPV4_TRANSLATED:
        return ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF), "IPv4-translated"
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF), "NAT64"
    if ip.sixtofour is not None:
        return ip.sixtofour, "6to4"
    return None


def refusal_reason(ip: IpAddress | str) -> str | None:
    """Why ``ip`` is not a public address (e.g. ``"loopback"``), or None when it is public."""
    address = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            inner, form = embedded
            inner_reason = refusal_reason(inner)
            return None if inner_reason is None else f"{form} form of {inner} ({inner_reason})"
        for network6, label in _REFUSED_V6:
            if address in network6:
                return label
        if address.is_site_local:
            return "site-local"
    else:
        for network4, label in _REFUSED_V4:
            if address in network4:
                return label
    if address.is_multicast:
        return "multicast"
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_private or address.is_reserved or not address.is_global:
        return "not globally routable"
    return None


def is_public_address(ip: IpAddress | str) -> bool:
    """True when ``ip`` is a globally routable unicast address (IPv4-in-IPv6 forms judged by their IPv4)."""
    return refusal_reason(ip) is None


def _in_allow_list(address: IpAddress, policy: TargetPolicy) -> bool:
    candidates: list[IpAddress] = [address]
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            candidates.append(embedded[0])
    return any(
        candidate.version == network.version and candidate in network
        for candidate in candidates
        for network in policy.allowed_private_networks
    )


def is_allowed_address(ip: IpAddress | str, policy: TargetPolicy) -> bool:
    """The one address rule both checks use: public, or inside the policy's explicit allow-list."""
    address = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
    return is_public_address(address) or _in_allow_list(address, policy)


# ---------------------------------------------------------------------------------------------------------
# Registration: validate_endpoint_url
# ---------------------------------------------------------------------------------------------------------

_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_NUMERIC_LABEL = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)")
_INET_ATON_PART = re.compile(r"0x[0-9a-f]*|0[0-7]*|[1-9][0-9]*")


def _inet_aton_number(part: str) -> int:
    if part.startswith("0x"):
        return int(part[2:] or "0", 16)
    return int(part, 8 if part.startswith("0") else 10)


def parse_ipv4_literal(host: str) -> ipaddress.IPv4Address | None:
    """Parse ``host`` the way inet_aton (and so getaddrinfo) does: 1-4 dotted parts, each decimal, octal
    (leading 0) or hex (0x); the last part fills the remaining bytes. One trailing dot is ignored, as
    browsers do. Returns None when ``host`` is not such a literal."""
    text = host.lower().removesuffix(".")
    parts = text.split(".")
    if not 1 <= len(parts) <= 4 or not all(_INET_ATON_PART.fullmatch(part) for part in parts):
        return None
    values = [_inet_aton_number(part) for part in parts]
    *leading, last = values
    if any(value > 0xFF for value in leading) or last >= 256 ** (5 - len(values)):
        return None
    number = last
    for index, value in enumerate(leading):
        number += value << (8 * (3 - index))
    return ipaddress.IPv4Address(number)


def _invalid(message: str) -> InvalidRequestError:
    return InvalidRequestError(f"url: {message}")


def _check_characters(url: str) -> None:
    if len(url) > MAX_URL_LENGTH:
        raise _invalid(f"must be at most {MAX_URL_LENGTH} characters")
    for char in url:
        if char.isspace() or unicodedata.category(char) in {"Cc", "Cf", "Cs", "Co", "Cn"}:
            raise _invalid(f"must not contain whitespace or control characters (found {char!r})")
    # Parsers disagree about backslashes (WHATWG reads them as '/', RFC 3986 parsers do not): refusing them
    # keeps the host we vet and the host we connect to the same.
    if "\\" in url:
        raise _invalid("must not contain backslashes")


def _vet_literal(address: IpAddress, policy: TargetPolicy, shown: str) -> None:
    if _in_allow_list(address, policy):
        return
    reason = refusal_reason(address)
    if reason is not None:
        spelled = "" if shown.strip("[]") == str(address) else f" (= {address})"
        raise _invalid(f"host {shown}{spelled} is not a public address: {reason}")


def _check_hostname(host: str, policy: TargetPolicy) -> str:
    """Validate a non-bracketed host, vet it if it is an address, and return its ASCII form."""
    ascii_host = host
    if not host.isascii():
        try:
            import idna  # noqa: PLC0415 - only hosts with non-ASCII names need it; keeps the API's cold start lean

            ascii_host = idna.encode(host, uts46=True).decode("ascii")
        except UnicodeError as exc:  # idna.IDNAError is one
            raise _invalid(f"host {host!r} is not a valid internationalised domain name: {exc}") from None
    ascii_host = ascii_host.lower()
    bare = ascii_host.removesuffix(".")
    if not bare or len(bare) > 253:
        raise _invalid("host must be 1 to 253 characters")
    labels = bare.split(".")
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        # A host whose last label is a number is an IPv4 literal to every resolver and browser: vet it as one,
        # or refuse it when it is not a valid one rather than guess what a resolver will make of it.
        address = parse_ipv4_literal(bare)
        if address is None:
            raise _invalid(f"host {host!r} looks like an IPv4 address but is not a valid one")
        _vet_literal(address, policy, host)
        return ascii_host
    if not all(_LABEL.fullmatch(label) for label in labels):
        raise _invalid(
            f"host {host!r} is not a valid host name (labels of 1-63 letters, digits, '-' or '_', "
            "separated by dots)"
        )
    if labels[-1] == "localhost":
        # RFC 6761: localhost and its subdomains are loopback, whatever DNS says.
        _vet_literal(ipaddress.IPv4Address("127.0.0.1"), policy, host)
    return ascii_host


def validate_endpoint_url(url: str, policy: TargetPolicy) -> str:
    """Check an endpoint URL at registration; return it unchanged or raise ``InvalidRequestError``.

    No name is resolved: host names are vetted at delivery time by ``guarded_session``.
    """
    _check_characters(url)
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise _invalid(f"is not a valid URL: {exc}") from None
    allowed_schemes = ("https", "http") if policy.allow_http else ("https",)
    if parts.scheme not in allowed_schemes:
        shown = f"{parts.scheme}:" if parts.scheme else "none"
        raise _invalid(f"scheme must be {' or '.join(s + '://' for s in allowed_schemes)}, got {shown}")
    if "@" in parts.netloc:
        raise _invalid("must not contain user-info (user:password@)")
    if not parts.hostname:
        raise _invalid("must have a host")
    try:
        port = parts.port
    except ValueError:
        raise _invalid("port must be a number from 1 to 65535") from None
    # An empty port ("host:/") means the scheme's default to some parsers and an error to others: refused,
    # so the URL a user registered is the one every reader agrees on.
    if port == 0 or (port is None and parts.netloc.endswith(":")):
        raise _invalid("port must be a number from 1 to 65535")

    hostname = parts.hostname
    if parts.netloc.startswith("["):
        if "%" in hostname:
            raise _invalid("IPv6 zone identifiers are not allowed")
        try:
            address = ipaddress.IPv6Address(hostname)
        except ValueError:
            raise _invalid(f"host [{hostname}] is not a valid IPv6 address") from None
        _vet_literal(address, policy, f"[{hostname}]")
        expected_host = address.compressed
    else:
        expected_host = _check_hostname(hostname, policy)

    # requests hands the URL to urllib3's parser, which then picks the host to connect to. Require it to see
    # the same host and port we just vetted, so no parser differential can slip past.
    try:
        seen = parse_url(url)
    except LocationParseError:
        raise _invalid("is not a URL that can be delivered to") from None
    seen_host = (seen.host or "").strip("[]").lower()
    if ":" in seen_host:
        with contextlib.suppress(ValueError):  # left as is, it simply will not match
            seen_host = ipaddress.IPv6Address(seen_host).compressed
    if seen.auth is not None or seen_host != expected_host or seen.port != port:
        raise _invalid("is ambiguous: its host or port reads differently to different URL parsers")
    return url
