"""`onecall doctor`: is this deployment ready to take calls? One line per check.

Synchronous on purpose: it is a short-lived admin command, so the AMI check uses the
`asterisk-ami` client (a blocking socket) rather than the driver's asyncio connection. It
only logs in, lists channels and logs off: it never rings anyone.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass

import redis

from hotline.audio.render import plan_files, tts_voices
from onecall.redis_clients import sync_client
from onecall.settings import PLAIN

AMI_TIMEOUT_SECONDS = 5


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.name}: {self.detail}"


def check_redis(settings) -> Check:
    """`settings`: the `RedisSettings` in use, None when none is configured."""
    if settings is None:
        return Check("redis", True, "none configured; `onecall serve` starts an embedded one")
    try:
        sync_client(settings, socket_timeout=2, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        return Check("redis", False, f"{_where(settings)} does not answer: {exc}")
    return Check("redis", True, f"{_where(settings)} answers")


def _where(settings) -> str:
    return settings.url if settings.kind == PLAIN else f"{settings.url} ({settings.kind})"


def check_prompt_audio(config) -> Check:
    wanted, _ = plan_files(config.catalog, tts_voices(config))
    audio_dir = config.prompt_audio_dir
    missing = [f.relative_path for f in wanted if not (audio_dir / f.relative_path).is_file()]
    if missing:
        return Check("prompt audio", False, f"{len(missing)} of {len(wanted)} files missing in {audio_dir} "
                                            f"(e.g. {missing[0]}); run `onecall prompts build`")
    return Check("prompt audio", True, f"{len(wanted)} files in {audio_dir}")


def check_espeak() -> Check:
    found = shutil.which("espeak-ng")
    if found is None:
        return Check("espeak-ng", False, "not installed: apt-get install espeak-ng (needed by `onecall prompts build`)")
    return Check("espeak-ng", True, found)


def check_ami(ami) -> Check:
    """Log in with the configured user and list channels (what the driver needs at start)."""
    from asterisk.ami import AMIClient, SimpleAction

    where = f"{ami.host}:{ami.port} as {ami.username}"
    client = AMIClient(address=ami.host, port=ami.port, timeout=AMI_TIMEOUT_SECONDS)
    try:
        client.connect()
    except OSError as exc:
        return Check("asterisk AMI", False, f"cannot connect to {ami.host}:{ami.port}: {exc}")
    try:
        login = client.login(username=ami.username, secret=ami.secret).response
        if login is None or login.is_error():
            reason = login.keys.get("Message") if login is not None else "no answer"
            return Check("asterisk AMI", False, f"{where}: login refused ({reason}); check ONECALL_AMI_USER, "
                                                f"ONECALL_AMI_SECRET and manager.conf")
        listing = client.send_action(SimpleAction("CoreShowChannels")).response
        if listing is None or listing.is_error():
            reason = listing.keys.get("Message") if listing is not None else "no answer"
            return Check("asterisk AMI", False, f"{where}: CoreShowChannels refused ({reason}); the user needs "
                                                f"write=originate,call,reporting")
        client.logoff()
        return Check("asterisk AMI", True, f"{where}: logged in, channel list readable")
    finally:
        client.disconnect()


def run_checks(config, settings) -> list[Check]:
    checks = [Check("config", True, f"{config.source}: {len(config.agents)} agents, {len(config.skills)} skills"),
              check_redis(settings.redis), check_espeak(), check_prompt_audio(config)]
    if settings.ami is not None:
        checks.append(check_ami(settings.ami))
        devices = sum(1 for agent in config.agents if agent.asterisk_device)
        checks.append(Check("agent phones", devices > 0,
                            f"{devices} of {len(config.agents)} agents have an asterisk_device"))
    return checks
