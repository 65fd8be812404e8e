"""Settings that come from the environment: secrets and where outside systems are.

| variable | meaning |
| --- | --- |
| ONECALL_CONFIG | config file (default ./config.yaml) |
| REDIS_URL | Redis to use; unset: `onecall serve` starts an embedded redis-server keeping its data in instance/ |
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

    def with_redis(self, url: str) -> "Settings":
        return Settings(**{**self.__dict__, "redis_url": url})


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
    return Settings(
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
    )
