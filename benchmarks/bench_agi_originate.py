"""Benchmark: from the AGI reply that completes a caller's intent to the Originate that
rings the agent, with hundreds of calls in progress.

    python benchmarks/bench_agi_originate.py [--in-progress 500] [--calls 300] [--redis-url URL]

Real parts over real sockets: the Asterisk driver (FastAGI server, AMI connection on
panoramisk, router in Redis, screen pop, Redis request list to the AMI owner) runs in this
process, as `onecall asterisk` would; a second process plays Asterisk:
`tests/fakes/ami_server.FakeAsterisk` for AMI, and FastAGI clients for the callers.

Setup: --in-progress callers choose water (no water agent is on duty), so they all hold
with music on hold and the driver polls the router for each of them every second. Then,
--calls times: one fines agent goes available, a new caller presses 1 (Korean) and 2
(fines); the clock starts when the reply carrying the '2' is written to the driver's socket
and stops when the fake Asterisk has read the Originate; the caller then hangs up.
Prints p50/p99/max (target p99 <= 5 ms) and, as the baseline of the same run, a Redis PING
round trip.
"""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import multiprocessing
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from hotline.config import load_config  # noqa: E402
from onecall.bootstrap import bootstrap  # noqa: E402
from onecall.composition import build_application, build_asterisk_driver  # noqa: E402
from onecall.redis_clients import client_for_url  # noqa: E402
from onecall.redis_server import find_or_start_redis  # noqa: E402
from onecall.settings import AmiSettings, load_settings, redis_settings  # noqa: E402
from tests.fakes.ami_server import FakeAsterisk, OriginateOutcome  # noqa: E402

KNOWN_CALLER = "+821012345678"
FINES_AGENT = "park.seojun"  # fines, not water


class Caller:
    """A FastAGI client: sends the channel environment, answers each command, presses
    keys when a menu prompt plays, and can hang up."""

    def __init__(self, port: int, uniqueid: str, keys: dict[str, str], on_key=None) -> None:
        self.port, self.uniqueid, self.keys, self.on_key = port, uniqueid, dict(keys), on_key
        self.holding = asyncio.Event()
        self.writer: asyncio.StreamWriter | None = None

    async def run(self) -> None:
        reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        env = {"agi_network": "yes", "agi_network_script": "hotline", "agi_request": "agi://127.0.0.1/hotline",
               "agi_channel": f"PJSIP/trunk-{self.uniqueid}", "agi_language": "ko", "agi_type": "PJSIP",
               "agi_uniqueid": self.uniqueid, "agi_version": "22.10.1", "agi_callerid": KNOWN_CALLER,
               "agi_calleridname": "unknown", "agi_context": "onecall-hotline", "agi_extension": "120"}
        self.writer.write("".join(f"{k}: {v}\n" for k, v in env.items()).encode() + b"\n")
        while True:
            line = await reader.readline()
            if not line:
                return
            self.writer.write(self.reply(line.decode().strip()).encode() + b"\n")

    def reply(self, command: str) -> str:
        if command.startswith("STREAM FILE"):
            for marker, key in list(self.keys.items()):
                if f"/{marker} " in command:
                    del self.keys[marker]
                    if self.on_key is not None and not self.keys:
                        self.on_key()  # the intent is complete as this reply leaves
                    return f"200 result={ord(key)} endpos=0"
            return "200 result=0 endpos=0"
        if command.startswith("SET MUSIC ON"):
            self.holding.set()
        if command == "HANGUP":
            return "200 result=1"
        return "200 result=0"

    def hang_up(self) -> None:
        if self.writer is not None:
            self.writer.write(b"HANGUP\n")
            self.writer.close()


def ping_round_trips(url: str, count: int = 2000) -> list[float]:
    client = client_for_url(url, decode_responses=False)
    client.ping()
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        client.ping()
        samples.append(time.perf_counter() - started)
    return samples


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def measure(routing, port: int, fake: FakeAsterisk, in_progress: int, calls: int) -> list[float]:
    background = [Caller(port, f"1800000000.{n}", {"language_menu": "1", "department_menu": "5"})
                  for n in range(in_progress)]
    tasks = [asyncio.create_task(caller.run()) for caller in background]
    for caller in background:
        await asyncio.wait_for(caller.holding.wait(), 60)

    arrived = threading.Event()
    clock = {}

    def originate_read(action):
        clock["stop"] = time.perf_counter()
        arrived.set()
        return OriginateOutcome("no-answer", delay=0.05)

    fake.on_originate = originate_read
    samples = []
    for n in range(calls):
        routing.set_status(FINES_AGENT, "available")
        arrived.clear()
        caller = Caller(port, f"1900000000.{n}", {"language_menu": "1", "department_menu": "2"},
                        on_key=lambda: clock.__setitem__("start", time.perf_counter()))
        task = asyncio.create_task(caller.run())
        if not await asyncio.get_running_loop().run_in_executor(None, arrived.wait, 10):
            raise SystemExit("no Originate within 10 s")
        samples.append(clock["stop"] - clock["start"])
        caller.hang_up()
        await task
        while routing.agent(FINES_AGENT).status == "reserved":
            await asyncio.sleep(0.01)
    for caller in background:
        caller.hang_up()
    await asyncio.gather(*tasks, return_exceptions=True)
    return samples


def asterisk_side(url: str, namespace: str, pipe, in_progress: int, calls: int) -> None:
    """The child process: the fake Asterisk and every caller, away from OneCall's GIL."""
    from routing import RoutingStore

    fake = FakeAsterisk(username="onecall", secret="bench")
    fake.start()
    try:
        pipe.send(fake.port)
        agi_port = pipe.recv()
        routing = RoutingStore(client_for_url(url), namespace=namespace)
        pipe.send(asyncio.run(measure(routing, agi_port, fake, in_progress, calls)))
    finally:
        fake.stop()


async def onecall_side(application, ami: AmiSettings, url: str, pipe) -> list[float]:
    driver = build_asterisk_driver(application, ami, redis_settings(url))
    await driver.start()
    pipe.send(driver.agi_port)
    try:
        while not pipe.poll():
            await asyncio.sleep(0.1)
        return pipe.recv()
    finally:
        await driver.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--in-progress", type=int, default=500)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--redis-url")
    options = parser.parse_args()

    url, embedded = (options.redis_url, None) if options.redis_url else find_or_start_redis("redis://127.0.0.1:6379/14")
    config = load_config(ROOT / "config.yaml")
    client_for_url(url, decode_responses=False).flushdb()
    ours, theirs = multiprocessing.Pipe()
    child = multiprocessing.get_context("spawn").Process(
        target=asterisk_side, args=(url, config.hotline.id, theirs, options.in_progress, options.calls))
    child.start()
    try:
        ami = AmiSettings(host="127.0.0.1", port=ours.recv(), username="onecall", secret="bench",
                          agi_host="127.0.0.1", agi_port=0)
        settings = dataclasses.replace(load_settings(instance_dir=ROOT / "instance").with_redis(url), ami=ami)
        application = build_application(config, settings)
        bootstrap(application)
        application.background.start()
        samples = asyncio.run(onecall_side(application, ami, url, ours))
        application.stop()
        pings = ping_round_trips(url)
        print(f"{options.calls} calls timed with {options.in_progress} calls holding "
              f"(OneCall in this process; Asterisk and callers in another)")
        print(f"AGI intent -> Originate read by Asterisk: p50 {percentile(samples, 0.5):.2f} ms   "
              f"p99 {percentile(samples, 0.99):.2f} ms   max {max(samples) * 1000:.2f} ms   (target p99 <= 5 ms)")
        print(f"baseline Redis PING round trip:          p50 {percentile(pings, 0.5):.3f} ms   "
              f"p99 {percentile(pings, 0.99):.3f} ms")
        print(f"p50 in PING round trips: {statistics.median(samples) / statistics.median(pings):.0f}x")
    finally:
        child.join(timeout=30)
        if embedded is not None:
            embedded.stop()


if __name__ == "__main__":
    main()
