"""Running the web tier on gunicorn.

Each worker process builds its own app (Redis pool, thread pool, background sweeper)
after the fork: nothing with threads or sockets is shared across a fork. Any number of
workers may sweep timeouts and send webhooks at once; Redis scripts keep them exact.
"""
from __future__ import annotations

import os

from gunicorn.app.base import BaseApplication


def app_from_environment(base_url: str | None = None):
    """Build the app from ONECALL_CONFIG and the environment (used by each gunicorn worker).

    A worker builds and serves; it writes no starting state (`onecall serve` bootstrapped
    the deployment before the workers started)."""
    from hotline.config import load_config
    from onecall.composition import build_web_process
    from onecall.settings import load_settings

    config = load_config(os.environ.get("ONECALL_CONFIG", "config.yaml"))
    web = build_web_process(config, load_settings(), base_url=base_url)
    web.application.background.start()
    return web.app


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict, base_url: str) -> None:
        self._options = options
        self._base_url = base_url
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self):
        return app_from_environment(self._base_url)


def run_gunicorn(*, host: str, port: int, workers: int, threads: int, base_url: str) -> None:
    _Gunicorn(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "timeout": 60,
            "graceful_timeout": 5,
            "accesslog": "-",
        },
        base_url,
    ).run()
