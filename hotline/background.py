"""The work every OneCall process does in the background, besides answering requests:
expired reservations and wrap-ups (the dispatcher's sweep), due screen-pop deliveries, and
whatever periodic checks the drivers it runs add (Twilio: calls whose hang-up was never
reported). Any number of processes may run it at once: Redis scripts keep it exact."""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

import redis

log = logging.getLogger(__name__)


@dataclass
class PeriodicCheck:
    run: Callable[[], object]
    every_seconds: float
    next_due: float = 0.0


class BackgroundWork:
    def __init__(self, *, dispatcher, delivery, pops, sweep_interval: float) -> None:
        self._dispatcher = dispatcher
        self._delivery = delivery
        self._wake = pops.deliveries_waiting  # set when a pop queued a delivery
        self._interval = sweep_interval
        self._checks: list[PeriodicCheck] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add_check(self, run: Callable[[], object], every_seconds: float) -> None:
        """Also run `run()` every `every_seconds` (the first time at once)."""
        self._checks.append(PeriodicCheck(run, every_seconds))

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="onecall-background", daemon=True)
            self._thread.start()

    def run_once(self) -> None:
        self._dispatcher.sweep()
        while self._delivery.run_due():
            pass
        for check in self._checks:
            if time.monotonic() >= check.next_due:
                check.next_due = time.monotonic() + check.every_seconds
                check.run()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except redis.RedisError:
                log.exception("background work failed; retrying")
            self._wake.wait(self._interval)
            self._wake.clear()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._dispatcher.shutdown()
