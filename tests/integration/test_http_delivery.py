"""WebhookSender against real servers on 127.0.0.1: outcomes, error kinds, limits, TLS and pooling."""

from __future__ import annotations

import ipaddress
import itertools
import socket
import ssl
import threading
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hookline.core.config import TargetPolicy
from hookline.core.models import AttemptOutcome, AttemptResult
from hookline.delivery.guarded_http import guarded_session
from hookline.delivery.sender import EXCERPT_LIMIT, WebhookSender, parse_retry_after
from tests.receivers import Receiver, RecordedRequest, Reply, reply
from tests.waiting import wait_until

LOCAL = TargetPolicy(allow_http=True, allowed_private_networks=(ipaddress.ip_network("127.0.0.0/8"),))
NO_PRIVATE = TargetPolicy(allow_http=True, allowed_private_networks=())
BODY = b'{"type":"order.created","timestamp":"2026-01-01T00:00:00Z","data":{"id":1}}'
HEADERS = {
    "webhook-id": "evt_123",
    "webhook-timestamp": "1767225600",
    "webhook-signature": "v1,c2lnbmF0dXJl",
    "content-type": "application/json",
    "user-agent": "Hookline-Webhooks/test",
}


@pytest.fixture
def sender() -> Iterator[WebhookSender]:
    webhook_sender = WebhookSender(LOCAL, timeout_seconds=2.0, pool_size=4)
    yield webhook_sender
    webhook_sender.close()


@pytest.fixture
def fast_sender() -> Iterator[WebhookSender]:
    webhook_sender = WebhookSender(LOCAL, timeout_seconds=0.5, pool_size=4)
    yield webhook_sender
    webhook_sender.close()


# -- outcomes --------------------------------------------------------------------------------------------


def test_2xx_succeeds_and_the_receiver_gets_exactly_what_was_sent(sender: WebhookSender) -> None:
    with Receiver(reply(200, b"thanks")) as receiver:
        result = sender.send(receiver.url + "/hooks/orders?team=a", BODY, HEADERS)
        [request] = receiver.requests

    assert result.outcome is AttemptOutcome.SUCCEEDED
    assert (result.status_code, result.failure, result.message) == (200, None, None)
    assert result.excerpt == "thanks"
    assert result.retry_after_seconds is None
    assert isinstance(result.latency_ms, int) and result.latency_ms >= 0
    assert (request.method, request.path, request.body) == ("POST", "/hooks/orders?team=a", BODY)
    for name, value in HEADERS.items():
        assert request.headers[name] == value
    assert request.headers["content-length"] == str(len(BODY))
    assert "cookie" not in request.headers and "authorization" not in request.headers


@pytest.mark.parametrize("status", [201, 202, 204, 299])
def test_every_2xx_is_success(sender: WebhookSender, status: int) -> None:
    with Receiver(reply(status)) as receiver:
        assert sender.send(receiver.url, BODY, HEADERS).outcome is AttemptOutcome.SUCCEEDED


def test_500_is_retried_with_its_excerpt(sender: WebhookSender) -> None:
    with Receiver(reply(500, b"database on fire", {"Retry-After": "30"})) as receiver:
        result = sender.send(receiver.url, BODY, HEADERS)
    assert result.outcome is AttemptOutcome.RETRY
    assert (result.status_code, result.failure, result.message) == (500, "http_status", "HTTP 500")
    assert result.excerpt == "database on fire"
    assert result.retry_after_seconds is None  # only 429 and 503 carry a usable Retry-After


@pytest.mark.parametrize("status", [400, 401, 404, 408, 422])
def test_4xx_other_than_410_is_retried(sender: WebhookSender, status: int) -> None:
    with Receiver(reply(status)) as receiver:
        result = sender.send(receiver.url, BODY, HEADERS)
    assert (result.outcome, result.failure, result.status_code) == (
        AttemptOutcome.RETRY,
        "http_status",
        status,
    )


def test_410_means_gone(sender: WebhookSender) -> None:
    with Receiver(reply(410, b"endpoint deleted")) as receiver:
        result = sender.send(receiver.url, BODY, HEADERS)
    assert result.outcome is AttemptOutcome.GONE
    assert (result.status_code, result.failure) == (410, "http_status")
    assert result.excerpt == "endpoint deleted"


def test_a_redirect_is_a_failure_and_is_never_followed(sender: WebhookSender) -> None:
    with Receiver() as target, Receiver() as redirector:
        redirector.responder = reply(302, headers={"Location": target.url + "/moved"})
        result = sender.send(redirector.url + "/hook", BODY, HEADERS)
        assert target.requests == []
        assert len(redirector.requests) == 1
    assert (result.outcome, result.status_code, result.failure) == (
        AttemptOutcome.RETRY,
        302,
        "http_status",
    )
    assert result.message == "HTTP 302 (redirects are not followed)"


def test_a_redirect_with_an_endless_body_is_not_read_to_its_end(sender: WebhookSender) -> None:
    endless = Reply(307, {"Location": "http://127.0.0.1:9/elsewhere"}, itertools.repeat(b"x" * 8192))
    with Receiver(lambda request: endless) as receiver:
        result = sender.send(receiver.url, BODY, HEADERS)
    # Read to its end, the body would have run into the deadline: a timeout, with no status.
    assert (result.status_code, result.failure) == (307, "http_status")
    assert len(result.excerpt) == EXCERPT_LIMIT


def test_429_retry_after_seconds_is_reported(sender: WebhookSender) -> None:
    with Receiver(reply(429, b"slow down", {"Retry-After": "7"})) as receiver:
        result = sender.send(receiver.url, BODY, HEADERS)
    assert (result.outcome, result.status_code, result.failure) == (
        AttemptOutcome.RETRY,
        429,
        "http_status",
    )
    assert result.retry_after_seconds == 7


def test_503_retry_after_http_date_is_reported(sender: WebhookSender) -> None:
    when = datetime.now(UTC) + timedelta(seconds=120)
    header = when.strftime("%a, %d %b %Y %H:%M:%S GMT")
    with Receiver(reply(503, headers={"Retry-After": header})) as receiver:
        result = sender.send(receiver.url, BODY, HEADERS)
    assert result.retry_after_seconds is not None
    assert 110 <= result.retry_after_seconds <= 120


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("7", 7.0),
        (" 120 ", 120.0),
        ("0", 0.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 60.0),
        ("Wed, 21 Oct 2015 07:26:00 GMT", 0.0),  # in the past: no wait
        ("-5", None),
        ("1.5", None),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    now = datetime(2015, 10, 21, 7, 27, tzinfo=UTC)
    assert parse_retry_after(header, now=now) == expected


# -- failures before an answer ---------------------------------------------------------------------------


def test_a_server_slower_than_the_timeout_is_a_timeout(fast_sender: WebhookSender) -> None:
    with Receiver(reply(200, delay=3.0)) as receiver:
        result = fast_sender.send(receiver.url, BODY, HEADERS)
    # Had the sender waited for the answer, this would be a 200.
    assert (result.outcome, result.failure, result.status_code) == (AttemptOutcome.RETRY, "timeout", None)
    assert result.message is not None and "0.5s" in result.message


@contextmanager
def dripping_server(prefix: bytes) -> Iterator[int]:
    """A raw server that sends ``prefix`` and then one more byte of an endless header line every 50 ms:
    every read succeeds quickly, so only an overall deadline can end the attempt."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            try:
                connection.sendall(prefix)
                while not stop.wait(0.05):
                    connection.sendall(b"x")
            except OSError:
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        listener.close()
        thread.join(timeout=5)


def send_bounded(sender: WebhookSender, url: str) -> AttemptResult:
    """``sender.send`` in a thread, so a sender with no overall deadline fails this test instead of hanging
    it: the dripping server would keep it reading for hours."""
    results: list[AttemptResult] = []
    thread = threading.Thread(target=lambda: results.append(sender.send(url, BODY, HEADERS)), daemon=True)
    thread.start()
    return wait_until(lambda: results[0] if results else None, 30, "the send returns (an overall deadline)")


def test_a_server_dripping_its_headers_cannot_outlast_the_deadline(fast_sender: WebhookSender) -> None:
    with dripping_server(b"HTTP/1.1 200 OK\r\nX-Slow: ") as port:
        result = send_bounded(fast_sender, f"http://127.0.0.1:{port}/")
    assert (result.outcome, result.failure) == (AttemptOutcome.RETRY, "timeout")


def test_a_2xx_whose_body_drips_still_succeeds_within_the_deadline(fast_sender: WebhookSender) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\nok"
    with dripping_server(head) as port:
        result = send_bounded(fast_sender, f"http://127.0.0.1:{port}/")
    assert (result.outcome, result.status_code) == (AttemptOutcome.SUCCEEDED, 200)
    assert result.excerpt.startswith("ok")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_connection_refused_is_a_connection_error(sender: WebhookSender) -> None:
    result = sender.send(f"http://127.0.0.1:{_closed_port()}/hook", BODY, HEADERS)
    assert (result.outcome, result.failure, result.status_code) == (
        AttemptOutcome.RETRY,
        "connection",
        None,
    )
    assert result.message == "connection refused"


def test_a_name_that_does_not_resolve_is_a_dns_error() -> None:
    def no_such_name(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    sender = WebhookSender(LOCAL, timeout_seconds=2.0, resolver=no_such_name)
    result = sender.send("http://hooks.does-not-exist.invalid/", BODY, HEADERS)
    assert (result.outcome, result.failure) == (AttemptOutcome.RETRY, "dns")
    assert result.message is not None and "does not resolve" in result.message


# -- the SSRF guard --------------------------------------------------------------------------------------


def test_loopback_is_blocked_without_an_allow_list() -> None:
    blocked = WebhookSender(NO_PRIVATE, timeout_seconds=2.0)
    with Receiver() as receiver:
        result = blocked.send(receiver.url + "/hook", BODY, HEADERS)
        assert receiver.requests == [] and receiver.connections == 0
    assert (result.outcome, result.failure, result.status_code) == (
        AttemptOutcome.RETRY,
        "ssrf_blocked",
        None,
    )
    assert result.message is not None and "loopback" in result.message


def test_a_name_resolving_to_loopback_is_blocked_at_connect_time() -> None:
    def rebinding(host: str, port: int, family: int, kind: int) -> Any:
        return socket.getaddrinfo("127.0.0.1", port, family, kind)

    blocked = WebhookSender(NO_PRIVATE, timeout_seconds=2.0, resolver=rebinding)
    with Receiver() as receiver:
        result = blocked.send(f"http://hooks.example.test:{receiver.port}/", BODY, HEADERS)
        assert receiver.connections == 0
    assert (result.outcome, result.failure) == (AttemptOutcome.RETRY, "ssrf_blocked")
    assert result.message is not None and "127.0.0.1 (loopback)" in result.message


def test_http_is_blocked_when_the_deployment_does_not_allow_it() -> None:
    https_only = WebhookSender(
        TargetPolicy(allow_http=False, allowed_private_networks=LOCAL.allowed_private_networks), 2.0
    )
    with Receiver() as receiver:
        result = https_only.send(receiver.url, BODY, HEADERS)
        assert receiver.connections == 0
    assert result.failure == "ssrf_blocked"


# -- limits and pooling ----------------------------------------------------------------------------------


def test_a_huge_response_is_cut_to_the_excerpt_without_buffering_it(sender: WebhookSender) -> None:
    huge = b"A" * (5 * 1024 * 1024)
    with Receiver(reply(200, huge)) as receiver:
        sender.send(receiver.url, BODY, HEADERS)  # warm up imports and the pool outside the measurement
        tracemalloc.start()
        try:
            result = sender.send(receiver.url, BODY, HEADERS)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert result.outcome is AttemptOutcome.SUCCEEDED
    assert len(result.excerpt.encode()) == EXCERPT_LIMIT
    assert peak < 1024 * 1024


def test_an_endless_response_is_cut_to_the_excerpt(sender: WebhookSender) -> None:
    with Receiver(lambda request: Reply(500, {}, itertools.repeat(b"0123456789abcdef"))) as receiver:
        result = sender.send(receiver.url, BODY, HEADERS)
    assert result.failure == "http_status"
    assert len(result.excerpt) == EXCERPT_LIMIT


def test_a_multibyte_character_cut_by_the_limit_is_dropped_not_mangled(sender: WebhookSender) -> None:
    body = b"a" * (EXCERPT_LIMIT - 1) + "é".encode() + b"tail"
    with Receiver(reply(200, body)) as receiver:
        result = sender.send(receiver.url, BODY, HEADERS)
    assert result.excerpt == "a" * (EXCERPT_LIMIT - 1)


def test_consecutive_sends_reuse_one_pooled_connection(sender: WebhookSender) -> None:
    with Receiver(reply(200, b"ok")) as receiver:
        results = [sender.send(receiver.url + f"/hook/{n}", BODY, HEADERS) for n in range(5)]
        assert receiver.connections == 1
        assert [request.connection for request in receiver.requests] == [1] * 5
    assert all(result.outcome is AttemptOutcome.SUCCEEDED for result in results)


def test_a_response_too_long_to_read_closes_its_connection_instead_of_pooling_it(
    sender: WebhookSender,
) -> None:
    with Receiver(reply(500, b"z" * (EXCERPT_LIMIT * 4))) as receiver:
        for _ in range(3):
            assert sender.send(receiver.url, BODY, HEADERS).status_code == 500
        assert receiver.connections == 3


# -- TLS -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pki:
    ca: Path
    localhost: tuple[Path, Path]  # cert, key signed by the CA for DNS:localhost and IP:127.0.0.1
    other_name: tuple[Path, Path]  # signed by the CA, but for other.example only
    self_signed: tuple[Path, Path]


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Certificate | None,
    issuer_key: ec.EllipticCurvePrivateKey,
    names: list[x509.GeneralName],
    ca: bool = False,
) -> x509.Certificate:
    now = datetime.now(UTC)
    issuer_name = issuer.subject if issuer is not None else _name(subject)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
        )
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    if not ca:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _write(
    directory: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
) -> tuple[Path, Path]:
    cert_path, key_path = directory / f"{stem}.pem", directory / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("Hookline Test CA", ca_key, None, ca_key, [], ca=True)
    ca_path, _ = _write(directory, "ca", ca, ca_key)

    def leaf(stem: str, names: list[x509.GeneralName]) -> tuple[Path, Path]:
        key = ec.generate_private_key(ec.SECP256R1())
        return _write(directory, stem, _certificate(stem, key, ca, ca_key, names), key)

    localhost = leaf(
        "localhost", [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    )
    other = leaf("other.example", [x509.DNSName("other.example")])
    self_key = ec.generate_private_key(ec.SECP256R1())
    self_cert = _certificate("localhost", self_key, None, self_key, [x509.DNSName("localhost")])
    return Pki(ca_path, localhost, other, _write(directory, "self-signed", self_cert, self_key))


def _server_context(
    cert_and_key: tuple[Path, Path], seen_names: list[str | None] | None = None
) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*cert_and_key)
    if seen_names is not None:

        def remember(sock: Any, name: str | None, ctx: ssl.SSLContext) -> None:
            seen_names.append(name)

        context.sni_callback = remember
    return context


def test_a_self_signed_certificate_is_a_tls_error(sender: WebhookSender, pki: Pki) -> None:
    with Receiver(ssl_context=_server_context(pki.self_signed)) as receiver:
        result = sender.send(receiver.url, BODY, HEADERS)
        assert receiver.requests == []
    assert (result.outcome, result.failure, result.status_code) == (AttemptOutcome.RETRY, "tls", None)
    assert result.message is not None and "certificate verify failed" in result.message


def test_https_to_a_plain_http_server_is_a_tls_error(sender: WebhookSender) -> None:
    with Receiver() as receiver:
        result = sender.send(f"https://127.0.0.1:{receiver.port}/", BODY, HEADERS)
        assert receiver.requests == []
    assert (result.outcome, result.failure) == (AttemptOutcome.RETRY, "tls")
    assert result.message == "TLS error: wrong version number"


def test_tls_verifies_the_url_host_name_while_connecting_to_the_vetted_address(pki: Pki) -> None:
    # The guard connects to the address it vetted, but SNI and the certificate check must still use the
    # URL's host name. Resolution is pinned to 127.0.0.1 so the test does not depend on /etc/hosts.
    looked_up: list[str] = []

    def pinned(host: str, port: int, family: int, kind: int) -> Any:
        looked_up.append(host)
        return socket.getaddrinfo("127.0.0.1", port, family, kind)

    session = guarded_session(LOCAL, pool_size=1, resolver=pinned)
    seen: list[str | None] = []
    with Receiver(reply(200, b"hello"), ssl_context=_server_context(pki.localhost, seen)) as receiver:
        response = session.post(
            f"https://localhost:{receiver.port}/", data=b"{}", verify=str(pki.ca), timeout=5
        )
        assert (response.status_code, response.text) == (200, "hello")
        again = session.post(f"https://localhost:{receiver.port}/", data=b"{}", verify=str(pki.ca), timeout=5)
        assert again.status_code == 200
        assert receiver.connections == 1  # the TLS connection to the pinned address is pooled
    assert seen == ["localhost"]
    assert looked_up == ["localhost"]  # resolved once, by the guard, for both requests

    with Receiver(ssl_context=_server_context(pki.other_name)) as receiver:
        with pytest.raises(requests.exceptions.SSLError, match="localhost"):
            session.post(f"https://localhost:{receiver.port}/", data=b"{}", verify=str(pki.ca), timeout=5)
        assert receiver.requests == []


def test_the_receiver_helper_records_requests(sender: WebhookSender) -> None:
    def echo(request: RecordedRequest) -> tuple[int, dict[str, str], bytes]:
        return 201, {"X-Echo": request.headers["webhook-id"]}, request.body[:5]

    with Receiver(echo) as receiver:
        posted_before = time.time()
        response = requests.post(
            receiver.url + "/r", data=b"hello world", headers={"Webhook-Id": "x1"}, timeout=5
        )
        [request] = receiver.wait_for_requests(1)
    assert (response.status_code, response.headers["x-echo"], response.content) == (201, "x1", b"hello")
    assert (request.method, request.path, request.body, request.connection) == (
        "POST",
        "/r",
        b"hello world",
        1,
    )
    assert posted_before <= request.received_at <= time.time()


@pytest.mark.parametrize(
    "headers",
    [{"X-Note": "日本"}, {"X-A\n": "1"}, {"X-B": "line\r\nbreak"}],
    ids=["non-latin-1-value", "newline-in-name", "crlf-in-value"],
)
def test_a_header_http_cannot_carry_is_a_failed_attempt_not_an_exception(headers: dict[str, str]) -> None:
    """Such headers are refused at registration; one stored before that rule (or a bug) must still end as
    this delivery's failed attempt, never as an exception that takes the batch down."""
    with Receiver() as receiver:
        result = WebhookSender(LOCAL, timeout_seconds=2).send(receiver.url, BODY, HEADERS | headers)
        assert (result.outcome, result.failure) == (AttemptOutcome.RETRY, "invalid_request")
        assert receiver.requests == []
