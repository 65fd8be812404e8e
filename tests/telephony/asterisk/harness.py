"""Runs the real Asterisk driver (AMI owner + FastAGI server) on a loop of its own, so
synchronous tests can drive it with the fakes in `tests.fakes` over real sockets."""
from __future__ import annotations

import asyncio
import threading

from onecall.composition import build_asterisk_driver
from onecall.settings import AmiSettings, redis_settings
from telephony.asterisk.driver import AsteriskDriver


class DriverThread:
    def __init__(self, application, ami: AmiSettings, redis_url: str) -> None:
        self.application = application
        self.ami = ami
        self.redis_url = redis_url
        self.loop = asyncio.new_event_loop()
        self.driver: AsteriskDriver | None = None
        self._thread = threading.Thread(target=self.loop.run_forever, name="asterisk-driver", daemon=True)

    def start(self, timeout: float = 10.0) -> "DriverThread":
        """Start the driver; re-raises what its start raised (AmiLoginRefused, ...)."""
        self._thread.start()
        self.driver = self.call(self._build)
        self.call(self.driver.start, timeout=timeout)
        return self

    async def _build(self) -> AsteriskDriver:
        return build_asterisk_driver(self.application, self.ami, redis_settings(self.redis_url))

    def call(self, coroutine_function, *args, timeout: float = 10.0):
        """Run a coroutine on the driver's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coroutine_function(*args), self.loop).result(timeout)

    @property
    def agi_port(self) -> int:
        return self.driver.agi_port

    def stop(self) -> None:
        if self.loop.is_closed():
            return
        if self.driver is not None:
            try:
                self.call(self.driver.close)
            except Exception:
                pass
        self.call(self._cancel_the_rest)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
        self.loop.close()

    @staticmethod
    async def _cancel_the_rest() -> None:
        others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
