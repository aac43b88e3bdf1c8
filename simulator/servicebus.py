"""A small AMQP 1.0 broker that Microsoft's Service Bus SDK connects to as if it were Azure.

Built on Apache Qpid Proton (`python-qpid-proton`): TLS with a test CA made at start-up, SASL
ANONYMOUS, the `$cbs` put-token exchange (the token's signature is checked against the shared
access keys, so a rotated key is refused like on Azure), and one topic subscription whose
messages are delivered pre-settled (receive-and-delete) with 16-byte delivery tags (the SDK
turns them into lock-token UUIDs). Messages published while no receiver is attached wait in
the subscription, as on Azure.

Proton's container runs in its own thread; `publish`, `stop` and the key changes hand work to
it with an `EventInjector`. Imports nothing from the integration.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import hmac
import ipaddress
import secrets
import socket
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote_plus

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from proton import Condition, Delivery, Endpoint, Link, Message, SSLDomain
from proton.handlers import MessagingHandler
from proton.reactor import ApplicationEvent, Container, EventInjector

CBS = "$cbs"
_TAG_BYTES = 16  # the SDK reads every delivery tag as a UUID


@dataclass(frozen=True, slots=True)
class TestCertificates:
    """Files of a throw-away CA and the broker's certificate for 127.0.0.1."""

    ca_file: Path
    cert_file: Path
    key_file: Path


def make_certificates(directory: Path) -> TestCertificates:
    """A CA and a server certificate for 127.0.0.1/localhost that Python 3.14's checks accept.

    Python 3.14 (OpenSSL strict mode) wants a CA with critical basicConstraints and keyUsage
    and a server certificate with a subject alternative name and an authority key identifier.
    """
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    later = now + dt.timedelta(days=30)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ksem_zaptec test CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(later)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(later)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    files = TestCertificates(
        directory / "ca.pem", directory / "servicebus.pem", directory / "servicebus.key"
    )
    files.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return files


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def token_signature(key: str, resource: str, expiry: str) -> str:
    """The signature of a shared access signature: HMAC-SHA256 of the URL-encoded resource."""
    digest = hmac.new(
        key.encode(), f"{quote_plus(resource)}\n{expiry}".encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode()


class _Stopper:
    """A timer handler that ends the container's thread."""

    def on_timer_task(self, event: Any) -> None:
        event.container.stop()


class _BrokerHandler(MessagingHandler):
    """Everything the broker does, in Proton's thread."""

    def __init__(self, broker: ServiceBusBroker) -> None:
        super().__init__(prefetch=0, auto_accept=False, auto_settle=True)
        self.broker = broker
        self.acceptor: Any = None
        self.container: Any = None
        self.listen_socket: socket.socket | None = None
        self.transports: list[Any] = []
        self.refused: list[Link] = []
        self._stopper = _Stopper()
        self.subscribers: list[Link] = []
        self.cbs_replies: dict[Any, Link] = {}  # connection -> its $cbs reply link
        self.authorized: dict[Any, set[str]] = {}  # connection -> audiences with a good token

    # -- life cycle ---------------------------------------------------------------------

    def on_start(self, event: Any) -> None:
        broker = self.broker
        self.container = event.container
        domain = SSLDomain(SSLDomain.MODE_SERVER)
        certs = broker.certificates
        domain.set_credentials(str(certs.cert_file), str(certs.key_file), None)
        domain.set_peer_authentication(SSLDomain.ANONYMOUS_PEER)
        self.acceptor = event.container.listen(
            f"amqps://{broker.host}:{broker.port}", ssl_domain=domain
        )
        # Closed by `stop` after the thread ended: Proton may leave it open, and a restart
        # must listen on the same port again.
        self.listen_socket = self.acceptor._selectable._delegate  # noqa: SLF001
        event.container.selectable(broker.injector)
        broker.started.set()

    def on_connection_bound(self, event: Any) -> None:
        event.transport.sasl().allowed_mechs("ANONYMOUS")
        self.transports.append(event.transport)

    def close_sockets(self) -> None:
        """After the thread ended: close what Proton left open (listener, client sockets)."""
        if self.listen_socket is not None:
            self.listen_socket.close()
        for transport in self.transports:
            selectable = getattr(transport, "_selectable", None)
            sock = getattr(selectable, "_delegate", None)
            if isinstance(sock, socket.socket):
                sock.close()
        self.transports.clear()

    def on_stop_broker(self, event: Any) -> None:
        if self.acceptor is not None:
            self.acceptor.close()
        for transport in self.transports:
            if transport.connection is not None:
                transport.connection.close()
        # Let the close frames go out, then end the thread.
        self.container.schedule(0.2, self._stopper)

    # -- links --------------------------------------------------------------------------

    def on_link_opening(self, event: Any) -> None:
        link = event.link
        link.source.copy(link.remote_source)
        link.target.copy(link.remote_target)
        if link.is_sender:
            address = link.remote_source.address or ""
            if address == CBS:
                self.cbs_replies[link.connection] = link
            elif address.lower().endswith(self.broker.subscription_path.lower()):
                if self.authorized.get(link.connection):
                    self.subscribers.append(link)
                    self.broker.attaches += 1
                else:  # no accepted token on this connection: refuse, like Azure
                    self.refused.append(link)
        else:
            link.flow(10)

    def on_link_opened(self, event: Any) -> None:
        link = event.link
        if link in self.refused:
            self.refused.remove(link)
            link.condition = Condition("amqp:unauthorized-access", "No valid token for the entity")
            link.close()

    def on_link_closing(self, event: Any) -> None:
        self._forget(event.link)

    def on_connection_closing(self, event: Any) -> None:
        self._forget_connection(event.connection)

    def on_disconnected(self, event: Any) -> None:
        if event.connection is not None:
            self._forget_connection(event.connection)

    def _forget(self, link: Link) -> None:
        with contextlib.suppress(ValueError):
            self.subscribers.remove(link)

    def _forget_connection(self, connection: Any) -> None:
        self.subscribers = [link for link in self.subscribers if link.connection != connection]
        self.cbs_replies.pop(connection, None)
        self.authorized.pop(connection, None)

    # -- the $cbs put-token exchange -----------------------------------------------------

    def on_message(self, event: Any) -> None:
        link = event.link
        if (link.remote_target.address or "") != CBS:
            event.delivery.update(Delivery.REJECTED)
            event.delivery.settle()
            return
        message: Message = event.message
        props: dict[Any, Any] = message.properties or {}
        audience = str(props.get("name", ""))
        status, description = self._check_token(str(message.body or ""), audience)
        if status == 200:
            self.authorized.setdefault(link.connection, set()).add(audience)
        self.broker.token_checks.append(status)
        event.delivery.update(Delivery.ACCEPTED)
        event.delivery.settle()
        reply_link = self.cbs_replies.get(link.connection)
        if reply_link is not None:
            reply_link.send(
                Message(
                    correlation_id=message.id,
                    properties={"status-code": status, "status-description": description},
                    body=None,
                )
            )

    def _check_token(self, token: str, audience: str) -> tuple[int, str]:
        scheme, _, rest = token.partition(" ")
        if scheme != "SharedAccessSignature":
            return 401, "Unsupported token type"
        fields = {k: v[0] for k, v in parse_qs(rest, keep_blank_values=True).items()}
        key = self.broker.keys.get(fields.get("skn", ""))
        resource, expiry = fields.get("sr", ""), fields.get("se", "0")
        if key is None or not hmac.compare_digest(
            token_signature(key, resource, expiry), fields.get("sig", "")
        ):
            return 401, "InvalidSignature: the token signature is not valid"
        if not expiry.isdigit() or int(expiry) < time.time():
            return 401, "ExpiredToken"
        if not audience.lower().rstrip("/").endswith(self.broker.subscription_path.lower()):
            return 404, "The messaging entity could not be found"
        return 200, "OK"

    # -- publishing ---------------------------------------------------------------------

    def on_sendable(self, event: Any) -> None:
        self._flush()

    def on_publish(self, event: Any) -> None:
        self.broker.queue.append(event.subject)
        self._flush()

    def on_disconnect_all(self, event: Any) -> None:
        for transport in self.transports:
            if transport.connection is not None:
                transport.connection.close()
        self.subscribers.clear()
        self.cbs_replies.clear()
        self.authorized.clear()

    def on_transport_closed(self, event: Any) -> None:
        if event.connection is not None:
            self._forget_connection(event.connection)

    @staticmethod
    def _live(link: Link) -> bool:
        both = Endpoint.LOCAL_ACTIVE | Endpoint.REMOTE_ACTIVE
        return bool((link.state & both) == both and (link.connection.state & both) == both)

    def _flush(self) -> None:
        queue = self.broker.queue
        self.subscribers = [link for link in self.subscribers if self._live(link)]
        for link in self.subscribers:
            while queue and link.credit > 0:
                body = queue.popleft()
                message = Message(body=body, inferred=True, id=str(uuid.uuid4()))
                # Binary tags work; Proton's annotation says str.
                delivery = link.delivery(secrets.token_bytes(_TAG_BYTES))  # type: ignore[arg-type]
                link.stream(message.encode())
                link.advance()
                delivery.settle()  # pre-settled: receive-and-delete
                self.broker.delivered += 1


class ServiceBusBroker:
    """The broker for one topic subscription, listening on 127.0.0.1 with TLS."""

    def __init__(
        self,
        certificates: TestCertificates,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        namespace: str = "127.0.0.1",
        topic: str = "zaptec-observations",
        subscription: str = "ksem-zaptec-test",
        key_name: str = "sim-listener",
    ) -> None:
        """Prepare the broker (nothing listens before `start`)."""
        self.certificates = certificates
        self.host = host
        self.port = port or _free_port(host)
        self.namespace = namespace
        self.topic = topic
        self.subscription = subscription
        self.key_name = key_name
        self.keys: dict[str, str] = {key_name: secrets.token_urlsafe(32)}
        self.queue: deque[bytes] = deque()
        self.token_checks: list[int] = []
        self.attaches = 0
        self.delivered = 0
        self.injector = EventInjector()
        self.started = threading.Event()
        self._handler: _BrokerHandler | None = None
        self._container: Container | None = None
        self._thread: threading.Thread | None = None

    @property
    def subscription_path(self) -> str:
        """`{topic}/Subscriptions/{subscription}`, the end of every address the SDK uses."""
        return f"{self.topic}/Subscriptions/{self.subscription}"

    @property
    def running(self) -> bool:
        """Whether the broker accepts connections."""
        return self._thread is not None and self._thread.is_alive()

    def connection_details(self) -> dict[str, Any]:
        """What Zaptec's `messagingConnectionDetails` would answer for this subscription."""
        return {
            "Type": 1,
            "Host": self.namespace,
            "Port": self.port,
            "UseSSL": True,
            "Username": self.key_name,
            "Password": self.keys[self.key_name],
            "Topic": self.topic,
            "Subscription": self.subscription,
        }

    def start(self) -> None:
        """Listen (again, on the same port) in Proton's own thread."""
        if self.running:
            return
        self.injector = EventInjector()
        self.started.clear()
        self._handler = _BrokerHandler(self)
        self._container = Container(self._handler)
        self._container.container_id = "zaptec-sim-servicebus"
        self._thread = threading.Thread(
            target=self._container.run, name="servicebus-broker", daemon=True
        )
        self._thread.start()
        if not self.started.wait(10):
            raise RuntimeError("the Service Bus broker did not start")

    def stop(self) -> None:
        """Drop every connection and stop listening (the queue is kept)."""
        if not self.running:
            return
        self.injector.trigger(ApplicationEvent("stop_broker"))
        assert self._thread is not None  # noqa: S101 - running
        self._thread.join(10)
        self._thread = None
        if self._handler is not None:
            self._handler.close_sockets()

    def restart(self, down_for: float = 0.0) -> None:
        """Stop, wait `down_for` seconds, start again on the same port."""
        self.stop()
        time.sleep(down_for)
        self.start()

    def rotate_key(self) -> str:
        """A new shared access key: tokens signed with the old one are refused from now on."""
        self.keys[self.key_name] = secrets.token_urlsafe(32)
        return self.keys[self.key_name]

    def disconnect_all(self) -> None:
        """Close every client connection (the broker keeps listening)."""
        if self.running:
            self.injector.trigger(ApplicationEvent("disconnect_all"))

    def publish(self, body: bytes) -> None:
        """Put one message on the topic; it goes to the subscription's receiver, or waits."""
        if self.running:
            self.injector.trigger(ApplicationEvent("publish", subject=body))
        else:
            self.queue.append(body)
