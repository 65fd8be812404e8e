"""A real Asterisk for the integration tier: its own configuration in a temporary folder,
generated from the sample in `deploy/asterisk/`, started in the foreground and killed or
restarted by the tests.

No SIP stack is built, so phones are Local channels: an agent's `asterisk_device` is
`Local/<extension>@fake-phones` (it rings, then answers and stays on the line), and a
citizen is a Local channel originated into the hotline context whose other half
(`citizen-phone`) is the handset the test presses keys on.
"""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "deploy" / "asterisk"
VERSION = "22.10.1"
# Where .ci/asterisk.sh builds it: the machine's cache, else the user's.
CACHES = (os.environ.get("ONECALL_ASTERISK_CACHE"), "/var/cache/onecall-asterisk",
          str(Path.home() / ".cache" / "onecall-asterisk"))

# Everything the sample dialplan and OneCall use; nothing that listens on a port of its own
# (chan_iax2, chan_unistim, res_pjsip...), so several of these can run on one machine.
MODULES = (
    "res_timing_timerfd", "res_musiconhold", "res_speech", "res_agi", "pbx_config", "app_dial",
    "app_confbridge", "bridge_softmix", "bridge_simple", "bridge_holding", "chan_bridge_media",
    "app_playback", "app_senddtmf", "app_stack", "app_userevent", "func_callerid", "func_channel",
    "func_logic", "func_strings", "func_global", "format_wav", "format_pcm", "format_sln",
    "codec_ulaw", "codec_alaw", "codec_a_mu", "codec_resample",
)

# The phones and the handset: test-only contexts appended to the sample dialplan. A phone
# rings PHONE_<ext>_RING seconds (a global the test may set over AMI), then answers and
# stays on the line until someone hangs up.
TEST_DIALPLAN = """
[fake-phones]
exten => _X.,1,NoOp(Fake phone ${EXTEN} rings)
 same => n,Ringing()
 same => n,Wait(${IF($["${GLOBAL(PHONE_${EXTEN}_RING)}" = ""]?1:${GLOBAL(PHONE_${EXTEN}_RING)})})
 same => n,Answer()
 same => n,Wait(3600)
 same => n,Hangup()

[citizen-phone]
exten => s,1,NoOp(Citizen handset: keys come from AMI PlayDTMF)
 same => n,Wait(3600)
 same => n,Hangup()
"""


def asterisk_prefix() -> Path:
    if os.environ.get("ONECALL_ASTERISK_PREFIX"):
        return Path(os.environ["ONECALL_ASTERISK_PREFIX"])
    prefixes = [Path(cache) / VERSION for cache in CACHES if cache]
    return next((prefix for prefix in prefixes if (prefix / "sbin" / "asterisk").is_file()), prefixes[0])


def asterisk_binary() -> Path | None:
    """The built Asterisk, or None when this machine has none (the tier is skipped)."""
    binary = asterisk_prefix() / "sbin" / "asterisk"
    return binary if binary.is_file() and os.access(binary, os.X_OK) else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def adapt_extensions(sample: str, agi_address: str) -> str:
    """The sample dialplan pointed at OneCall on loopback, with a fake phone as fallback."""
    text = sample.replace("agi://192.0.2.10:4573", f"agi://{agi_address}")
    text = re.sub(r"^ONECALL_FALLBACK = .*$", "ONECALL_FALLBACK = Local/1999@fake-phones", text, flags=re.M)
    assert f"agi://{agi_address}" in text, "the sample extensions.conf no longer names agi://192.0.2.10:4573"
    return text + TEST_DIALPLAN


def adapt_manager(sample: str, ami_port: int, user: str, secret: str, tester_secret: str) -> str:
    """The sample AMI user on loopback, plus the test's own user (keys, hang-ups, restarts)."""
    text = sample.replace("port = 5038", f"port = {ami_port}").replace("bindaddr = 0.0.0.0", "bindaddr = 127.0.0.1")
    text = text.replace("192.0.2.10/255.255.255.255", "127.0.0.1/255.255.255.255")
    text = text.replace("secret = change-me-long-random-secret", f"secret = {secret}")
    assert f"[{user}]" in text and f"port = {ami_port}" in text, "the sample manager.conf changed shape"
    return text + (f"\n[tester]\nsecret = {tester_secret}\ndeny = 0.0.0.0/0.0.0.0\n"
                   "permit = 127.0.0.1/255.255.255.255\nread = all\nwrite = all\n")


class RealAsterisk:
    """One Asterisk process over a config folder; `kill()` and `start()` again restart it."""

    def __init__(self, binary: Path, workdir: Path, *, agi_address: str, moh_dir: Path,
                 user: str = "onecall", secret: str = "onecall-it-secret") -> None:
        self.binary = binary
        self.workdir = workdir
        self.agi_address = agi_address
        self.moh_dir = moh_dir
        self.user, self.secret = user, secret
        self.tester_secret = "tester-it-secret"
        self.ami_port = free_port()
        self.process: subprocess.Popen | None = None
        self.starts = 0
        self._write_config()

    # -- configuration ----------------------------------------------------------------
    def _write_config(self) -> None:
        etc = self.workdir / "etc"
        for name in ("run", "log", "spool", "db", "lib", "etc"):
            (self.workdir / name).mkdir(parents=True, exist_ok=True)
        prefix = self.binary.parent.parent
        (etc / "asterisk.conf").write_text(
            "[directories]\n"
            f"astetcdir => {etc}\nastmoddir => {prefix}/lib/asterisk/modules\n"
            f"astvarlibdir => {self.workdir}/lib\nastdbdir => {self.workdir}/db\n"
            f"astkeydir => {self.workdir}/lib\nastdatadir => {prefix}/var/lib/asterisk\n"
            f"astagidir => {self.workdir}/lib\nastspooldir => {self.workdir}/spool\n"
            f"astrundir => {self.workdir}/run\nastlogdir => {self.workdir}/log\nastsbindir => {prefix}/sbin\n"
            "[options]\nverbose = 3\ndebug = 0\nnocolor = yes\n")
        (etc / "modules.conf").write_text(
            "[modules]\nautoload = no\n" + "".join(f"load => {m}.so\n" for m in MODULES))
        (etc / "logger.conf").write_text(
            "[general]\nqueue_limit = 100000\n[logfiles]\nfull => notice,warning,error,verbose,dtmf\n")
        (etc / "musiconhold.conf").write_text(f"[default]\nmode = files\ndirectory = {self.moh_dir}\n")
        (etc / "extensions.conf").write_text(
            adapt_extensions((SAMPLE / "extensions.conf").read_text(), self.agi_address))
        (etc / "manager.conf").write_text(adapt_manager(
            (SAMPLE / "manager.conf").read_text(), self.ami_port, self.user, self.secret, self.tester_secret))
        (etc / "confbridge.conf").write_text((SAMPLE / "confbridge.conf").read_text())

    # -- the process --------------------------------------------------------------------
    def start(self, timeout: float = 30.0) -> "RealAsterisk":
        self.starts += 1
        output = open(self.workdir / "log" / f"stdout-{self.starts}.log", "wb")
        self.process = subprocess.Popen(
            [str(self.binary), "-f", "-n", "-C", str(self.workdir / "etc" / "asterisk.conf")],
            stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        output.close()
        self._wait_listening(timeout)
        return self

    def _wait_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Asterisk exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.ami_port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"Asterisk's AMI did not listen within {timeout}s:\n{self.log_tail()}")

    def kill(self) -> None:
        """A crash: SIGKILL, no Hangup events, no Shutdown."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self, lines: int = 60) -> str:
        full = self.workdir / "log" / "full"
        source = full if full.exists() else self.workdir / "log" / f"stdout-{self.starts}.log"
        try:
            return "\n".join(source.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"
