"""The private parts of werkzeug, panoramisk, redis-py and twilio that OneCall relies on.

OneCall subclasses or reaches into these libraries in a few hot or fragile places (each
test's docstring names where). Their public docs do not promise these names, so a new
release can drop or change one without notice; `pyproject.toml` caps each library below
its next major, and these tests say which name broke when a minor release moves one.

They check the libraries directly and import none of OneCall's modules.
"""
from __future__ import annotations

import asyncio
import codecs
import hashlib
import inspect
import io
import re
import subprocess
import sys
import tomllib
from collections import deque
from pathlib import Path
from urllib.parse import unquote

import flask
import pytest
import redis
from panoramisk import Manager
from panoramisk.ami_protocol import AMIProtocol
from panoramisk.message import Message
from redis.exceptions import NoScriptError
from twilio import request_validator
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.test import EnvironBuilder
from werkzeug.utils import cached_property


ROOT = Path(__file__).resolve().parent.parent
OVERRIDDEN = {"flask", "werkzeug", "twilio", "redis", "panoramisk"}  # bounded below the next major


def params_of(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_floors_file_pins_every_declared_floor_and_the_bounds_hold():
    """.ci/run's floor stage installs with `-c .ci/floors.txt`: it must pin each direct
    dependency of pyproject.toml (runtime and the test extra) at exactly its declared
    floor, and the libraries whose internals OneCall overrides must stay below a next
    major release (the one after the newest release the suite was run on)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {}
    for line in project["dependencies"] + project["optional-dependencies"]["test"]:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?>=([^,]+)(?:,<(\S+))?", line)
        assert match, f"{line!r}: every dependency needs a floor (name>=floor[,<bound])"
        name, floor, bound = match.groups()
        declared[name.lower()] = floor
        if name.lower() in OVERRIDDEN:  # a whole major above the floor's: "<9" for redis 6.1.0 to 8.x
            assert bound and bound.isdigit() and int(bound) > int(floor.split(".")[0]), \
                f"{line!r}: needs an upper bound below a next major release"
    pins = {}
    for line in (ROOT / ".ci" / "floors.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[name.strip().lower()] = version.strip()
    assert OVERRIDDEN <= set(declared)
    assert {name: pins.get(name) for name in declared} == declared


# -- werkzeug (through flask.Request) -----------------------------------------------------

def test_werkzeug_request_form_comes_from_load_form_data_via_instance_dict():
    """webhooks/app.py `OneCallRequest._load_form_data` parses short url-encoded bodies
    itself and stores the result as `self.__dict__["stream"/"form"/"files"]`, where
    werkzeug's cached properties of those names look first; it returns early when "form"
    is already there, and hands any other body to `super()._load_form_data()`."""
    for name in ("stream", "form", "files"):
        assert isinstance(inspect.getattr_static(flask.Request, name), cached_property), name
    assert params_of(flask.Request._load_form_data) == ["self"]

    # werkzeug's own loader fills those three entries of the instance dict...
    builder = EnvironBuilder(method="POST", data={"Digits": "1"})
    request = flask.Request(builder.get_environ())
    request._load_form_data()
    assert {"stream", "form", "files"} <= set(request.__dict__)
    assert request.__dict__["form"]["Digits"] == "1"

    # ...and the properties answer what a subclass put there, without parsing again.
    class Preloaded(flask.Request):
        def _load_form_data(self) -> None:
            if "form" in self.__dict__:
                return
            d = self.__dict__
            d["stream"], d["form"], d["files"] = io.BytesIO(), ImmutableMultiDict([("From", "+1")]), ImmutableMultiDict()

    builder = EnvironBuilder(method="POST", data="ignored=1", content_type="application/x-www-form-urlencoded")
    request = Preloaded(builder.get_environ())
    assert request.form["From"] == "+1"
    assert "ignored" not in request.form and not request.files
    assert request.values["From"] == "+1"  # values = args + form
    assert request.stream.read() == b""


def test_werkzeug_builds_form_and_files_with_parameter_storage_class():
    """webhooks/app.py sets `OneCallRequest.parameter_storage_class = FormParams` (an
    `ImmutableMultiDict` with `getall = ImmutableMultiDict.getlist`), so the bodies that
    take werkzeug's parser also arrive as FormParams; ivr/twilio_signature.py then reads
    them with `items(multi=True)`."""
    assert flask.Request.parameter_storage_class is ImmutableMultiDict
    assert callable(ImmutableMultiDict.getlist)

    class Params(ImmutableMultiDict):
        getall = ImmutableMultiDict.getlist

    class WithParams(flask.Request):
        parameter_storage_class = Params

    builder = EnvironBuilder(method="POST", data={"Digits": ["1", "2"]})
    request = WithParams(builder.get_environ())
    assert type(request.form) is Params and type(request.args) is Params
    assert request.form.getall("Digits") == ["1", "2"]
    assert sorted(request.form.items(multi=True)) == [("Digits", "1"), ("Digits", "2")]


def test_werkzeug_registers_the_url_quote_codec_error_handler():
    """webhooks/app.py `parse_form` unquotes with `errors="werkzeug.url_quote"`, the codec
    error handler werkzeug registers at import and passes to `parse_qsl` in its own form
    parser, so both paths turn bad %-escapes into the same text. Importing flask must
    register it (checked in a fresh interpreter, as the app's import is the only one)."""
    fresh = subprocess.run(
        [sys.executable, "-c", "import flask, codecs; codecs.lookup_error('werkzeug.url_quote')"],
        capture_output=True, text=True, timeout=60)
    assert fresh.returncode == 0, fresh.stderr
    assert callable(codecs.lookup_error("werkzeug.url_quote"))

    # Invalid UTF-8 stays %-escaped, as werkzeug's own parser leaves it.
    assert unquote("a%ffb", errors="werkzeug.url_quote") == "a%FFb"
    builder = EnvironBuilder(method="POST", data="x=a%ffb", content_type="application/x-www-form-urlencoded")
    assert flask.Request(builder.get_environ()).form["x"] == "a%FFb"


# -- twilio ------------------------------------------------------------------------------

def test_twilio_request_validator_compute_signature_override():
    """ivr/twilio_signature.py `TwilioRequestValidator(RequestValidator)` overrides
    `compute_signature(self, uri, params, algorithm=None)`, calls the library's with those
    three arguments for anything but HMAC-SHA1, compares against `HMAC_SHA1` and signs
    with `self.token` (bytes). `validate` must go through `self.compute_signature`."""
    assert request_validator.HMAC_SHA1 == "HMAC_SHA1"
    signature = inspect.signature(RequestValidator.compute_signature)
    assert list(signature.parameters) == ["self", "uri", "params", "algorithm"]
    assert signature.parameters["algorithm"].default is None
    assert RequestValidator("secret").token == b"secret"

    calls = []

    class Recording(RequestValidator):
        def compute_signature(self, uri, params, algorithm=None):
            calls.append((uri, algorithm))
            return "sig"

    assert Recording("secret").validate("https://example.org/voice", {"a": "1"}, "sig")
    assert calls and all(algorithm is None for _, algorithm in calls)


def test_twilio_request_validator_asks_for_getall_first():
    """webhooks/app.py `FormParams.getall` exists because `RequestValidator.get_values`
    tries `params.getall(name)` before `getlist`; on a plain MultiDict every parameter of
    every signed request raised AttributeError first."""
    asked = []

    class Params(dict):
        def getall(self, name):
            asked.append(("getall", name))
            return [self[name]]

        def getlist(self, name):  # pragma: no cover - must not be reached
            asked.append(("getlist", name))
            return [self[name]]

    assert RequestValidator("secret").get_values(Params(a="1"), "a") == ["1"]
    assert asked == [("getall", "a")]


# -- redis-py ----------------------------------------------------------------------------

def test_redis_pool_connection_class_and_kwargs_make_a_working_connection(redis_url):
    """onecall/redis_lane.py `RedisLane` copies `client.connection_pool.connection_class`
    and `.connection_kwargs`, builds its own connection per thread, and calls
    `send_command`/`read_response`/`disconnect` on it. It relies on an error reply being
    raised without dropping the connection, and on a disconnected one reconnecting on
    the next `send_command`."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        pool = client.connection_pool
        assert isinstance(pool.connection_kwargs, dict)
        connection = pool.connection_class(**dict(pool.connection_kwargs))
        for name in ("send_command", "read_response", "disconnect"):
            assert callable(getattr(connection, name)), name

        connection.send_command("ECHO", "lane")
        assert connection.read_response() == "lane"  # decoded, as the client's pool decodes
        connection.send_command("NO-SUCH-COMMAND")
        with pytest.raises(redis.ResponseError):
            connection.read_response()
        connection.send_command("PING")  # the same connection, still in step
        assert connection.read_response() == "PONG"
        connection.disconnect()
        connection.send_command("ECHO", "again")
        assert connection.read_response() == "again"
        connection.disconnect()
    finally:
        client.close()


def test_redis_registered_script_sha_and_script_and_noscript_error(redis_url):
    """routing/store.py runs `register_script` objects itself: EVALSHA with `script.sha`,
    and on `redis.exceptions.NoScriptError` it loads `script.script` and stores the new
    `script.sha`. Nothing here flushes scripts or keys (other runs share the server)."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        text = "return 'floors-check'"
        script = client.register_script(text)
        assert script.script == text
        assert script.sha == hashlib.sha1(text.encode()).hexdigest()
        assert issubclass(NoScriptError, redis.ResponseError)
        with pytest.raises(NoScriptError):
            client.execute_command("EVALSHA", "0" * 40, 0)
        script.sha = client.script_load(script.script)  # writable, as the store resets it
        assert script.sha == hashlib.sha1(text.encode()).hexdigest()
        assert client.execute_command("EVALSHA", script.sha, 0) == "floors-check"
    finally:
        client.close()


# -- panoramisk --------------------------------------------------------------------------

class FakeTransport:
    def __init__(self) -> None:
        self.written = b""
        self.closed = False
        self.aborted = False

    def write(self, data: bytes) -> None:
        self.written += data

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True


class EveryAction(tuple):
    def __contains__(self, item) -> bool:
        return True


def make_protocol() -> tuple[AMIProtocol, FakeTransport]:
    protocol, transport = AMIProtocol(), FakeTransport()
    protocol.connection_made(transport)
    return protocol, transport


def test_panoramisk_manager_constructor_keywords_and_state():
    """onecall/asterisk/ami.py `AmiConnection(Manager)` passes `host, port, username,
    secret, events, protocol_factory, ping_delay, ping_interval, forgetable_actions, loop`,
    then clears `callbacks` and `patterns` and reads or writes `loop`, `ping_interval`,
    `pinger`, `protocol`, `authenticated` and `_connected` itself."""
    async def check():
        loop = asyncio.get_running_loop()
        forgettable = EveryAction()
        manager = Manager(host="127.0.0.1", port=5038, username="u", secret="s", events="system,call",
                          protocol_factory=AMIProtocol, ping_delay=7, ping_interval=7,
                          forgetable_actions=forgettable, loop=loop)
        assert manager.loop is loop
        assert manager.forgetable_actions is forgettable
        assert manager.ping_delay == 7 and manager.ping_interval == 7
        assert manager.config["protocol_factory"] is AMIProtocol
        assert manager.config["events"] == "system,call"
        assert manager.callbacks and manager.patterns  # FullyBooted is registered by default
        manager.callbacks.clear()
        manager.patterns.clear()
        assert manager.pinger is None and manager.protocol is None
        assert manager.authenticated is False and manager._connected is False

    asyncio.run(check())


def test_panoramisk_manager_hooks_and_their_signatures():
    """onecall/asterisk/ami.py overrides `Manager.connection_made(future)`, `login(future)`
    (calling it and using its bool), `connection_lost(exc)`, `ping()` and `close()`, and
    sends with `send_action(fields, as_list=...)`. `dispatch_event` is our own name: it
    must not be one of panoramisk's (its event hook is `dispatch`)."""
    for hook in (Manager.connection_made, Manager.login, Manager.connection_lost):
        assert len(params_of(hook)) == 2, hook.__name__  # self and one positional argument
    assert params_of(Manager.ping) == ["self"]
    assert params_of(Manager.close) == ["self"]
    assert "as_list" in inspect.signature(Manager.send_action).parameters
    assert callable(Manager.connect)
    assert not hasattr(Manager, "dispatch_event")

    logins = []

    class Recording(Manager):
        def login(self, future):
            ok = super().login(future)
            logins.append(ok)
            return ok

    async def check():
        loop = asyncio.get_running_loop()
        manager = Recording(host="127.0.0.1", port=5038, username="u", secret="s", events="system,call",
                            ping_delay=60, ping_interval=60, loop=loop)
        protocol, transport = make_protocol()
        connected = loop.create_future()
        connected.set_result((transport, protocol))
        manager.connection_made(connected)  # what `connect()`'s task calls back
        assert manager.protocol is protocol and protocol.factory is manager
        assert manager._connected is True and manager.authenticated is False
        assert isinstance(manager.pinger, asyncio.TimerHandle)  # schedules self.ping
        assert b"Action: Login" in transport.written and b"Username: u" in transport.written
        assert b"Events: system,call" in transport.written

        (login,) = {id(a): a for a in protocol.responses.values()}.values()
        protocol.handle_message(Message({"Response": "Success", "ActionID": login.id}))
        await asyncio.sleep(0)  # the login future's done callbacks
        assert logins == [True] and manager.authenticated is True

        future = manager.send_action({"Action": "CoreStatus"}, as_list=False)
        assert isinstance(future, asyncio.Future) and not future.done()
        manager.close()
        assert manager.pinger is None and protocol.closed and transport.closed

    asyncio.run(check())


def test_panoramisk_protocol_connection_made_state():
    """onecall/asterisk/ami.py `OneCallAmiProtocol.connection_made` calls panoramisk's,
    which sets `transport`, `closed`, `responses`, `factory` and `version`, then adds its
    own `parser` (which must not clobber one of panoramisk's); its `data_received` sets
    `version` from the banner and writes through `send` and `transport`."""
    protocol, transport = make_protocol()
    assert protocol.transport is transport
    assert protocol.closed is False
    assert protocol.responses == {}
    assert protocol.factory is None
    assert protocol.version is None
    assert not hasattr(protocol, "parser")
    assert params_of(AMIProtocol.data_received) == ["self", "data"]


def test_panoramisk_protocol_send_and_handle_message():
    """onecall/asterisk/ami.py sends Pings with `protocol.send(fields)` (a future), keeps
    `responses` keyed by ActionID, and hands each answer to `handle_message(Message(d))`,
    which must complete that action's future and drop it from `responses`."""
    assert params_of(Message.__init__)[:2] == ["self", "headers"]

    async def check():
        protocol, transport = make_protocol()
        future = protocol.send({"Action": "Ping"})
        assert isinstance(future, asyncio.Future)
        (action,) = {id(a): a for a in protocol.responses.values()}.values()
        assert action.future is future
        assert f"ActionID: {action.id}".encode() in transport.written
        assert action.id in protocol.responses
        protocol.handle_message(Message({"Response": "Success", "Ping": "Pong", "ActionID": action.id}))
        assert future.done() and future.result()["Ping"] == "Pong"
        assert action.id not in protocol.responses

    asyncio.run(check())


def test_panoramisk_protocol_close_and_connection_lost():
    """onecall/asterisk/ami.py `OneCallAmiProtocol.close` fails every waiting
    `responses[...].future` before calling panoramisk's `close`, which asks `name in
    factory.forgetable_actions` (ours answers yes to every action, so nothing is queued on
    `awaiting_actions` to be re-sent). On a Shutdown event it calls `connection_lost(None)`,
    which must close and reach `factory.connection_lost`."""
    class Factory:
        forgetable_actions = EveryAction()

        def __init__(self) -> None:
            self.awaiting_actions = deque()
            self.lost = []

        def connection_lost(self, exc) -> None:
            self.lost.append(exc)

    async def check():
        protocol, transport = make_protocol()
        protocol.factory = factory = Factory()
        protocol.send({"Action": "Originate", "Channel": "PJSIP/agent"})
        for action in protocol.responses.values():
            assert isinstance(action.future, asyncio.Future)
        protocol.close()
        assert not factory.awaiting_actions
        assert protocol.responses == {}
        assert protocol.closed is True and transport.closed

        protocol, transport = make_protocol()
        protocol.factory = factory = Factory()
        protocol.connection_lost(None)
        assert protocol.closed is True and transport.closed
        assert factory.lost == [None]

    asyncio.run(check())
