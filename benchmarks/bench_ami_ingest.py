"""Benchmark: AMI ingest, parse + dispatch, against panoramisk's own parser.

    python benchmarks/bench_ami_ingest.py [--events N] [--redis-url URL]

The recorded stream is the real Asterisk traffic in ../shared/protocol/ami (the Asterisk
22.10.1 captures and the Asterisk 13 queue call), repeated until it holds at
least N events (default 50,000), cut into 4 KiB reads as a socket delivers them.

- panoramisk: its `AMIProtocol.data_received` (split, `Message.from_line`, response
  lookup) with a manager whose `dispatch` does nothing: its parser alone.
- OneCall: `OneCallAmiProtocol.data_received` (our parser) dispatching every event through
  the driver's real subscription table (`AsteriskEvents`) on a real Redis: Hangup looks up
  its channel, DeviceStateChange its agent, and so on.

Both run on one core, in the same process, alternately, best of --rounds. Prints events/s
of each and the ratio OneCall / panoramisk (target: OneCall >= 20,000 events/s).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from panoramisk.ami_protocol import AMIProtocol  # noqa: E402

from telephony.asterisk.ami import OneCallAmiProtocol  # noqa: E402
from telephony.asterisk.events import AsteriskEvents  # noqa: E402

PROTOCOL = ROOT.parent / "shared" / "protocol" / "ami"
# Not goami2's fixture: it runs two packets together, and panoramisk's reader raises on that.
CAPTURES = sorted(PROTOCOL.glob("asterisk22-local/*.rx.txt")) + [
    PROTOCOL / "callme" / "asterisk13_queue_call_events_only.txt",
]
READ_SIZE = 4096


def recorded_stream(min_events: int) -> tuple[bytes, int]:
    one_pass = b""
    for path in CAPTURES:
        data = path.read_bytes()
        if data.startswith(b"# source"):
            data = data.split(b"\n", 1)[1]
        if data.startswith(b"Asterisk Call Manager/"):  # each capture's own connection banner
            data = data.split(b"\n", 1)[1]
        one_pass += data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n").rstrip(b"\r\n") + b"\r\n\r\n"
    events_per_pass = one_pass.count(b"\r\nEvent: ") + one_pass.startswith(b"Event: ")
    repeats = -(-min_events // events_per_pass)
    return b"Asterisk Call Manager/11.0.0\r\n" + one_pass * repeats, events_per_pass * repeats


class _NullTransport:
    def write(self, data) -> None:
        pass

    def close(self) -> None:
        pass


class _PanoramiskFactory:
    save_stream = None
    events = 0

    def dispatch(self, message) -> None:
        self.events += 1

    def connection_lost(self, exc) -> None:  # the captures hold a restart's Shutdown event
        pass


class _OneCallFactory:
    def __init__(self, table: AsteriskEvents) -> None:
        self._dispatch = table.dispatch
        self.events = 0

    def dispatch_event(self, message) -> None:
        self.events += 1
        self._dispatch(message)

    def connection_lost(self, exc) -> None:
        pass


def feed(protocol, stream: bytes) -> float:
    started = time.perf_counter()
    receive = protocol.data_received
    for start in range(0, len(stream), READ_SIZE):
        receive(stream[start:start + READ_SIZE])
    return time.perf_counter() - started


def run_panoramisk(stream: bytes) -> tuple[float, int]:
    protocol = AMIProtocol()
    protocol.connection_made(_NullTransport())
    protocol.factory = _PanoramiskFactory()
    return feed(protocol, stream), protocol.factory.events


def run_onecall(stream: bytes, table: AsteriskEvents) -> tuple[float, int]:
    protocol = OneCallAmiProtocol()
    protocol.connection_made(_NullTransport())
    protocol.factory = _OneCallFactory(table)
    return feed(protocol, stream), protocol.factory.events


def dispatch_table(redis_url: str | None) -> tuple[AsteriskEvents, object]:
    from hotline.config import load_config
    from onecall.redis_server import find_or_start_redis
    from onecall.bootstrap import bootstrap
    from onecall.composition import build_application, build_asterisk_events
    from onecall.settings import load_settings

    url, embedded = (redis_url, None) if redis_url else find_or_start_redis("redis://127.0.0.1:6379/14")
    config = load_config(ROOT / "config.yaml")
    settings = load_settings(instance_dir=ROOT / "instance").with_redis(url)
    application = build_application(config, settings)
    application.redis.flushdb()
    bootstrap(application)  # agents synced into the empty database
    return build_asterisk_events(application), embedded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--redis-url")
    options = parser.parse_args()

    stream, expected = recorded_stream(options.events)
    table, embedded = dispatch_table(options.redis_url)
    try:
        panoramisk_best = onecall_best = float("inf")
        for _ in range(options.rounds):
            seconds, seen = run_panoramisk(stream)
            panoramisk_best = min(panoramisk_best, seconds)
            seconds, dispatched = run_onecall(stream, table)
            onecall_best = min(onecall_best, seconds)
        print(f"stream: {len(stream) / 1e6:.1f} MB, {expected} events from {len(CAPTURES)} real captures")
        print(f"panoramisk parser only:      {seen / panoramisk_best:10,.0f} events/s")
        print(f"OneCall parse + dispatch:    {dispatched / onecall_best:10,.0f} events/s")
        print(f"ratio OneCall / panoramisk:  {panoramisk_best / onecall_best:.2f}  (target: >= 20,000 events/s)")
    finally:
        if embedded is not None:
            embedded.stop()


if __name__ == "__main__":
    main()
