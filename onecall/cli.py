"""The `onecall` command: serve, check, citizens import, call."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from onecall.config import load_config
from onecall.errors import OneCallError
from onecall.settings import load_settings

DEMO_TWILIO_API = "http://127.0.0.1:8099"
INSTANCE_DIR = Path("instance")
REDIS_URL_FILE = INSTANCE_DIR / "redis-url"


def _config_path(args) -> str:
    return args.config or os.environ.get("ONECALL_CONFIG") or "config.yaml"


def _load_config_or_exit(path: str):
    try:
        return load_config(path)
    except OneCallError as exc:
        print(exc.message, file=sys.stderr)
        raise SystemExit(2)


def cmd_check(args) -> int:
    config = _load_config_or_exit(_config_path(args))
    nodes = len(getattr(config.flow, "nodes", {}) or {})
    print(f"{config.source}: OK - hotline {config.hotline.id}, {len(config.skills)} skills, "
          f"{len(config.agents)} agents, languages {', '.join(config.languages)}, flow of {nodes} nodes")
    return 0


def _redis_url_for_tools(settings) -> str:
    """REDIS_URL, else the embedded Redis of a running `onecall serve` in this folder."""
    from onecall.redis_server import reachable

    if settings.redis_url:
        return settings.redis_url
    if REDIS_URL_FILE.exists():
        url = REDIS_URL_FILE.read_text().strip()
        if reachable(url):
            return url
    print("no Redis to talk to: set REDIS_URL, or start `onecall serve` in this folder first", file=sys.stderr)
    raise SystemExit(2)


def cmd_citizens_import(args) -> int:
    import redis

    from onecall.citizens import CitizenRegistry, parse_json_lines

    config = _load_config_or_exit(_config_path(args))
    settings = load_settings(instance_dir=INSTANCE_DIR)
    try:
        with open(args.file, encoding="utf-8") as lines:
            records = parse_json_lines(lines)
    except OSError as exc:
        print(f"{args.file}: cannot be read: {exc.strerror}", file=sys.stderr)
        return 2
    except OneCallError as exc:
        print(f"{args.file}: {exc.message}", file=sys.stderr)
        return 2
    client = redis.Redis.from_url(_redis_url_for_tools(settings), decode_responses=True)
    count = CitizenRegistry(client, config.hotline.id, config.hotline.country_code).import_records(records)
    print(f"imported {count} citizens into hotline {config.hotline.id}")
    return 0


def cmd_serve(args) -> int:
    from onecall.redis_server import resolve_redis_url
    from onecall.server import run_gunicorn

    config_path = _config_path(args)
    config = _load_config_or_exit(config_path)
    os.environ["ONECALL_CONFIG"] = config_path
    settings = load_settings(instance_dir=INSTANCE_DIR)
    redis_url, embedded = resolve_redis_url()
    os.environ["REDIS_URL"] = redis_url  # workers inherit it
    INSTANCE_DIR.mkdir(exist_ok=True)
    if embedded is not None:
        REDIS_URL_FILE.write_text(redis_url)
    if not os.environ.get("TWILIO_ACCOUNT_SID") and not os.environ.get("TWILIO_API_BASE_URL"):
        os.environ["TWILIO_API_BASE_URL"] = DEMO_TWILIO_API  # `onecall call` plays Twilio's API here
    base = settings.public_url or f"http://{args.host}:{args.port}"
    print(f"OneCall {config.hotline.name.get('en', config.hotline.id)}: {len(config.agents)} agents, "
          f"{len(config.skills)} skills")
    print(f"  Twilio voice webhook: {base}/twilio/voice   (status callback: {base}/twilio/status)")
    print(f"  agent desktop:        {base}/desk/")
    print(f"  Redis:                {redis_url}{' (embedded)' if embedded else ''}")
    if settings.demo_secrets:
        print(f"  demo secrets in {INSTANCE_DIR / 'secrets.json'} (API token: {settings.api_token})")
    try:
        run_gunicorn(host=args.host, port=args.port, workers=args.workers, threads=args.threads, base_url=base)
    finally:
        if embedded is not None:
            REDIS_URL_FILE.unlink(missing_ok=True)
            embedded.stop()
    return 0


def cmd_call(args) -> int:
    from onecall.simulator import simulate_call

    config = _load_config_or_exit(_config_path(args))
    settings = load_settings(instance_dir=INSTANCE_DIR)
    inputs = iter([item for item in args.press.split(",")]) if args.press is not None else None
    transcript = simulate_call(
        server_url=args.server,
        auth_token=settings.twilio_auth_token,
        account_sid=settings.twilio_account_sid,
        caller=args.caller,
        hotline_number=config.hotline.number,
        standin_port=args.twilio_port,
        inputs=inputs,
        public_url=settings.public_url,
        agent_answers=not args.no_answer,
        talk_seconds=args.talk if args.press is not None else None,
    )
    if transcript.connected:
        print(f"call {transcript.call_sid}: connected to {transcript.agent_endpoint}")
        return 0
    print(f"call {transcript.call_sid}: not connected ({transcript.ended_by})")
    return 1


def _config_flag(command: argparse.ArgumentParser) -> None:
    # Accepted after the command too (`onecall serve --config FILE`); SUPPRESS keeps the global value.
    command.add_argument("--config", default=argparse.SUPPRESS, help="config file (default: $ONECALL_CONFIG or ./config.yaml)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="onecall", description="OneCall hotline IVR and call routing")
    parser.add_argument("--config", help="config file (default: $ONECALL_CONFIG or ./config.yaml)")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the web tier (Twilio webhooks, agent desktop, API)")
    _config_flag(serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    serve.add_argument("--threads", type=int, default=16, help="threads per worker (desktop streams hold one each)")
    serve.set_defaults(handler=cmd_serve)

    check = commands.add_parser("check", help="validate a config file and its flow and prompts")
    check.add_argument("config_file", nargs="?", help="config file to check")
    check.set_defaults(handler=lambda a: cmd_check(argparse.Namespace(config=a.config_file or a.config)))

    citizens = commands.add_parser("citizens", help="citizen registry")
    citizen_commands = citizens.add_subparsers(dest="citizens_command", required=True)
    importer = citizen_commands.add_parser("import", help="import citizens from a JSON-lines file")
    importer.add_argument("file")
    _config_flag(importer)
    importer.set_defaults(handler=cmd_citizens_import)

    call = commands.add_parser("call", help="simulate a citizen's call to a running OneCall, as Twilio would")
    _config_flag(call)
    call.add_argument("--server", default="http://127.0.0.1:8080", help="where `onecall serve` listens")
    call.add_argument("--from", dest="caller", default="+821012345678", help="caller ID (default: a demo citizen)")
    call.add_argument("--press", help="comma-separated answers instead of asking, e.g. '1,2' or '1,say:parking fine'")
    call.add_argument("--no-answer", action="store_true", help="the rung agent does not pick up")
    call.add_argument("--talk", type=float, default=2.0, help="seconds to stay connected with --press")
    call.add_argument("--twilio-port", type=int, default=8099, help="port of the Twilio API stand-in")
    call.set_defaults(handler=cmd_call)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args) or 0


if __name__ == "__main__":
    sys.exit(main())
