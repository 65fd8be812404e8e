"""Settings that come from the environment: secrets and where outside systems are.

| variable | meaning |
| --- | --- |
| ONECALL_CONFIG | config file (default ./config.yaml) |
| REDIS_URL | Redis to use (`redis://`, `rediss://` for TLS, `redis+sentinel://` / `rediss+sentinel://` for Sentinel, see `RedisSettings`); unset: `onecall serve` starts an embedded redis-server keeping its data in instance/ |
| REDIS_CLUSTER | `1`: REDIS_URL names one node of a Redis Cluster (default `0`) |
| ONECALL_PUBLIC_URL | base URL Twilio uses to reach OneCall (signatures are checked against it) |
| TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN | the Twilio account (the token also checks webhook signatures) |
| TWILIO_API_BASE_URL | Twilio REST API base (default https://api.twilio.com) |
| TWILIO_API_KEY, TWILIO_API_SECRET | an API key of the account: signs the desk softphone's Voice access tokens |
| TWILIO_TWIML_APP_SID | the TwiML app (AP...) the softphone's Voice grant names |
| ONECALL_API_TOKEN | bearer token of the REST API |
| ONECALL_SECRET_KEY | signs agent desktop sessions |
| ONECALL_SCREENPOP_URL, ONECALL_SCREENPOP_SECRET | one more screen-pop webhook |
| ONECALL_AMI_HOST | Asterisk to drive over AMI; unset: no Asterisk |
| ONECALL_AMI_PORT, ONECALL_AMI_USER, ONECALL_AMI_SECRET | its manager port (5038), user (onecall) and secret |
| ONECALL_AGI_HOST, ONECALL_AGI_PORT | where the FastAGI server listens (127.0.0.1:4573) |
| ONECALL_AGI_ALLOW | addresses (or networks) FastAGI connections are accepted from, comma-separated; default: the addresses ONECALL_AMI_HOST resolves to, and loopback |

Left unset, the auth token, API token and secret key of a demo run are generated once
and kept in `instance/secrets.json` (mode 0600) so `onecall call` and the server agree.
"""
from __future__ import annotations

import ipaddress
import json
import os
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from hotline.errors import ConfigInvalid

DEMO_ACCOUNT_SID = "AC" + "0" * 32
LOOPBACK = ("127.0.0.1/32", "::1/128")


@dataclass(frozen=True)
class Settings:
    config_path: str
    redis_url: str | None
    public_url: str | None
    twilio_account_sid: str
    twilio_auth_token: str
    twilio_api_base_url: str | None
    api_token: str
    secret_key: str
    screenpop_url: str | None
    screenpop_secret: str | None
    demo_secrets: bool
    ami: "AmiSettings | None" = None
    twilio_api_key: str | None = None  # with the secret and the TwiML app: the desk's softphone
    twilio_api_secret: str | None = None
    twilio_twiml_app_sid: str | None = None

    redis_cluster: bool = False  # REDIS_CLUSTER: REDIS_URL names one node of a cluster

    def with_redis(self, url: str) -> "Settings":
        return Settings(**{**self.__dict__, "redis_url": url})

    @property
    def redis(self) -> "RedisSettings | None":
        """Where Redis is and how to reach it; None: none configured (an embedded one is started)."""
        return redis_settings(self.redis_url, self.redis_cluster) if self.redis_url else None


PLAIN, SENTINEL, CLUSTER = "plain", "sentinel", "cluster"
SENTINEL_SCHEMES = {"redis+sentinel": False, "rediss+sentinel": True}  # scheme -> TLS
DEFAULT_SENTINEL_PORT = 26379


@dataclass(frozen=True)
class RedisSettings:
    """REDIS_URL and REDIS_CLUSTER, validated.

    - plain: `redis://[[user]:password@]host[:port][/db]`, `rediss://...` (TLS), `unix:///path.sock?db=0`;
    - sentinel: `redis+sentinel://[[user]:password@]host:port,host:port/mastername[/db]`
      (`rediss+sentinel://` for TLS to the sentinels and the primary; the credentials are
      the primary's, the sentinels are asked without any);
    - cluster: a plain URL naming one node, with REDIS_CLUSTER=1.
    """

    url: str
    kind: str = PLAIN
    sentinels: tuple[tuple[str, int], ...] = ()
    master: str | None = None
    db: int = 0
    username: str | None = None
    password: str | None = None
    tls: bool = False


def redis_settings(url: str, cluster: bool = False) -> RedisSettings:
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme in SENTINEL_SCHEMES:
        if cluster:
            raise _redis_invalid("REDIS_CLUSTER", "is 1 but REDIS_URL names Sentinel: choose one")
        return _sentinel_settings(url, SENTINEL_SCHEMES[scheme])
    if scheme not in ("redis", "rediss", "unix"):
        raise _redis_invalid("REDIS_URL", f"{_redacted(url)!r} is not a redis://, rediss://, unix://, "
                                          f"redis+sentinel:// or rediss+sentinel:// URL")
    if cluster and scheme == "unix":
        raise _redis_invalid("REDIS_CLUSTER", "is 1 but REDIS_URL is a unix socket: name one cluster node host:port")
    return RedisSettings(url=url, kind=CLUSTER if cluster else PLAIN, tls=scheme == "rediss")


def _sentinel_settings(url: str, tls: bool) -> RedisSettings:
    parts = urlsplit(url)
    where = parts.netloc.rsplit("@", 1)[-1]
    path = [piece for piece in parts.path.split("/") if piece]
    if not where or not path or len(path) > 2:
        raise _redis_invalid("REDIS_URL", f"{_redacted(url)!r}: a Sentinel URL is "
                                          f"redis+sentinel://host:port,host:port/mastername[/db]")
    return RedisSettings(url=url, kind=SENTINEL, sentinels=tuple(_host_port(p) for p in where.split(",")),
                         master=unquote(path[0]), db=_database(path[1] if len(path) > 1 else "0"),
                         username=unquote(parts.username) if parts.username else None,
                         password=unquote(parts.password) if parts.password else None, tls=tls)


def _host_port(text: str) -> tuple[str, int]:
    """`host:port`, `[v6]:port` or `host` (port 26379) of one sentinel."""
    host, colon, port = text.strip().rpartition(":")
    if not colon or host.count(":") and not host.endswith("]"):  # no port (a bare IPv6 needs brackets)
        host, port = text.strip(), str(DEFAULT_SENTINEL_PORT)
    host = host.strip("[]")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise _redis_invalid("REDIS_URL", f"{text!r} is not a Sentinel host:port")
    return host, int(port)


def _database(text: str) -> int:
    if not text.isdigit():
        raise _redis_invalid("REDIS_URL", f"database {text!r} of the Sentinel URL is not a number")
    return int(text)


def _redacted(url: str) -> str:
    """The URL without its password, for error messages."""
    parts = urlsplit(url)
    return url.replace(f":{parts.password}@", ":***@") if parts.password else url


def _redis_invalid(variable: str, reason: str) -> ConfigInvalid:
    return ConfigInvalid("environment", [(variable, reason)])


def _flag(env, name: str) -> bool:
    value = (env.get(name) or "0").strip().lower()
    if value not in ("0", "1", "true", "false", "yes", "no"):
        raise _redis_invalid(name, f"{value!r} is not 0 or 1")
    return value in ("1", "true", "yes")


@dataclass(frozen=True)
class AmiSettings:
    host: str
    port: int
    username: str
    secret: str
    agi_host: str
    agi_port: int
    # Networks FastAGI connections are accepted from (an address is a network of one).
    agi_allow: tuple[str, ...] = LOOPBACK


def _ami_settings(env) -> AmiSettings | None:
    host = env.get("ONECALL_AMI_HOST")
    if not host:
        return None
    return AmiSettings(
        host=host,
        port=int(env.get("ONECALL_AMI_PORT") or 5038),
        username=env.get("ONECALL_AMI_USER") or "onecall",
        secret=env.get("ONECALL_AMI_SECRET") or "",
        agi_host=env.get("ONECALL_AGI_HOST") or "127.0.0.1",
        agi_port=int(env.get("ONECALL_AGI_PORT") or 4573),
        agi_allow=agi_allow_list(env.get("ONECALL_AGI_ALLOW"), host),
    )


def agi_allow_list(configured: str | None, ami_host: str) -> tuple[str, ...]:
    """ONECALL_AGI_ALLOW as networks; unset: the Asterisk's own addresses and loopback
    (only the Asterisk OneCall drives may run its FastAGI scripts)."""
    if configured and configured.strip():
        return tuple(_network(part.strip()) for part in configured.split(",") if part.strip())
    return tuple(dict.fromkeys((*_resolved(ami_host), *LOOPBACK)))


def _network(text: str) -> str:
    try:
        return str(ipaddress.ip_network(text, strict=False))
    except ValueError:
        raise ConfigInvalid("environment", [("ONECALL_AGI_ALLOW", f"{text!r} is not an IP address or network")]) from None


def _resolved(host: str) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror:
        return []  # the AMI connection will say the host is unknown; FastAGI still accepts loopback
    return [str(ipaddress.ip_network(info[4][0].split("%")[0])) for info in infos]


def _instance_secrets(instance_dir: Path) -> dict:
    path = instance_dir / "secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    instance_dir.mkdir(parents=True, exist_ok=True)
    generated = {
        "twilio_auth_token": secrets.token_hex(16),
        "api_token": secrets.token_urlsafe(24),
        "secret_key": secrets.token_hex(32),
    }
    path.touch(mode=0o600)
    path.write_text(json.dumps(generated, indent=2))
    return generated


def load_settings(environ: dict | None = None, instance_dir: str | Path = "instance") -> Settings:
    env = os.environ if environ is None else environ
    needs_demo = not all(env.get(name) for name in ("TWILIO_AUTH_TOKEN", "ONECALL_API_TOKEN", "ONECALL_SECRET_KEY"))
    demo = _instance_secrets(Path(instance_dir)) if needs_demo else {}
    settings = Settings(
        config_path=env.get("ONECALL_CONFIG", "config.yaml"),
        redis_url=env.get("REDIS_URL") or None,
        public_url=(env.get("ONECALL_PUBLIC_URL") or "").rstrip("/") or None,
        twilio_account_sid=env.get("TWILIO_ACCOUNT_SID") or DEMO_ACCOUNT_SID,
        twilio_auth_token=env.get("TWILIO_AUTH_TOKEN") or demo["twilio_auth_token"],
        twilio_api_base_url=env.get("TWILIO_API_BASE_URL") or None,
        api_token=env.get("ONECALL_API_TOKEN") or demo["api_token"],
        secret_key=env.get("ONECALL_SECRET_KEY") or demo["secret_key"],
        screenpop_url=env.get("ONECALL_SCREENPOP_URL") or None,
        screenpop_secret=env.get("ONECALL_SCREENPOP_SECRET") or None,
        demo_secrets=needs_demo,
        ami=_ami_settings(env),
        twilio_api_key=env.get("TWILIO_API_KEY") or None,
        twilio_api_secret=env.get("TWILIO_API_SECRET") or None,
        twilio_twiml_app_sid=env.get("TWILIO_TWIML_APP_SID") or None,
        redis_cluster=_flag(env, "REDIS_CLUSTER"),
    )
    if settings.redis_cluster and not settings.redis_url:
        raise _redis_invalid("REDIS_CLUSTER", "is 1 but REDIS_URL is unset: name one node of the cluster")
    settings.redis  # validated here, once, before anything connects
    return settings
