"""Read the gateway's configuration once, into typed objects."""
from __future__ import annotations

import os
import re
import secrets
import tomllib
from dataclasses import dataclass, field
from datetime import date, time
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SERVICE_FILE = HERE / "service.toml"
DEFAULT_INSTANCE = HERE / "instance"
_DEADLINE = re.compile(r"^\s*(\d+)\s*(m|h|d|wd)\s*$")
_CONTENT_SID = re.compile(r"^HX[0-9a-fA-F]{32}$")


class ConfigError(RuntimeError):
    """The configuration cannot work; the message says which setting is wrong."""


@dataclass(frozen=True)
class Deadline:
    amount: int
    unit: str  # "m" minutes, "h" hours, "d" calendar days, "wd" working days

    @classmethod
    def parse(cls, text: str) -> "Deadline":
        match = _DEADLINE.match(text)
        if not match:
            raise ConfigError(f"deadline {text!r}: write it as 15m, 24h, 8d or 7wd")
        return cls(int(match.group(1)), match.group(2))


@dataclass(frozen=True)
class Agency:
    code: str
    name: str
    short_name: str = ""  # how messages to citizens name it: "Dinsos Kota Kupang"
    address: str = ""
    phone: str = ""
    self_approval: bool = False
    deadlines: dict[str, Deadline] = field(default_factory=dict)
    # Approval up the hierarchy (berjenjang): the levels by key, with the position each stands for,
    # and the order they approve in: "default", or a channel's own ("surat"). None: one level, any head.
    levels: dict[str, str] = field(default_factory=dict)
    chains: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # The answer letter (handlers/letters.py): the lines of its letterhead, where it is signed, and its
    # number: {n} the agency's counter of the year, {month} the month in Roman numerals, {year}.
    letterhead: tuple[str, ...] = ()
    city: str = "Kupang"
    letter_number: str = "{n}/{month}/{year}"
    # What complaints are about (jalan, air bersih, bansos/PKH, ...): key = name. Set at review; the queue
    # filters and the recap counts by it. None configured: no category is asked.
    categories: dict[str, str] = field(default_factory=dict)

    def chain(self, channel: str) -> tuple[str, ...]:
        """The levels a draft for a ticket of this channel goes up through, in turn; () for one level
        where any head approves."""
        return self.chains.get(channel) or self.chains.get("default", ())


@dataclass(frozen=True)
class Line:
    id: str
    name: str
    channel: str  # "sms" or "whatsapp"
    to: str       # the inbound address, or "*" for every other number of the channel
    agency: str
    keyword: str  # "" for a free-text line
    kind: str     # "pengaduan" or "informasi"
    deadline: Deadline
    sandbox_to: str = ""
    send_from: str = ""          # SMS lines: the number answers to manual-intake tickets go out from
    sms_fallback_from: str = ""  # WhatsApp lines: send by SMS from this number once the 24 h window closed
    template_sid: str = ""       # WhatsApp lines: else the approved template (ContentSid) that asks for a reply
    verify: Deadline | None = None  # a new ticket's review (Telaah) is due this long after receipt
    follow_up: Deadline | None = None  # then the disposition and the drafted answer, this long after the review


@dataclass(frozen=True)
class Service:
    agencies: dict[str, Agency]
    lines: tuple[Line, ...]
    # Holidays and cuti bersama the province declares, beside the national ones the holidays package knows.
    holidays: frozenset[date] = frozenset()

    def line_for(self, channel: str, to: str) -> Line | None:
        """Return the line an inbound address leads to."""
        fallback = None
        for line in self.lines:
            if line.channel != channel:
                continue
            if line.to == to:
                return line
            if line.to == "*" and fallback is None:
                fallback = line
        return fallback

    def line(self, line_id: str) -> Line | None:
        """Return the line with this id, or None (tickets registered by hand have none)."""
        return next((line for line in self.lines if line.id == line_id), None)

    def answered_from(self, line: Line) -> set[str]:
        """The line ids of the tickets whose messages to citizens may come from this line's number,
        so that a citizen writing to it may be answering one of them: its own; on an SMS line also
        tickets registered by hand ("", answered by SMS) and WhatsApp tickets answered by SMS
        from this number once their window closed."""
        ids = {line.id}
        if line.channel == "sms":
            ids.add("")
            ids.update(other.id for other in self.lines
                       if other.sms_fallback_from and self.line_for("sms", other.sms_fallback_from) == line)
        return ids


def load_service(path: Path) -> Service:
    """Load agencies and lines from a TOML file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"SERVICE_CONFIG {path}: {exc}") from exc
    agencies = {
        code: Agency(
            code=code,
            name=a["name"],
            short_name=a.get("short_name") or a["name"],
            address=a.get("address", ""),
            phone=a.get("phone", ""),
            self_approval=bool(a.get("self_approval", False)),
            deadlines={k: Deadline.parse(v) for k, v in a.get("deadlines", {}).items()},
            **_approval(code, a.get("approval", {})),
            letterhead=tuple(a.get("letterhead", ())) or (a["name"].upper(),),
            city=a.get("city", "Kupang"),
            letter_number=_letter_number(code, a.get("letter_number", "{n}/{month}/{year}")),
            categories={str(k): str(v) for k, v in a.get("categories", {}).items()},
        )
        for code, a in data.get("agencies", {}).items()
    }
    lines = []
    for raw in data.get("lines", []):
        if raw["agency"] not in agencies:
            raise ConfigError(f"line {raw['id']}: unknown agency {raw['agency']!r}")
        if raw["channel"] not in ("sms", "whatsapp"):
            raise ConfigError(f"line {raw['id']}: channel must be sms or whatsapp")
        template_sid = raw.get("template_sid", "")
        if template_sid and (raw["channel"] != "whatsapp" or not _CONTENT_SID.match(template_sid)):
            raise ConfigError(f"line {raw['id']}: template_sid is a WhatsApp line's ContentSid"
                              " (HX and 32 hex digits)")
        lines.append(Line(
            id=raw["id"], name=raw["name"], channel=raw["channel"], to=raw.get("to", "*"),
            agency=raw["agency"], keyword=raw.get("keyword", ""), kind=raw.get("kind", "pengaduan"),
            deadline=Deadline.parse(raw["deadline"]), sandbox_to=raw.get("sandbox_to", ""),
            send_from=raw.get("send_from", ""), sms_fallback_from=raw.get("sms_fallback_from", ""),
            template_sid=template_sid, verify=Deadline.parse(raw["verify"]) if raw.get("verify") else None,
            follow_up=Deadline.parse(raw["follow_up"]) if raw.get("follow_up") else None,
        ))
    return Service(agencies=agencies, lines=tuple(lines), holidays=_holidays(data.get("holidays", {})))


def _letter_number(agency: str, pattern: str) -> str:
    """A letter number's pattern, checked once: {n} is required, {month} and {year} may stand in it."""
    try:
        if "{n}" not in pattern:
            raise KeyError("n")
        pattern.format(n=1, month="XII", year=2026)
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(f"agency {agency}: letter_number {pattern!r} holds {{n}}, and may hold {{month}} "
                          f"and {{year}}, nothing else in braces ({exc})") from None
    return pattern


def _approval(agency: str, table: dict) -> dict:
    """An agency's [approval] table: levels = { key = "position" }, and the chains of keys, "default"
    and per channel."""
    levels = {str(k): str(v) for k, v in table.get("levels", {}).items()}
    chains = {}
    for name, chain in table.items():
        if name == "levels":
            continue
        if not isinstance(chain, list) or not chain or any(key not in levels for key in chain):
            raise ConfigError(f"agency {agency}: approval.{name} lists the keys of approval.levels, in order")
        chains[name] = tuple(chain)
    if levels and "default" not in chains:
        raise ConfigError(f"agency {agency}: approval needs a default = [...] chain beside its levels")
    return {"levels": levels, "chains": chains}


def _holidays(table: dict) -> frozenset[date]:
    """The [holidays] table: "yyyy-mm-dd" = "what it is"."""
    days = set()
    for day in table:
        try:
            days.add(date.fromisoformat(str(day)))
        except ValueError as exc:
            raise ConfigError(f"holidays: {day!r} is not a date (write it as 2026-12-31)") from exc
    return frozenset(days)


@dataclass(frozen=True)
class Settings:
    database_url: str
    redis_url: str
    secret_key: str
    public_base_url: str
    sandbox: bool
    twilio_account_sid: str
    twilio_auth_token: str
    twilio_api_base_url: str
    twilio_messaging_service_sid: str
    twilio_timeout: float
    retry_intervals: tuple[int, ...]
    media_dir: Path
    instance_path: Path
    proxy_count: int
    service: Service
    metrics_token: str = ""  # /metrics is off without it
    metrics_allow: tuple[IPv4Network | IPv6Network, ...] = ()  # addresses let in without the token
    log_format: str = "text"  # or json (logs.py)
    retention_years: int = 5  # personal data kept after a ticket is closed (handlers/retention.py)
    digest_at: time = time(7, 30)  # the morning digest, WITA, on working days (handlers/daily.py)
    escalate_after: Deadline = Deadline(1, "wd")  # overdue this long: reported to the agency's heads

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, instance_path: Path | None = None) -> "Settings":
        """Build settings from the environment (and .env when present); fail naming what is missing."""
        if env is None:
            from dotenv import dotenv_values

            # The .env of the directory the gateway is started from, else the project's; real
            # environment variables win over both.
            env_file = next((p for p in (Path.cwd() / ".env", HERE / ".env") if p.is_file()), None)
            env = {**(dotenv_values(env_file) if env_file else {}), **os.environ}
        env = {k: v for k, v in env.items() if v is not None}
        instance = Path(env.get("INSTANCE_PATH") or instance_path or DEFAULT_INSTANCE)
        sid, token = env.get("TWILIO_ACCOUNT_SID", ""), env.get("TWILIO_AUTH_TOKEN", "")
        sandbox = env.get("GATEWAY_SANDBOX", "") in ("1", "true", "yes") or not (sid or token)
        if not sandbox or (sid or token):
            missing = [name for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN") if not env.get(name)]
            if not sandbox:
                missing += [name for name in ("PUBLIC_BASE_URL", "SECRET_KEY") if not env.get(name)]
            if missing:
                raise ConfigError("missing required setting(s): " + ", ".join(missing))
        try:
            intervals = tuple(int(x) for x in env.get("SEND_RETRY_INTERVALS", "10,30,60,120,300").split(","))
            timeout = float(env.get("TWILIO_HTTP_TIMEOUT", "10"))
            proxies = int(env.get("PROXY_COUNT", "0"))
            retention = int(env.get("RETENTION_YEARS", "5"))
            if retention < 1:
                raise ValueError("RETENTION_YEARS must be 1 or more")
        except ValueError as exc:
            raise ConfigError(f"SEND_RETRY_INTERVALS / TWILIO_HTTP_TIMEOUT / PROXY_COUNT / RETENTION_YEARS: {exc}") \
                from exc
        try:
            digest_at = time.fromisoformat(env.get("DIGEST_AT", "07:30").strip())
        except ValueError as exc:
            raise ConfigError(f"DIGEST_AT: {exc} (write it as 07:30, WITA)") from exc
        try:
            escalate_after = Deadline.parse(env.get("ESCALATE_AFTER", "1wd"))
        except ConfigError as exc:
            raise ConfigError(f"ESCALATE_AFTER: {exc}") from exc
        try:
            allow = tuple(ip_network(item.strip(), strict=False)
                          for item in env.get("METRICS_ALLOW", "").split(",") if item.strip())
        except ValueError as exc:
            raise ConfigError(f"METRICS_ALLOW: {exc} (addresses or networks, comma-separated)") from exc
        return cls(
            database_url=env.get("DATABASE_URL") or f"sqlite:///{instance / 'gateway.db'}",
            redis_url=env.get("REDIS_URL") or "redis://localhost:6379/0",
            secret_key=env.get("SECRET_KEY") or _local_secret(instance),
            public_base_url=(env.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000").rstrip("/"),
            sandbox=sandbox,
            twilio_account_sid=sid,
            twilio_auth_token=token,
            twilio_api_base_url=(env.get("TWILIO_API_BASE_URL") or "https://api.twilio.com").rstrip("/"),
            twilio_messaging_service_sid=env.get("TWILIO_MESSAGING_SERVICE_SID", ""),
            twilio_timeout=timeout,
            retry_intervals=intervals,
            media_dir=Path(env.get("MEDIA_DIR") or instance / "media"),
            instance_path=instance,
            proxy_count=proxies,
            service=load_service(Path(env.get("SERVICE_CONFIG") or DEFAULT_SERVICE_FILE)),
            metrics_token=env.get("METRICS_TOKEN", "").strip(),
            metrics_allow=allow,
            log_format=_log_format(env.get("LOG_FORMAT", "")),
            retention_years=retention,
            digest_at=digest_at,
            escalate_after=escalate_after,
        )


def _log_format(value: str) -> str:
    value = value.strip().lower() or "text"
    if value not in ("text", "json"):
        raise ConfigError(f"LOG_FORMAT must be text or json, not {value!r}")
    return value


def _local_secret(instance: Path) -> str:
    """Keep one random key in the instance folder, so sandbox sessions survive restarts."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def prepare_metrics_dir() -> Path:
    """Let this machine's web processes and workers share their counters (prometheus-client's
    multiprocess mode): PROMETHEUS_MULTIPROC_DIR, by default the instance folder's metrics/. Call it
    before prometheus_client is imported (gunicorn.conf.py, worker.py).

    The folder is emptied only when none of the processes that wrote there lives (the whole gateway
    was stopped): removing a live or a recently ended process's counts would look to Prometheus
    like counters going back to zero.
    """
    folder = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR")
                  or Path(os.environ.get("INSTANCE_PATH") or DEFAULT_INSTANCE) / "metrics")
    folder.mkdir(parents=True, exist_ok=True)
    files = list(folder.glob("*.db"))  # <kind>_<pid>.db
    if not any(_alive(f.stem.rpartition("_")[2]) for f in files):
        for f in files:
            f.unlink(missing_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    return folder


def _alive(pid: str) -> bool:
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
