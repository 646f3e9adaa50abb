"""The SSRF guard, without any network: name resolution and connects are monkeypatched where involved."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import Any

import pytest
import requests

from hookline.core.config import TargetPolicy
from hookline.core.errors import DnsError, InvalidRequestError, SsrfBlockedError
from hookline.core.targets import (
    is_allowed_address,
    is_public_address,
    parse_ipv4_literal,
    refusal_reason,
    validate_endpoint_url,
)
from hookline.delivery.guarded_http import GuardedSession, guarded_session, resolve_and_vet

STRICT = TargetPolicy(allow_http=False, allowed_private_networks=())
LOCAL = TargetPolicy(allow_http=True, allowed_private_networks=(ipaddress.ip_network("127.0.0.0/8"),))

# (id, host as written in a URL, why it must be refused)
REFUSED_HOSTS = [
    ("loopback", "127.0.0.1", "loopback"),
    ("loopback-top", "127.255.255.254", "loopback"),
    ("private-10", "10.0.0.1", "private"),
    ("private-10-top", "10.255.255.255", "private"),
    ("private-172.16", "172.16.0.1", "private"),
    ("private-172.31", "172.31.255.254", "private"),
    ("private-192.168", "192.168.1.1", "private"),
    ("cloud-metadata", "169.254.169.254", "link-local"),
    ("cgnat-low", "100.64.0.1", "carrier-grade NAT"),
    ("cgnat-high", "100.127.255.254", "carrier-grade NAT"),
    ("unspecified", "0.0.0.0", "this network"),
    ("this-network", "0.1.2.3", "this network"),
    ("broadcast", "255.255.255.255", "broadcast"),
    ("multicast", "224.0.0.1", "multicast"),
    ("reserved", "240.0.0.1", "reserved"),
    ("documentation-v4", "192.0.2.10", "documentation"),
    ("benchmarking", "198.18.0.1", "benchmarking"),
    ("v6-loopback", "[::1]", "loopback"),
    ("v6-unspecified", "[::]", "unspecified"),
    ("v6-ula-fd00", "[fd00::1]", "unique local"),
    ("v6-ula-fc00", "[fc00::1]", "unique local"),
    ("v6-link-local", "[fe80::1]", "link-local"),
    ("v6-site-local", "[fec0::1]", "site-local"),
    ("v6-multicast", "[ff02::1]", "multicast"),
    ("v6-documentation", "[2001:db8::1]", "documentation"),
    ("v4-mapped-loopback", "[::ffff:127.0.0.1]", "IPv4-mapped form of 127.0.0.1 (loopback)"),
    ("v4-mapped-private", "[::ffff:10.0.0.1]", "IPv4-mapped form of 10.0.0.1 (private)"),
    ("v4-mapped-metadata-hex", "[::ffff:a9fe:a9fe]", "IPv4-mapped form of 169.254.169.254"),
    ("v4-translated", "[::ffff:0:7f00:1]", "IPv4-translated form of 127.0.0.1"),
    ("v4-compatible", "[::127.0.0.1]", "IPv4-compatible"),
    ("nat64-private", "[64:ff9b::a00:1]", "NAT64 form of 10.0.0.1 (private)"),
    ("nat64-loopback", "[64:ff9b::127.0.0.1]", "NAT64 form of 127.0.0.1"),
    ("6to4-loopback", "[2002:7f00:1::1]", "6to4 form of 127.0.0.1"),
    ("decimal", "2130706433", "loopback"),
    ("decimal-metadata", "2852039166", "link-local"),
    ("octal", "0177.0.0.1", "loopback"),
    ("octal-single", "017700000001", "loopback"),
    ("hex", "0x7f000001", "loopback"),
    ("hex-upper", "0X7F000001", "loopback"),
    ("hex-dotted", "0x7f.1", "loopback"),
    ("hex-octal-mix", "0x7f.0.0.01", "loopback"),
    ("short", "127.1", "loopback"),
    ("short-private", "10.1", "private"),
    ("short-three-part", "192.168.257", "private"),
    ("trailing-dot", "127.0.0.1.", "loopback"),
    ("ideographic-dots", "127\u30020\u30020\u30021", "loopback"),
    ("fullwidth-dots", "127\uff0e0\uff0e0\uff0e1", "loopback"),
    ("circled-digits", "\u2460\u2461\u2466.0.0.1", "loopback"),
    ("localhost", "localhost", "loopback"),
    ("circled-localhost", "\u24db\u24de\u24d2\u24d0\u24db\u24d7\u24de\u24e2\u24e3", "loopback"),
    ("localhost-subdomain", "api.localhost", "loopback"),
]


@pytest.mark.parametrize(
    ("host", "reason"), [case[1:] for case in REFUSED_HOSTS], ids=[c[0] for c in REFUSED_HOSTS]
)
def test_registration_refuses_non_public_ip_literals(host: str, reason: str) -> None:
    with pytest.raises(InvalidRequestError, match="not a public address") as caught:
        validate_endpoint_url(f"https://{host}/hook", STRICT)
    assert reason in caught.value.message


PUBLIC_URLS = [
    ("dns-name", "https://example.com/hook"),
    ("dns-name-port-query", "https://hooks.example.com:8443/in?team=a#frag"),
    ("idn", "https://bücher.example/hook"),
    ("public-v4", "https://8.8.8.8/"),
    ("just-outside-172.16/12", "https://172.32.0.1/"),
    ("just-below-172.16/12", "https://172.15.255.255/"),
    ("just-outside-cgnat", "https://100.128.0.1/"),
    ("public-v6", "https://[2606:4700:4700::1111]/"),
    ("v4-mapped-public", "https://[::ffff:8.8.8.8]/"),
    ("nat64-public", "https://[64:ff9b::808:808]/"),
    ("decimal-public", "https://134744072/"),  # 8.8.8.8
    ("uppercase-scheme-and-host", "HTTPS://EXAMPLE.COM/"),
    ("underscore-label", "https://my_service.example.com/"),
]


@pytest.mark.parametrize("url", [case[1] for case in PUBLIC_URLS], ids=[case[0] for case in PUBLIC_URLS])
def test_registration_accepts_public_targets_unchanged(url: str) -> None:
    assert validate_endpoint_url(url, STRICT) == url


MALFORMED_URLS = [
    ("user-and-password", "https://user:pass@example.com/", "user-info"),
    ("user-only", "https://user@example.com/", "user-info"),
    ("userinfo-hides-loopback", "https://example.com@127.0.0.1/", "user-info"),
    ("ftp", "ftp://example.com/", "scheme"),
    ("file", "file:///etc/passwd", "scheme"),
    ("gopher", "gopher://example.com:70/_GET", "scheme"),
    ("javascript", "javascript:alert(1)", "scheme"),
    ("data", "data:text/plain,hi", "scheme"),
    ("no-scheme", "//example.com/", "scheme"),
    ("http-not-allowed", "http://example.com/", "scheme must be https://"),
    ("no-host", "https:///hook", "host"),
    ("port-only", "https://:443/", "host"),
    ("port-zero", "https://example.com:0/", "port"),
    ("port-too-big", "https://example.com:65536/", "port"),
    ("port-not-number", "https://example.com:https/", "port"),
    ("port-empty", "https://example.com:/hook", "port"),
    ("port-empty-ipv6", "https://[2001:db8::1]:/hook", "port"),
    ("space", "https://exa mple.com/", "whitespace"),
    ("newline", "https://example.com/\r\nX-Injected: 1", "whitespace"),
    ("tab", "https://example.com/\t", "whitespace"),
    ("nul", "https://example.com/\x00", "control"),
    ("bidi-override", "https://example.com/\u202e", "control"),
    ("backslash-differential", "https://example.com\\@127.0.0.1/", "backslash"),
    ("percent-encoded-host", "https://127%2E0%2E0%2E1/", "not a valid host name"),
    ("bad-dotted-ipv4", "https://1.2.3.4.5/", "looks like an IPv4 address"),
    ("octet-too-big", "https://256.1.1.1/", "looks like an IPv4 address"),
    ("numeric-tld", "https://example.123/", "looks like an IPv4 address"),
    ("empty-label", "https://a..example.com/", "not a valid host name"),
    ("bad-ipv6", "https://[::1::2]/", "IPv6"),
    ("ipv6-zone-id", "https://[fe80::1%25eth0]/", "zone"),
    ("too-long", "https://example.com/" + "a" * 2030, "2048"),
]


@pytest.mark.parametrize(
    ("url", "rule"), [case[1:] for case in MALFORMED_URLS], ids=[case[0] for case in MALFORMED_URLS]
)
def test_registration_refuses_malformed_urls_naming_the_rule(url: str, rule: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        validate_endpoint_url(url, STRICT)
    assert rule in caught.value.message
    assert caught.value.status == 400


def test_http_is_accepted_only_when_the_deployment_allows_it() -> None:
    policy = TargetPolicy(allow_http=True, allowed_private_networks=())
    assert validate_endpoint_url("http://example.com/hook", policy) == "http://example.com/hook"
    with pytest.raises(InvalidRequestError, match="scheme"):
        validate_endpoint_url("http://example.com/hook", STRICT)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://127.255.255.254/",
        "http://[::ffff:127.0.0.1]:9000/",
        "http://2130706433/",
        "http://localhost:3000/",
    ],
)
def test_the_allow_list_lets_loopback_through(url: str) -> None:
    assert validate_endpoint_url(url, LOCAL) == url


def test_the_allow_list_lets_only_its_own_networks_through() -> None:
    with pytest.raises(InvalidRequestError, match="private"):
        validate_endpoint_url("http://10.0.0.1/", LOCAL)
    with pytest.raises(InvalidRequestError, match="loopback"):
        validate_endpoint_url("http://[::1]/", LOCAL)  # 127.0.0.0/8 says nothing about ::1


def test_registration_never_resolves_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", _forbidden("getaddrinfo"))
    assert validate_endpoint_url("https://resolves-to-10.example/", STRICT)


# -- the address rule ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        "1.1.1.1",
        "172.32.0.1",
        "100.128.0.1",
        "2606:4700:4700::1111",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
    ],
)
def test_public_addresses(address: str) -> None:
    assert is_public_address(address)
    assert is_public_address(ipaddress.ip_address(address))
    assert refusal_reason(address) is None


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.20.0.1",
        "192.168.0.1",
        "169.254.169.254",
        "100.100.100.200",  # Alibaba Cloud metadata, inside CGNAT
        "0.0.0.0",
        "255.255.255.255",
        "239.255.255.250",
        "203.0.113.5",
        "198.51.100.5",
        "::",
        "::1",
        "fd12:3456::1",
        "fe80::1%eth0",
        "ff05::2",
        "::ffff:192.168.0.1",
        "64:ff9b::a9fe:a9fe",
        "64:ff9b:1::1",
        "2002:c0a8:0001::1",
        "2001::1",  # Teredo
        "100::1",
    ],
)
def test_non_public_addresses(address: str) -> None:
    assert not is_public_address(address)
    assert refusal_reason(address)


def test_allow_list_matches_embedded_ipv4_forms_too() -> None:
    assert is_allowed_address("127.0.0.1", LOCAL)
    assert is_allowed_address("::ffff:127.0.0.1", LOCAL)
    assert not is_allowed_address("::1", LOCAL)
    assert not is_allowed_address("10.0.0.1", LOCAL)
    assert is_allowed_address("8.8.8.8", LOCAL)


INET_ATON_SPELLINGS = [
    "127.0.0.1", "127.1", "127.0.1", "0x7f.1", "0177.0.0.1", "2130706433", "0x7f000001", "0X7F.0.0.0x1",
    "017700000001", "1.2.3", "0", "00", "0x0", "255.255.255.255", "4294967295", "0.0xffffff",
    "256.1.1.1", "1.2.3.4.5", "08.0.0.1", "4294967296", "1..2", "0x100.1", "", "a.b.c.d",
]  # fmt: skip


@pytest.mark.parametrize("spelling", INET_ATON_SPELLINGS)
def test_ipv4_literal_parser_agrees_with_this_platforms_inet_aton(spelling: str) -> None:
    try:
        expected: ipaddress.IPv4Address | None = ipaddress.IPv4Address(socket.inet_aton(spelling))
    except OSError:
        expected = None
    assert parse_ipv4_literal(spelling) == expected


# -- delivery-time resolution ----------------------------------------------------------------------------


def _addrinfo(*addresses: str) -> Callable[..., list[tuple[Any, ...]]]:
    def fake(host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        infos: list[tuple[Any, ...]] = []
        for address in addresses:
            if ":" in address:
                infos.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0)))
            else:
                infos.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)))
        return infos

    return fake


def _forbidden(what: str) -> Callable[..., Any]:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"{what} must not be called")

    return fail


def test_a_name_resolving_to_a_private_address_is_refused() -> None:
    with pytest.raises(SsrfBlockedError, match=r"10\.0\.0\.7 \(private\)"):
        resolve_and_vet("internal.example.com", 443, STRICT, resolver=_addrinfo("10.0.0.7"))


def test_a_name_resolving_to_metadata_via_ipv6_mapping_is_refused() -> None:
    resolver = _addrinfo("::ffff:169.254.169.254", "fe80::1")
    with pytest.raises(SsrfBlockedError, match="resolves only to non-public addresses"):
        resolve_and_vet("rebind.example.com", 443, STRICT, resolver=resolver)


def test_a_name_resolving_to_public_and_private_keeps_only_the_public_address() -> None:
    resolver = _addrinfo("10.0.0.1", "93.184.216.34", "::1")
    vetted = resolve_and_vet("mixed.example.com", 443, STRICT, resolver=resolver)
    assert [str(address.ip) for address in vetted] == ["93.184.216.34"]
    assert vetted[0].sockaddr == ("93.184.216.34", 443)


def test_the_allow_list_applies_at_delivery_time() -> None:
    resolver = _addrinfo("::1", "127.0.0.1")
    assert [str(a.ip) for a in resolve_and_vet("localhost", 8080, LOCAL, resolver=resolver)] == ["127.0.0.1"]
    with pytest.raises(SsrfBlockedError):
        resolve_and_vet("localhost", 8080, STRICT, resolver=resolver)


def _no_such_name(*args: Any, **kwargs: Any) -> Any:
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def test_an_unresolvable_name_is_a_dns_error() -> None:
    with pytest.raises(DnsError, match="does not resolve"):
        resolve_and_vet("nope.invalid", 443, STRICT, resolver=_no_such_name)
    with pytest.raises(DnsError):
        resolve_and_vet("empty.example", 443, STRICT, resolver=_addrinfo())


def test_slow_resolution_is_bounded_by_the_timeout() -> None:
    import threading

    release = threading.Event()

    def slow(*args: Any, **kwargs: Any) -> Any:
        release.wait(5)
        return _addrinfo("93.184.216.34")(*args)

    try:
        with pytest.raises(DnsError, match="timed out"):
            resolve_and_vet("slow.example", 443, STRICT, timeout=0.05, resolver=slow)
    finally:
        release.set()


# -- the guarded session ---------------------------------------------------------------------------------


def test_guard_errors_are_not_os_errors_so_urllib3_and_requests_pass_them_through() -> None:
    assert not issubclass(SsrfBlockedError, OSError)
    assert not issubclass(DnsError, OSError)


def test_the_session_refuses_a_private_resolution_before_any_connect(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _forbidden("connect"))
    session = guarded_session(STRICT, pool_size=2, resolver=_addrinfo("10.0.0.1"))
    with pytest.raises(SsrfBlockedError) as caught:  # exactly our error: not wrapped by urllib3 or requests
        session.post("https://hooks.example.com/in", data=b"{}", timeout=1)
    assert type(caught.value) is SsrfBlockedError


def test_the_session_reports_unresolvable_names_as_dns_errors() -> None:
    session = guarded_session(STRICT, pool_size=1, resolver=_no_such_name)
    with pytest.raises(DnsError):
        session.post("https://nope.invalid/", data=b"", timeout=1)


def test_the_session_connects_only_to_the_vetted_address(monkeypatch: pytest.MonkeyPatch) -> None:
    resolver = _addrinfo("10.0.0.1", "93.184.216.34", "192.168.1.1")
    dialled: list[Any] = []

    def refuse(self: socket.socket, address: Any) -> None:
        dialled.append(address)
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    with pytest.raises(requests.ConnectionError):
        guarded_session(STRICT, pool_size=1, resolver=resolver).post(
            "https://mixed.example.com/", data=b"", timeout=1
        )
    assert dialled == [("93.184.216.34", 443)]


def test_the_session_is_hardened() -> None:
    session = guarded_session(STRICT, pool_size=4)
    assert isinstance(session, GuardedSession)
    assert session.trust_env is False
    assert set(session.adapters) == {"https://", "http://"}
    with pytest.raises(SsrfBlockedError, match="http://"):
        session.post("http://example.com/", data=b"", timeout=1)  # refused before any resolution
    with pytest.raises(SsrfBlockedError, match="proxies"):
        session.post(
            "https://example.com/", data=b"", timeout=1, proxies={"https": "http://proxy.example:3128"}
        )
    with pytest.raises(requests.exceptions.InvalidSchema):
        session.get("ftp://example.com/")
