"""Providers behind one small Protocol: Twilio, and the local sandbox that only records."""
from __future__ import annotations

import functools
import logging
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Protocol

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

log = logging.getLogger(__name__)
# How far the provider's clock may be behind ours, and how many of a number's latest messages are
# read when a send's outcome is unknown (a citizen gets a few a day).
CLOCK_SKEW = timedelta(seconds=30)
SENT_LOOKUP_LIMIT = 50

# Twilio error codes an officer may meet, said plainly.
REASONS = {
    "21211": "Nomor tujuan tidak valid",
    "21408": "Pengiriman ke wilayah ini tidak diizinkan",
    "21610": "Nomor telah berhenti berlangganan (STOP)",
    "21614": "Nomor tujuan bukan nomor ponsel",
    "21617": "Pesan lebih dari 1600 karakter",
    "30003": "Ponsel tujuan tidak aktif atau di luar jangkauan",
    "30004": "Pesan diblokir oleh penerima",
    "30005": "Nomor tujuan tidak dikenal operator",
    "30006": "Nomor tujuan tidak dapat menerima SMS",
    "30007": "Pesan disaring operator",
    "30008": "Kesalahan tidak diketahui dari operator",
    "63016": "Di luar jendela 24 jam WhatsApp: perlu templat yang disetujui",
    # The WhatsApp template of the line (template_sid) does not match what WhatsApp approved.
    "63027": "Templat WhatsApp tidak ditemukan atau belum disetujui: periksa template_sid (service.toml)",
    "63028": "Templat WhatsApp tidak cocok dengan isiannya: periksa template_sid (service.toml)",
    "21656": "Templat WhatsApp tidak cocok dengan isiannya: periksa template_sid (service.toml)",
    "timeout": "Layanan pengirim tidak menjawab",
    "connection": "Layanan pengirim tidak dapat dihubungi",
}


def reason(code: str, fallback: str = "") -> str:
    """Say an error code in plain words."""
    return REASONS.get(code, fallback or f"Kesalahan {code}")[:255]


class SendError(Exception):
    """A send that did not happen; code is the provider's error code, or a word like 'timeout'."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.reason = reason(code, message)


class RetryableError(SendError):
    """Try again later: 5xx, 429, timeouts, connection errors."""


class UnknownOutcome(RetryableError):
    """The request reached the provider but no answer came back (a read timeout, a connection dropped
    after sending): the message may have gone. Ask the provider (sent_since) before sending it again."""


class PermanentError(SendError):
    """Trying again cannot help: invalid number, opted out, outside the WhatsApp window."""


def _never_sent(exc: requests.ConnectionError) -> bool:
    """Whether a connection error came before the request was written (refused, unreachable, no name)."""
    cause = exc.args[0] if exc.args else None
    return isinstance(getattr(cause, "reason", None), (NewConnectionError, ConnectTimeoutError))


@dataclass(frozen=True)
class SendResult:
    sid: str
    status: str


class Provider(Protocol):
    name: str

    def send(self, *, to: str, from_: str, body: str, status_callback: str | None,
             content_sid: str = "", content_variables: str = "") -> SendResult:
        """Hand one message to the provider: body, or the approved template content_sid with its
        variables (JSON) in body's place."""

    def received_since(self, since: datetime) -> Iterator[dict[str, str]]:
        """The messages citizens sent since then, as the fields their webhooks carry."""

    def sent_since(self, *, to: str, from_: str, body: str, since: datetime) -> list[SendResult]:
        """The messages with this body the provider took for this address since then (naive UTC),
        oldest first: what a send of unknown outcome may have become."""


class TwilioProvider:
    name = "twilio"

    def __init__(self, account_sid: str, auth_token: str, *, api_base_url: str,
                 messaging_service_sid: str = "", timeout: float = 10.0):
        self._account = (account_sid, auth_token)
        self._api_base_url = api_base_url
        self._timeout = timeout
        self.messaging_service_sid = messaging_service_sid

    @functools.cached_property
    def client(self) -> Client:
        """Made on first use: its API classes cost a process 7 MB, and web processes only queue sends."""
        http = TwilioHttpClient(timeout=self._timeout)
        # The environment's proxy and CA settings read once, not at every request (requests would
        # read the whole environment at each send).
        http.session.trust_env = False
        http.session.proxies = requests.utils.get_environ_proxies(self._api_base_url)
        http.session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        client = Client(*self._account, http_client=http)
        client.api.base_url = self._api_base_url
        return client

    def send(self, *, to: str, from_: str, body: str, status_callback: str | None,
             content_sid: str = "", content_variables: str = "") -> SendResult:
        kwargs = {"to": to}
        if content_sid:
            kwargs.update(content_sid=content_sid, content_variables=content_variables or None)
        else:
            kwargs["body"] = body
        if self.messaging_service_sid:
            kwargs["messaging_service_sid"] = self.messaging_service_sid
        else:
            kwargs["from_"] = from_
        if status_callback:
            kwargs["status_callback"] = status_callback
        try:
            message = self.client.messages.create(**kwargs)
        except TwilioRestException as exc:
            code = str(exc.code or exc.status)
            if exc.status >= 500 or exc.status == 429:
                raise RetryableError(code, exc.msg) from exc
            raise PermanentError(code, exc.msg) from exc
        except requests.ConnectTimeout as exc:  # before ReadTimeout's parent Timeout: nothing was sent
            raise RetryableError("connection", "cannot connect") from exc
        except requests.Timeout as exc:
            raise UnknownOutcome("timeout", "no answer in time") from exc
        except requests.ConnectionError as exc:
            if _never_sent(exc):
                raise RetryableError("connection", "cannot connect") from exc
            raise UnknownOutcome("connection", "connection dropped before the answer") from exc
        return SendResult(sid=message.sid, status=message.status or "queued")

    def sent_since(self, *, to: str, from_: str, body: str, since: datetime) -> list[SendResult]:
        # Listed by recipient, newest first, and filtered here: a message Twilio has only queued has
        # no DateSent yet, so the API's date filter would miss the very message looked for.
        since = since.replace(tzinfo=timezone.utc) - CLOCK_SKEW
        found = []
        for message in self.client.messages.list(to=to, limit=SENT_LOOKUP_LIMIT):
            created = message.date_created
            if created is not None and created < since:
                break
            if (message.direction or "").startswith("outbound") and (message.body or "") == body \
                    and (self.messaging_service_sid or message.from_ == from_):
                found.append(SendResult(sid=message.sid, status=message.status or "queued"))
        return found[::-1]

    def received_since(self, since: datetime) -> Iterator[dict[str, str]]:
        # Twilio keeps every message it received, whether or not the webhook took it (the gateway
        # was down, or answered 500 while the database was): read back, they can be stored late.
        for message in self.client.messages.stream(date_sent_after=since):
            if message.direction != "inbound":
                continue
            fields = {"MessageSid": message.sid, "AccountSid": message.account_sid, "From": message.from_,
                      "To": message.to, "Body": message.body or "", "NumMedia": str(message.num_media or 0),
                      "DateSent": message.date_sent.isoformat() if message.date_sent else ""}
            if fields["NumMedia"] != "0":
                for i, media in enumerate(message.media.list()):
                    fields[f"MediaUrl{i}"] = self.client.api.base_url + media.uri.removesuffix(".json")
                    fields[f"MediaContentType{i}"] = media.content_type
            yield fields


class SandboxProvider:
    """Record instead of send: the outbound row is the whole effect."""

    name = "sandbox"

    def send(self, *, to: str, from_: str, body: str, status_callback: str | None,
             content_sid: str = "", content_variables: str = "") -> SendResult:
        return SendResult(sid="SB" + uuid.uuid4().hex, status="delivered")

    def received_since(self, since: datetime) -> Iterator[dict[str, str]]:
        return iter(())

    def sent_since(self, *, to: str, from_: str, body: str, since: datetime) -> list[SendResult]:
        return []  # every send answers at once  # the sandbox phone feeds the ingest directly: nothing is kept elsewhere
