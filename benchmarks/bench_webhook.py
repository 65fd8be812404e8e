"""Benchmark: a Twilio webhook turn on gunicorn vs a bare Flask endpoint on gunicorn.

    python3 benchmarks/bench_webhook.py [--seconds 5] [--concurrency 8] [--rounds 2] [--threads 16]

Redis: REDIS_URL, else redis://127.0.0.1:6379/13 if it answers, else a private embedded
redis-server. That database is flushed (FLUSHDB) before and after the run.

Two gunicorn servers run on free loopback ports with the same settings (worker class
gthread, 2 workers with --threads each as `onecall serve` runs by default, no access log):

* real: the OneCall app (`build_web_process` on that Redis, a known Twilio auth
  token, no public URL), built in each worker by `real_app()` below;
* bare: a Flask app whose only route, `POST /twilio/voice`, returns a constant
  `<Response><Say>hi</Say></Response>` as text/xml.

The load is the first turn of an incoming call: `POST /twilio/voice` with every form
parameter Twilio sends with one (27, as listed in ../shared/protocol/twilio/webhooks.md), a
fresh CallSid per request, and a valid X-Twilio-Signature for the URL of the
real server. Every request is built and signed before the clock starts, and the bare server
is sent byte-for-byte the same requests, so the client costs the same for both. Load comes
from --concurrency client processes, each with one keep-alive connection sending requests
back to back (a closed loop). The measurements alternate (bare, real, bare, real, ...).

Prints requests/s and p50/p99 latency of each, and the ratio real/bare (target >= 0.6).
Also printed, to read the numbers on a shared machine: the CPU time the server's workers
used per request (from /proc, Linux only) and the CPU the load clients used, in cores.
A sample turn must be 200 text/xml with a <Gather> (and a forged signature must get 403)
or the run stops before measuring anything. Runs ~30 s with the defaults.
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

LOCAL = "redis://127.0.0.1:6379/13"
ACCOUNT_SID = "AC" + "be" * 16
AUTH_TOKEN = "bench-auth-token-0123456789abcdef"
PATH = "/twilio/voice"
BARE_TWIML = "<Response><Say>hi</Say></Response>"
WORKERS = 2
TARGET = 0.6

# Environment handed to the gunicorn workers (read by the app factories below).
ENV_REDIS = "ONECALL_BENCH_REDIS_URL"
ENV_BASE = "ONECALL_BENCH_BASE_URL"
ENV_READY = "ONECALL_BENCH_READY_DIR"


# -- the two apps, built in each gunicorn worker ---------------------------------------------
def _mark_ready() -> None:
    ready_dir = os.environ.get(ENV_READY)
    if ready_dir:
        Path(ready_dir, str(os.getpid())).touch()


def real_app():
    """gunicorn 'benchmarks.bench_webhook:real_app()': the OneCall app, as `onecall serve` builds it."""
    from hotline.config import load_config
    from onecall.composition import build_web_process
    from onecall.settings import Settings

    config = load_config(ROOT / "config.yaml")
    settings = Settings(
        config_path=str(ROOT / "config.yaml"),
        redis_url=os.environ[ENV_REDIS],
        public_url=None,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_api_base_url="http://127.0.0.1:9",  # never Twilio itself (no turn here rings anyone)
        api_token="bench-api-token",
        secret_key="bench-secret-key",
        screenpop_url=None,
        screenpop_secret=None,
        demo_secrets=False,
    )
    web = build_web_process(config, settings, base_url=os.environ[ENV_BASE])
    web.application.background.start()
    app = web.app
    _mark_ready()
    return app


def bare_app():
    """gunicorn 'benchmarks.bench_webhook:bare_app()': one constant TwiML route, nothing else."""
    from flask import Flask, Response

    app = Flask("bare")

    @app.post(PATH)
    def voice():
        return Response(BARE_TWIML, mimetype="text/xml")

    _mark_ready()
    return app


# -- servers ---------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    def __init__(self, name: str, factory: str, threads: int, redis_url: str, workdir: Path) -> None:
        self.name = name
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.ready_dir = workdir / f"ready-{name}"
        self.ready_dir.mkdir()
        self.log_path = workdir / f"{name}.log"
        env = {**os.environ, ENV_REDIS: redis_url, ENV_BASE: self.base_url, ENV_READY: str(self.ready_dir),
               "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn",
             "--chdir", str(ROOT),
             "--bind", f"127.0.0.1:{self.port}",
             "--worker-class", "gthread",
             "--workers", str(WORKERS),
             "--threads", str(threads),
             "--timeout", "60",
             "--graceful-timeout", "5",
             "--log-level", "warning",
             f"benchmarks.bench_webhook:{factory}"],
            env=env, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches only this script; it stops the servers itself
        )

    def wait_ready(self, seconds: float = 30.0) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name} gunicorn exited with code {self.process.returncode}:\n{self.log_tail()}")
            if len(list(self.ready_dir.iterdir())) >= WORKERS:
                return
            time.sleep(0.05)
        raise SystemExit(f"{self.name} gunicorn workers not ready within {seconds:.0f} s:\n{self.log_tail()}")

    def worker_cpu_seconds(self) -> float | None:
        """CPU time (user + system) used so far by this server's worker processes; None off Linux."""
        total, found = 0.0, False
        try:
            pids = [d for d in os.listdir("/proc") if d.isdigit()]
        except OSError:
            return None
        tick = os.sysconf("SC_CLK_TCK")
        for pid in pids:
            try:
                with open(f"/proc/{pid}/stat", "rb") as stat:
                    fields = stat.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:  # ppid: a worker of this gunicorn
                total += (int(fields[11]) + int(fields[12])) / tick
                found = True
        return total if found else None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # gunicorn: graceful shutdown of the workers
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


# -- requests --------------------------------------------------------------------------------
def signed_requests(count: int, real_base_url: str) -> list[bytes]:
    """`count` complete HTTP/1.1 requests, each a new call, signed for the real server's URL."""
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(AUTH_TOKEN)
    url = real_base_url + PATH
    host = real_base_url.split("//", 1)[1]
    out = []
    for _ in range(count):
        params = {  # every parameter of a real incoming-call webhook (../shared/protocol/twilio/webhooks.md)
            "AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01", "CallSid": "CA" + uuid.uuid4().hex,
            "CallStatus": "ringing", "Direction": "inbound", "CallToken": "%7B%22parentCallInfoToken%22%3A%22eyJ",
            "From": "+821012345678", "FromCity": "", "FromState": "", "FromZip": "", "FromCountry": "KR",
            "To": "+8222120120", "ToCity": "", "ToState": "", "ToZip": "", "ToCountry": "KR",
            "Caller": "+821012345678", "CallerCity": "", "CallerState": "", "CallerZip": "", "CallerCountry": "KR",
            "Called": "+8222120120", "CalledCity": "", "CalledState": "", "CalledZip": "", "CalledCountry": "KR",
            "StirVerstat": "TN-Validation-Passed-A",
        }
        body = urlencode(params).encode()
        signature = validator.compute_signature(url, params)
        head = (f"POST {PATH} HTTP/1.1\r\nHost: {host}\r\n"
                f"Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\nX-Twilio-Signature: {signature}\r\n\r\n")
        out.append(head.encode() + body)
    return out


def read_response(sock: socket.socket, buf: bytearray) -> tuple[int, bytes, bytes]:
    """One HTTP/1.1 response with a Content-Length: (status, lower-cased head, body). `buf` keeps leftovers."""
    while True:
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            break
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        buf += chunk
    head = bytes(buf[:end]).lower()
    status = int(head[9:12])
    i = head.find(b"\r\ncontent-length:")
    if i < 0:
        raise ConnectionError("response without Content-Length")
    j = head.find(b"\r\n", i + 2)
    length = int(head[i + 17:j if j >= 0 else len(head)])
    total = end + 4 + length
    while len(buf) < total:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        buf += chunk
    body = bytes(buf[end + 4:total])
    del buf[:total]
    return status, head, body


def one_request(port: int, request: bytes) -> tuple[int, bytes, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        return read_response(sock, bytearray())


# -- load generator --------------------------------------------------------------------------
def client(port: int, pool_size: int, real_base_url: str, ready, go, duration: float, results) -> None:
    """One connection, requests back to back from `go` (a shared start time) for `duration` s."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's clean-up handler
    try:
        requests = signed_requests(pool_size, real_base_url)
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf = bytearray()
        latencies: list[int] = []
        errors: dict[int, int] = {}
        ready.put(os.getpid())
        start = go.get()
        clock = time.perf_counter
        while clock() < start:
            time.sleep(0.001)
        end = start + duration
        i = 0
        n = len(requests)
        now_ns = time.perf_counter_ns
        cpu0 = time.process_time()
        while True:
            t = now_ns()
            sock.sendall(requests[i % n])
            status, _, _ = read_response(sock, buf)
            latencies.append(now_ns() - t)
            if status != 200:
                errors[status] = errors.get(status, 0) + 1
            i += 1
            if clock() >= end:
                break
        cpu = time.process_time() - cpu0
        sock.close()
        results.put({"latencies": latencies, "errors": errors, "reused": max(0, i - n), "cpu": cpu, "error": None})
    except Exception as exc:  # report it; the parent aborts the run
        try:
            ready.put(os.getpid())
        finally:
            results.put({"latencies": [], "errors": {}, "reused": 0, "cpu": 0.0, "error": f"{type(exc).__name__}: {exc}"})


def measure(ctx, server: Server, real_base_url: str, concurrency: int, duration: float, pool_size: int,
            children: list) -> dict:
    port = server.port
    ready, go, results = ctx.Queue(), ctx.Queue(), ctx.Queue()
    procs = [ctx.Process(target=client, args=(port, pool_size, real_base_url, ready, go, duration, results), daemon=True)
             for _ in range(concurrency)]
    children[:] = procs
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=120)
    start = time.perf_counter() + 0.2
    for _ in procs:
        go.put(start)
    cpu_before = server.worker_cpu_seconds()
    parts = [results.get(timeout=duration + 120) for _ in procs]
    cpu_after = server.worker_cpu_seconds()
    for p in procs:
        p.join(timeout=10)
    children.clear()
    failures = [part["error"] for part in parts if part["error"]]
    if failures:
        raise SystemExit(f"load client failed: {failures[0]}")
    latencies = [x for part in parts for x in part["latencies"]]
    errors: dict[int, int] = {}
    for part in parts:
        for status, count in part["errors"].items():
            errors[status] = errors.get(status, 0) + count
    # Each client stops at the first response after `start + duration`; rate over that window.
    return {"count": len(latencies), "rps": len(latencies) / duration, "latencies": latencies,
            "errors": errors, "reused": sum(part["reused"] for part in parts),
            "client_cpu": sum(part["cpu"] for part in parts) / duration,  # in cores
            "server_cpu": None if cpu_before is None or cpu_after is None else cpu_after - cpu_before}


def per_request_cpu(m: dict) -> str:
    if m["server_cpu"] is None or not m["count"]:
        return ""
    return f"   server cpu {m['server_cpu'] / m['count'] * 1e6:5.0f} us/req"


def pct(samples: list[int], q: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, int(q * len(s)))] / 1e6 if s else float("nan")  # ns -> ms


# -- main ------------------------------------------------------------------------------------
def pick_redis():
    from onecall.redis_server import find_or_start_redis

    return find_or_start_redis(LOCAL)


def check_real_turn(real: Server) -> str:
    status, head, body = one_request(real.port, signed_requests(1, real.base_url)[0])
    text = body.decode(errors="replace")
    if status != 200 or b"content-type: text/xml" not in head or "<Gather" not in text:
        raise SystemExit(f"the real app did not answer a signed /twilio/voice with 200 text/xml <Gather>: "
                         f"HTTP {status}\n{head.decode(errors='replace')}\n{text[:500]}\n--- server log ---\n"
                         f"{real.log_tail()}")
    forged = signed_requests(1, real.base_url)[0].replace(b"From=%2B821012345678", b"From=%2B821099999999")
    status, head, body = one_request(real.port, forged)  # same length, signature no longer matches
    if status != 403:
        raise SystemExit(f"the real app answered a wrongly signed request with HTTP {status}, expected 403")
    return text


def _terminate(signum, frame):  # SIGTERM: leave through the same clean-up as Ctrl-C
    raise KeyboardInterrupt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=5.0, help="length of each timed measurement (default 5)")
    ap.add_argument("--concurrency", type=int, default=8, help="client processes = keep-alive connections (default 8)")
    ap.add_argument("--rounds", type=int, default=2, help="bare/real pairs, interleaved (default 2)")
    ap.add_argument("--threads", type=int, default=16,
                    help="gunicorn threads per worker, both servers (default 16, as onecall serve)")
    ap.add_argument("--warmup", type=float, default=1.0, help="untimed load on each server first (default 1 s)")
    opts = ap.parse_args()

    import multiprocessing
    import redis

    from onecall.redis_clients import client_for_url

    signal.signal(signal.SIGTERM, _terminate)
    ctx = multiprocessing.get_context("fork")
    workdir = Path(tempfile.mkdtemp(prefix="onecall-bench-"))
    servers: list[Server] = []
    children: list = []
    embedded = None
    client_ = None
    t_begin = time.monotonic()
    try:
        url, embedded = pick_redis()
        client_ = client_for_url(url, decode_responses=False)
        client_.flushdb()
        real = Server("real", "real_app()", opts.threads, url, workdir)
        servers.append(real)
        bare = Server("bare", "bare_app()", opts.threads, url, workdir)
        servers.append(bare)
        real.wait_ready()
        bare.wait_ready()
        sample = check_real_turn(real)
        print(f"redis {url}; gunicorn gthread, {WORKERS} workers x {opts.threads} threads each; "
              f"{opts.concurrency} keep-alive clients; {opts.rounds} x {opts.seconds:g} s per server")
        print(f"sample real turn: 200 text/xml, {len(sample)} bytes, <Gather> present")

        def run(server: Server, seconds: float, pool: int) -> dict:
            return measure(ctx, server, real.base_url, opts.concurrency, seconds, pool, children)

        warm_pool = 4000 // opts.concurrency + 1
        warm_bare = run(bare, opts.warmup, warm_pool)
        warm_real = run(real, opts.warmup, warm_pool)
        # Enough fresh CallSids per client for each timed run, with room to spare.
        # (The bare server ignores the CallSid, so it may cycle through a few.)
        top = max(warm_bare["rps"], warm_real["rps"])
        real_pool = int(top * opts.seconds * 1.5 / opts.concurrency) + 100
        pools = {"bare": 500, "real": real_pool}
        print(f"warm-up: bare {warm_bare['rps']:.0f} req/s, real {warm_real['rps']:.0f} req/s; "
              f"{real_pool} signed requests per client per real run")

        results: dict[str, list[dict]] = {"bare": [], "real": []}
        for r in range(opts.rounds):
            for server in (bare, real):
                m = run(server, opts.seconds, pools[server.name])
                results[server.name].append(m)
                bad = f"  NON-200: {m['errors']}" if m["errors"] else ""
                reused = f"  (reused {m['reused']} CallSids)" if m["reused"] and server is real else ""
                print(f"round {r + 1} {server.name:4s}: {m['rps']:8.0f} req/s   p50 {pct(m['latencies'], .5):6.2f} ms"
                      f"   p99 {pct(m['latencies'], .99):6.2f} ms{per_request_cpu(m)}"
                      f"   client cpu {m['client_cpu']:.2f} cores{bad}{reused}")

        errors = {k: sum(m["errors"].get(k, 0) for v in results.values() for m in v)
                  for k in {s for v in results.values() for m in v for s in m["errors"]}}
        summary = {}
        for name, runs in results.items():
            lat = [x for m in runs for x in m["latencies"]]
            count = sum(m["count"] for m in runs)
            cpu = None if any(m["server_cpu"] is None for m in runs) else sum(m["server_cpu"] for m in runs)
            summary[name] = {"rps": count / (opts.seconds * len(runs)), "count": count, "server_cpu": cpu,
                             "p50": pct(lat, .5), "p99": pct(lat, .99)}
        print()
        for name in ("bare", "real"):
            m = summary[name]
            print(f"{name:4s} {m['rps']:8.0f} req/s   p50 {m['p50']:6.2f} ms   p99 {m['p99']:6.2f} ms"
                  f"{per_request_cpu(m)}")
        pairs = [f"{rr['rps'] / rb['rps']:.2f}" for rb, rr in zip(results["bare"], results["real"])]
        ratio = summary["real"]["rps"] / summary["bare"]["rps"]
        print(f"ratio real/bare = {ratio:.2f} (target >= {TARGET}; per round: {', '.join(pairs)})"
              f" -> {'met' if ratio >= TARGET else 'NOT met'}")
        if errors:
            print(f"WARNING: non-200 responses during timed runs: {errors}")
        print(f"total {time.monotonic() - t_begin:.0f} s")
    except KeyboardInterrupt:
        print("\ninterrupted: stopping servers", file=sys.stderr)
        sys.exit(130)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # don't interrupt the clean-up itself
        for p in children:
            if p.is_alive():
                p.terminate()
        for server in servers:
            server.stop()
        if client_ is not None:
            try:
                client_.flushdb()
            except redis.RedisError:
                pass
            client_.close()
        if embedded is not None:
            embedded.stop()
        import shutil
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
