"""The `onecall` command: serve, check, citizens import, call, prompts build."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from hotline.config import load_config
from hotline.errors import ConfigInvalid, OneCallError
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
    """Import a JSON-lines file whole, or print one line per problem and exit 2."""
    from hotline.citizens import CitizenRegistry, parse_json_lines
    from hotline.errors import CitizensRefused
    from onecall.redis_clients import sync_client
    from routing.keys import Keys

    config = _load_config_or_exit(_config_path(args))
    settings = load_settings(instance_dir=INSTANCE_DIR)
    try:
        with open(args.file, encoding="utf-8") as lines:
            batch = parse_json_lines(lines)
    except (OSError, UnicodeDecodeError) as exc:
        print(f"{args.file}: cannot be read: {getattr(exc, 'strerror', None) or exc}", file=sys.stderr)
        return 2
    client = sync_client(settings.with_redis(_redis_url_for_tools(settings)).redis)
    registry = CitizenRegistry(client, Keys(config.hotline.id), config.hotline.country_code, skills=config.skills)
    try:
        count = registry.import_records(batch)
    except CitizensRefused as exc:
        for problem in exc.problems:
            print(f"{args.file}: {problem.text()}", file=sys.stderr)
        print(f"{args.file}: nothing imported ({len(exc.problems)} problems)", file=sys.stderr)
        return 2
    print(f"imported {count} citizens into hotline {config.hotline.id}")
    return 0


def _bootstrap(config, settings) -> None:
    """Write the deployment's starting state once, before any worker or driver serves."""
    from onecall.bootstrap import bootstrap
    from onecall.composition import build_application

    application = build_application(config, settings)
    try:
        bootstrap(application)
    finally:
        application.stop()


def _take_instance_or_exit():
    """This folder's instance lock, or exit 2: another `serve` runs here (its files stay untouched)."""
    from onecall.instance_lock import InstanceInUse, lock_instance

    try:
        return lock_instance(INSTANCE_DIR)
    except InstanceInUse as exc:
        print(exc.message, file=sys.stderr)
        raise SystemExit(2)


def _refuse_busy_port(host: str, port: int) -> None:
    """Exit 2 before starting anything when another program listens on host:port."""
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            print(f"cannot serve: {host}:{port} is already in use ({exc.strerror})", file=sys.stderr)
            raise SystemExit(2)


def _print_banner(config, settings, base: str, redis_url: str, embedded) -> None:
    from telephony.twilio.urls import TwilioUrls

    print(f"OneCall {config.hotline.name.get('en', config.hotline.id)}: {len(config.agents)} agents, "
          f"{len(config.skills)} skills")
    twilio_urls = TwilioUrls(base)
    print(f"  Twilio voice webhook: {twilio_urls.voice}   (status callback: {twilio_urls.status})")
    print(f"  agent desktop:        {base}/desk/")
    where = f" (embedded, data in {INSTANCE_DIR}/)" if embedded else ""
    print(f"  Redis:                {redis_url}{where}")
    if settings.demo_secrets:
        print(f"  demo secrets in {INSTANCE_DIR / 'secrets.json'} (API token: {settings.api_token})")
    if settings.ami is not None:
        print(f"  Asterisk AMI:         {settings.ami.host}:{settings.ami.port} as {settings.ami.username}; "
              f"FastAGI on {settings.ami.agi_host}:{settings.ami.agi_port}")


def cmd_serve(args) -> int:
    from onecall.redis_server import resolve_redis_url
    from onecall.server import run_gunicorn

    config_path = _config_path(args)
    config = _load_config_or_exit(config_path)
    os.environ["ONECALL_CONFIG"] = config_path
    lock = _take_instance_or_exit()  # first: a refused second server must not touch this folder
    _refuse_busy_port(args.host, args.port)
    settings = load_settings(instance_dir=INSTANCE_DIR)
    redis_url, embedded = resolve_redis_url(data_dir=INSTANCE_DIR, keep_open=(lock.fileno(),))
    os.environ["REDIS_URL"] = redis_url  # workers inherit it
    if embedded is not None:
        REDIS_URL_FILE.write_text(redis_url)
    if not os.environ.get("TWILIO_ACCOUNT_SID") and not os.environ.get("TWILIO_API_BASE_URL"):
        os.environ["TWILIO_API_BASE_URL"] = DEMO_TWILIO_API  # `onecall call` plays Twilio's API here
    base = settings.public_url or f"http://{args.host}:{args.port}"
    try:
        _bootstrap(config, settings.with_redis(redis_url))
        _print_banner(config, settings, base, redis_url, embedded)
        driver = _start_asterisk_driver(config_path) if settings.ami is not None else None
        try:
            run_gunicorn(host=args.host, port=args.port, workers=args.workers, threads=args.threads, base_url=base)
        finally:
            if driver is not None:
                driver.terminate()
                driver.wait(timeout=10)
    finally:
        if embedded is not None:
            REDIS_URL_FILE.unlink(missing_ok=True)
            embedded.stop()
    return 0


def cmd_doctor(args) -> int:
    """Check that this deployment can take calls; exit 1 when a check fails."""
    from onecall.doctor import run_checks
    from onecall.redis_server import reachable

    config = _load_config_or_exit(_config_path(args))
    settings = load_settings(instance_dir=INSTANCE_DIR)
    redis_url = settings.redis_url
    if redis_url is None and REDIS_URL_FILE.exists() and reachable(REDIS_URL_FILE.read_text().strip()):
        redis_url = REDIS_URL_FILE.read_text().strip()
    checks = run_checks(config, settings.with_redis(redis_url) if redis_url else settings)
    for check in checks:
        print(check.line())
    return 0 if all(check.ok for check in checks) else 1


ASTERISK_READY = "asterisk driver ready"
ASTERISK_START_SECONDS = 15.0  # how long `serve` waits for the driver's first AMI login


def cmd_asterisk(args) -> int:
    """Run the Asterisk driver: AMI owner, FastAGI server, timeouts sweep."""
    import asyncio
    import logging
    import signal

    from onecall.bootstrap import bootstrap
    from onecall.composition import build_application, build_asterisk_driver
    from telephony.asterisk.errors import AmiLoginRefused

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = _load_config_or_exit(_config_path(args))
    settings = load_settings(instance_dir=INSTANCE_DIR)
    if settings.ami is None:
        print("set ONECALL_AMI_HOST (and ONECALL_AMI_USER, ONECALL_AMI_SECRET) to drive an Asterisk", file=sys.stderr)
        return 2
    redis_url = _redis_url_for_tools(settings)
    if config.asterisk.sounds_dir is None:  # Asterisk reads this machine's folder: it must be complete
        from onecall.doctor import check_prompt_audio

        audio = check_prompt_audio(config)
        if not audio.ok:
            print(f"warning: callers would hear silence: {audio.detail}", file=sys.stderr)
    application = build_application(config, settings.with_redis(redis_url))
    bootstrap(application)
    application.background.start()

    async def run() -> None:
        driver = build_asterisk_driver(application, settings.ami, settings.with_redis(redis_url).redis)
        for signal_number in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(signal_number, driver.stopped.set)
        await driver.start()
        print(ASTERISK_READY, flush=True)
        try:
            await driver.stopped.wait()
        finally:
            await driver.close()

    try:
        asyncio.run(run())
    except AmiLoginRefused as exc:
        print(exc.message, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    finally:
        application.stop()
    return 0


def _start_asterisk_driver(config_path: str):
    """`onecall asterisk` beside the web tier; exits the program if it cannot log in."""
    import selectors
    import subprocess

    child = subprocess.Popen([sys.executable, "-m", "onecall.cli", "--config", config_path, "asterisk"],
                             stdout=subprocess.PIPE, text=True)
    selector = selectors.DefaultSelector()
    selector.register(child.stdout, selectors.EVENT_READ)
    ready = selector.select(timeout=ASTERISK_START_SECONDS) and child.stdout.readline().strip() == ASTERISK_READY
    if not ready:
        child.terminate()
        code = child.wait()
        print(f"the Asterisk driver did not start (exit {code}); see the message above", file=sys.stderr)
        raise SystemExit(2)
    return child


def cmd_call(args) -> int:
    from devtools.simulator import OneCallUnreachable

    config = _load_config_or_exit(_config_path(args))
    settings = load_settings(instance_dir=INSTANCE_DIR)
    inputs = iter([item for item in args.press.split(",")]) if args.press is not None else None
    try:
        transcript = _simulate(args, config, settings, inputs)
    except OneCallUnreachable as exc:
        print(exc, file=sys.stderr)
        return 2
    if transcript.connected:
        print(f"call {transcript.call_sid}: connected to {transcript.agent_endpoint}")
        return 0
    print(f"call {transcript.call_sid}: not connected ({transcript.ended_by})")
    return 1


def _simulate(args, config, settings, inputs):
    from devtools.simulator import simulate_call

    return simulate_call(
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
        time_scale=args.time_scale,
    )


def _shown(path: Path) -> str:
    """A path as the user would type it: relative to the current folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def cmd_prompts_build(args) -> int:
    from onecall.progress import ProgressBar
    from hotline.audio.render import build_prompt_audio, tts_voices

    config = _load_config_or_exit(_config_path(args))
    audio_dir = Path(args.out) if args.out else config.prompt_audio_dir
    try:
        with ProgressBar(sys.stderr) as bar:
            report = build_prompt_audio(config.catalog, tts_voices(config), audio_dir, force=args.force,
                                        progress=bar.update)
    except OneCallError as exc:
        print(f"prompts build failed: {exc.message}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"prompts build failed: {_shown(audio_dir)}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(report.summary(_shown(audio_dir)))
    return 0


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
    call.add_argument("--time-scale", type=float, default=1.0,
                      help="how long a <Pause> lasts, as a share of its length (default 1: as on a phone)")
    call.add_argument("--twilio-port", type=int, default=8099, help="port of the Twilio API stand-in")
    call.set_defaults(handler=cmd_call)

    doctor = commands.add_parser("doctor", help="check config, Redis, prompt audio and the Asterisk login")
    _config_flag(doctor)
    doctor.set_defaults(handler=cmd_doctor)

    asterisk = commands.add_parser("asterisk", help="run only the Asterisk driver (AMI owner + FastAGI server)")
    _config_flag(asterisk)
    asterisk.set_defaults(handler=cmd_asterisk)

    prompts = commands.add_parser("prompts", help="prompt catalog audio")
    prompt_commands = prompts.add_subparsers(dest="prompts_command", required=True)
    builder = prompt_commands.add_parser("build", help="render every prompt to 8 kHz WAV files with espeak-ng")
    _config_flag(builder)
    builder.add_argument("--force", action="store_true", help="render every file again, changed or not")
    builder.add_argument("--out", help="audio folder (default: files.prompt_audio, else audio/ beside the catalog)")
    builder.set_defaults(handler=cmd_prompts_build)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args) or 0
    except ConfigInvalid as exc:  # a bad setting in the environment, e.g. ONECALL_AGI_ALLOW
        print(exc.message, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
