"""The fakes in tests/fakes against plain sockets and a FastAGI server written here: their
bytes are compared with the real Asterisk captures in ../shared/protocol/."""
from __future__ import annotations

import asyncio
import re
import socket
import threading
import time

import pytest

from tests.fakes.agi_channel import ENV_KEYS, REPLY_DEAD, FakeAgiChannel, parse_args
from tests.fakes.ami_server import FakeAsterisk, OriginateOutcome
from tests.conftest import SHARED_PROTOCOL

PROTOCOL = SHARED_PROTOCOL
USER, SECRET = "onecall", "s3cret"


def capture(relative: str) -> bytes:
    """A capture's bytes without the `# source:` line added when it was copied."""
    path = PROTOCOL / relative
    if not path.exists():
        pytest.skip("../shared/protocol is not beside this checkout")
    data = path.read_bytes()
    if data.startswith(b"# source:"):
        data = data.split(b"\n", 1)[1]
    return data


def blocks(data: bytes, eol: bytes = b"\r\n") -> list[list[tuple[str, str]]]:
    """Messages of a capture as lists of (key, value), in order (debug notes left out)."""
    out = []
    for chunk in data.split(eol + eol):
        pairs = [(m.group(1), m.group(2)) for line in chunk.decode().split(eol.decode())
                 if (m := re.fullmatch(r"([A-Za-z0-9_-]+): ?(.*)", line))]
        if pairs:
            out.append(pairs)
    return out


def keys(message: list[tuple[str, str]]) -> list[str]:
    return [key for key, _ in message]


def captured_event(relative: str, name: str) -> list[tuple[str, str]]:
    return next(m for m in blocks(capture(relative)) if ("Event", name) in m)


class RawAmi:
    """A bare AMI client on a socket: what goes over the wire, nothing more."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=3)
        self.buffer = b""

    def _fill(self) -> bytes:
        chunk = self.sock.recv(65536)
        self.buffer += chunk
        return chunk

    def banner(self) -> bytes:
        while b"\r\n" not in self.buffer:
            if not self._fill():
                raise EOFError("closed before the banner")
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line + b"\r\n"

    def send(self, *pairs: tuple[str, str]) -> None:
        self.sock.sendall(b"".join(f"{k}: {v}\r\n".encode() for k, v in pairs) + b"\r\n")

    def raw_message(self) -> bytes:
        while b"\r\n\r\n" not in self.buffer:
            if not self._fill():
                raise EOFError(f"closed; left over {self.buffer!r}")
        message, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        return message + b"\r\n\r\n"

    def message(self) -> list[tuple[str, str]]:
        return blocks(self.raw_message())[0]

    def until(self, event: str) -> list[list[tuple[str, str]]]:
        seen = []
        while True:
            seen.append(self.message())
            if ("Event", event) in seen[-1]:
                return seen

    def at_eof(self) -> bool:
        return not self.buffer and self._fill() == b""

    def login(self, secret: str = SECRET, events: str | None = None, action_id: str = "a1"):
        self.banner()
        pairs = [("Action", "Login"), ("ActionID", action_id), ("Username", USER), ("Secret", secret)]
        self.send(*pairs + ([("Events", events)] if events is not None else []))
        return self.message()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture()
def fake():
    asterisk = FakeAsterisk(USER, SECRET)
    asterisk.start()
    yield asterisk
    asterisk.stop()


@pytest.fixture()
def clients():
    opened: list[RawAmi] = []
    yield opened
    for client in opened:
        client.close()


@pytest.fixture()
def ami(fake, clients):
    clients.append(RawAmi(fake.port))
    return clients[-1]


@pytest.fixture()
def login(fake, clients):
    """Connect and log in a raw client; reads up to the last login event the mask lets through."""
    def connect(events: str | None = None) -> RawAmi:
        client = RawAmi(fake.port)
        clients.append(client)
        assert dict(client.login(events=events))["Message"] == "Authentication accepted"
        if events != "off":
            client.until("FullyBooted")
        if events is None:
            client.until("SuccessfulAuth")
        return client
    return connect


# -- AMI: login, banner, replies ------------------------------------------------------------

def test_banner_is_the_real_asterisk_22_banner(fake, ami):
    real = capture("ami/asterisk22-local/06b-after-restart-reconnect.rx.txt").split(b"\r\n", 1)[0] + b"\r\n"
    assert ami.banner() == real == b"Asterisk Call Manager/11.0.0\r\n"


def test_login_is_answered_byte_for_byte_like_the_capture(fake, ami):
    real = capture("ami/asterisk22-local/06b-after-restart-reconnect.rx.txt")
    received = ami.banner()
    ami.send(("Action", "Login"), ("ActionID", "a1"), ("Username", USER), ("Secret", SECRET))
    received += ami.raw_message() + ami.raw_message()

    def uptime_free(data: bytes) -> bytes:
        return re.sub(rb"(Uptime|LastReload): \d+", rb"\1: N", data)

    assert uptime_free(real).startswith(uptime_free(received))
    assert keys(ami.message()) == keys(captured_event("ami/asterisk22-local/06b-after-restart-reconnect.rx.txt",
                                                      "SuccessfulAuth"))
    assert fake.login_event_masks == [None] and fake.wait_logged_in(1) == 1


def test_wrong_secret_is_refused_after_a_delay_then_closed(fake, ami):
    started = time.monotonic()
    reply = ami.login(secret="wrong")
    assert time.monotonic() - started >= fake.login_failure_delay
    assert reply == [("Response", "Error"), ("ActionID", "a1"), ("Message", "Authentication failed")]
    old = next(m for m in blocks(capture("ami/panoramisk/login_failed.txt"), b"\n") if ("Response", "Error") in m)
    assert {k: v for k, v in old if k != "ActionID"} == {k: v for k, v in reply if k != "ActionID"}
    assert ami.at_eof()
    assert fake.logged_in_count == 0


def test_actions_before_login_are_denied_and_unknown_ones_refused(fake, ami):
    ami.banner()
    ami.send(("Action", "Ping"), ("ActionID", "p0"))
    assert ami.message() == [("Response", "Error"), ("ActionID", "p0"), ("Message", "Permission denied")]
    ami.send(("Action", "Login"), ("Username", USER), ("Secret", SECRET), ("Events", "off"))
    assert ami.message() == [("Response", "Success"), ("Message", "Authentication accepted")]
    ami.send(("Action", "QueueSummary"), ("ActionID", "q1"))
    assert ami.message() == [("Response", "Error"), ("ActionID", "q1"), ("Message", "Invalid/unknown command")]
    ami.send(("ActionID", "x1"))
    assert ami.message() == [("Response", "Error"), ("ActionID", "x1"), ("Message", "Missing action in request")]


def test_ping_and_logoff_are_answered_like_the_captures(fake, login):
    client = login()
    client.send(("Action", "Ping"), ("ActionID", "a2"))
    pong = client.message()
    real_pong = next(m for m in blocks(capture("ami/asterisk22-local/07-panoramisk.rx.txt")) if ("Ping", "Pong") in m)
    assert keys(pong) == keys(real_pong) == ["Response", "ActionID", "Ping", "Timestamp"]
    client.send(("Action", "Logoff"), ("ActionID", "a2"))
    goodbye = client.raw_message()
    assert goodbye in capture("ami/asterisk22-local/06b-after-restart-reconnect.rx.txt")
    assert goodbye == b"Response: Goodbye\r\nActionID: a2\r\nMessage: Thanks for all the fish.\r\n\r\n"
    assert client.at_eof()


def test_actions_are_recorded_with_repeated_headers(fake, login):
    client = login()
    client.send(("Action", "Originate"), ("ActionID", "o1"), ("Channel", "PJSIP/1001"), ("Context", "agents"),
                ("Exten", "s"), ("Async", "true"), ("Variable", "ONECALL_CALL=c1"), ("Variable", "ONECALL_AGENT=a1"))
    action = fake.wait_for_action("originate")
    assert action["variable"] == ["ONECALL_CALL=c1", "ONECALL_AGENT=a1"] and action.first("ActionID") == "o1"
    assert [a.first("Action") for a in fake.actions] == ["Login", "Originate"]
    with pytest.raises(AssertionError, match="received .*Originate"):
        fake.wait_for_action("Hangup", timeout=0.05)


# -- AMI: Originate ----------------------------------------------------------------------

def originate(client: RawAmi, action_id: str = "a2", **extra: str) -> None:
    pairs = {"Action": "Originate", "ActionID": action_id, "Channel": "PJSIP/1001", "Context": "agents",
             "Exten": "s", "Priority": "1", "CallerID": '"Citizen Two" <5550002>', "Async": "true", **extra}
    client.send(*pairs.items(), ("Variable", "ONECALL_CALL=c1"), ("Variable", "ONECALL_AGENT=kim"))


def test_answered_originate_emits_the_real_sequence(fake, login):
    answered = []
    done = threading.Event()
    fake.on_originate = lambda action: OriginateOutcome("answer", then=lambda ch: (answered.append(ch), done.set()))
    client = login(events="system,call")
    originate(client)
    assert client.message() == [("Response", "Success"), ("ActionID", "a2"),
                                ("Message", "Originate successfully queued")]
    seen = client.until("OriginateResponse")
    assert [dict(m)["Event"] for m in seen] == ["Newchannel", "DialBegin", "Newstate", "DialState", "Newstate",
                                                "DialEnd", "OriginateResponse"]
    response = dict(seen[-1])
    real = captured_event("ami/asterisk22-local/01-queue-call-dtmf.rx.txt", "OriginateResponse")
    assert keys(seen[-1]) == keys(real)
    uniqueid = dict(seen[0])["Uniqueid"]
    assert re.fullmatch(r"\d+\.\d+", uniqueid)
    assert response["Reason"] == "4" and response["Response"] == "Success" and response["Uniqueid"] == uniqueid
    assert response["Channel"].startswith("PJSIP/1001-") and response["CallerIDNum"] == "5550002"
    assert keys(seen[0]) == keys(captured_event("ami/asterisk22-local/01-queue-call-dtmf.rx.txt", "Newchannel"))
    assert dict(seen[4])["ChannelStateDesc"] == "Up"
    channel = fake.channels[uniqueid]
    assert channel.variables == {"ONECALL_CALL": "c1", "ONECALL_AGENT": "kim"} and channel.state == 6
    assert done.wait(2) and answered[0].uniqueid == uniqueid


@pytest.mark.parametrize("result, reason, cause, dial_status", [
    ("no-answer", 3, 19, "NOANSWER"), ("busy", 5, 17, "BUSY"), ("congestion", 8, 34, "CONGESTION")])
def test_unanswered_originate_names_the_requested_channel(fake, result, reason, cause, dial_status, login):
    fake.on_originate = lambda action: result
    client = login()
    originate(client)
    client.message()
    seen = client.until("OriginateResponse")
    events = {dict(m)["Event"]: dict(m) for m in seen}
    assert events["DialEnd"]["DialStatus"] == dial_status
    assert events["Hangup"]["Cause"] == str(cause)
    response = events["OriginateResponse"]
    assert (response["Response"], response["Reason"]) == ("Failure", str(reason))
    assert (response["Channel"], response["Uniqueid"]) == ("PJSIP/1001", "<unknown>")
    assert fake.channels == {}


def test_failed_originate_without_a_channel_carries_the_channel_id(fake, login):
    fake.on_originate = lambda action: OriginateOutcome("fail", delay=0.01)
    client = login()
    originate(client, ChannelId="leg-7")
    client.message()
    response = client.message()
    assert dict(response)["Event"] == "OriginateResponse"
    assert (dict(response)["Reason"], dict(response)["Uniqueid"]) == ("0", "leg-7")


def test_originate_errors_and_synchronous_originate(fake, login):
    client = login()
    fake.on_originate = lambda action: "error"
    originate(client)
    assert client.message() == [("Response", "Error"), ("ActionID", "a2"), ("Message", "Originate failed")]
    fake.on_originate = None
    originate(client, action_id="a3", Async="false")
    seen = client.until("DialEnd")
    assert dict(client.message())["Message"] == "Originate successfully queued"
    assert not any(("Event", "OriginateResponse") in m for m in seen)


# -- AMI: channels ------------------------------------------------------------------------

def test_core_show_channels_lists_the_live_channels(fake, login):
    fake.add_channel("PJSIP/citizen-00000001", "1795349736.0", context="onecall-hotline", exten="120")
    fake.add_channel("PJSIP/1001-00000002", "1795349736.1", linkedid="1795349736.0", state="Up",
                     application="ConfBridge", application_data="call-1")
    client = login()
    client.send(("Action", "CoreShowChannels"), ("ActionID", "c1"))
    assert client.message() == [("Response", "Success"), ("ActionID", "c1"), ("EventList", "start"),
                                ("Message", "Channels will follow")]
    listing = client.until("CoreShowChannelsComplete")
    assert keys(listing[0]) == ["Event", "ActionID", "Channel", "ChannelState", "ChannelStateDesc", "CallerIDNum",
                                "CallerIDName", "ConnectedLineNum", "ConnectedLineName", "Language", "AccountCode",
                                "Context", "Exten", "Priority", "Uniqueid", "Linkedid", "Application",
                                "ApplicationData", "Duration", "BridgeId"]
    assert [dict(m)["Linkedid"] for m in listing[:2]] == ["1795349736.0", "1795349736.0"]
    assert dict(listing[1])["Application"] == "ConfBridge" and dict(listing[0])["Duration"] == "00:00:00"
    assert listing[2] == [("Event", "CoreShowChannelsComplete"), ("ActionID", "c1"), ("EventList", "Complete"),
                          ("ListItems", "2")]


def test_hangup_action_and_remove_channel_emit_hangup(fake, login):
    fake.add_channel("PJSIP/1001-00000002", "1795349736.1")
    fake.add_channel("PJSIP/citizen-00000001", "1795349736.0")
    client = login()
    client.send(("Action", "Hangup"), ("ActionID", "h1"), ("Channel", "PJSIP/1001-00000002"))
    assert client.message() == [("Response", "Success"), ("ActionID", "h1"), ("Message", "Channel Hungup")]
    hangup = client.until("Hangup")[-1]
    real = captured_event("ami/asterisk22-local/05-bridge.rx.txt", "Hangup")
    assert keys(hangup) == keys(real)
    assert (dict(hangup)["Cause"], dict(hangup)["Cause-txt"]) == ("16", "Normal Clearing")
    client.send(("Action", "Hangup"), ("ActionID", "h2"), ("Channel", "PJSIP/1001-00000002"))
    assert client.message() == [("Response", "Error"), ("ActionID", "h2"), ("Message", "No such channel")]
    fake.remove_channel("1795349736.0", cause=17)
    assert dict(client.until("Hangup")[-1])["Cause-txt"] == "User busy"
    assert fake.channels == {}


def test_hangup_takes_a_uniqueid_and_a_ringing_originate_then_fails_as_hung_up(fake, login):
    # manager.c action_hangup looks Channel up by name, then by Uniqueid (channelstorage);
    # pbx_dial_reason turns a dialled channel hung up before answer into Reason 1 (hangup).
    fake.on_originate = lambda action: OriginateOutcome("no-answer", delay=30)
    client = login(events="system,call")
    originate(client, ChannelId="oc-leg-1")
    client.message()
    client.until("DialState")
    client.send(("Action", "Hangup"), ("ActionID", "h1"), ("Channel", "oc-leg-1"))
    seen = client.until("OriginateResponse")
    assert ("Response", "Success") in seen[0] and ("Message", "Channel Hungup") in seen[0]
    assert dict(next(m for m in seen if dict(m).get("Event") == "Hangup"))["Uniqueid"] == "oc-leg-1"
    response = dict(seen[-1])
    assert (response["Response"], response["Reason"], response["Uniqueid"]) == ("Failure", "1", "oc-leg-1")
    assert fake.channels == {}


# -- AMI: events ------------------------------------------------------------------------

def test_events_get_privilege_timestamp_and_follow_the_login_mask(fake, login):
    quiet = login(events="off")
    calls = login(events="system,call")
    fake.emit({"Event": "UserEvent", "UserEvent": "Ignored"})
    fake.emit_device_state("PJSIP/1001", "NOT_INUSE")
    state = calls.message()
    assert keys(state) == ["Event", "Privilege", "Timestamp", "Device", "State"]
    assert dict(state)["Privilege"] == "call,all"
    fake.emit_contact_status("1001", "Reachable")
    contact = calls.message()
    real = [(k, v) for k, v in next(m for m in blocks(capture("ami/ispbx_asterisk22/ami_debug_unanswered_call.log"),
                                                         b"\n") if ("Event", "ContactStatus") in m)
            if k not in ("SequenceNumber", "File", "Line", "Func")]
    assert keys(contact) == keys(real)
    assert fake.login_event_masks == ["off", "system,call"]
    quiet.sock.settimeout(0.1)
    with pytest.raises(socket.timeout):  # "Events: off": not even FullyBooted
        quiet.raw_message()
    fake.send_raw(b"Event: Broken\r\nno colon here\r\n\r\n")
    assert calls.raw_message() == quiet.raw_message() == b"Event: Broken\r\nno colon here\r\n\r\n"


# -- AMI: restart and network failure ---------------------------------------------------

def connect_outcome(port: int) -> str:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            return "banner" if sock.recv(64).startswith(b"Asterisk Call Manager/") else "closed"
    except ConnectionRefusedError:
        return "refused"
    except ConnectionResetError:
        return "reset"


def test_restart_hangs_up_shuts_down_refuses_then_comes_back(fake, login):
    fake.add_channel("PJSIP/citizen-00000001", "1795349736.0")
    client = login()
    port = fake.port
    fake.restart(new_channels=[{"channel": "PJSIP/citizen-00000009", "uniqueid": "1795349800.9"}],
                 down_for=0.3, reset_first_connection=True)
    tail = client.until("Shutdown")
    assert [dict(m)["Event"] for m in tail] == ["SoftHangupRequest", "Hangup", "Shutdown"]
    assert keys(tail[-1]) == keys(captured_event("ami/asterisk22-local/06-core-restart.rx.txt", "Shutdown"))
    assert client.at_eof()
    outcomes = []
    deadline = time.monotonic() + 3
    while (not outcomes or outcomes[-1] != "banner") and time.monotonic() < deadline:
        outcomes.append(connect_outcome(port))
        time.sleep(0.02)
    assert outcomes[-1] == "banner" and "reset" in outcomes
    assert "refused" in outcomes[outcomes.index("reset"):]
    again = login()
    again.send(("Action", "CoreShowChannels"), ("ActionID", "c2"))
    again.message()
    listing = again.until("CoreShowChannelsComplete")
    assert [dict(m)["Uniqueid"] for m in listing[:-1]] == ["1795349800.9"]
    assert fake.port == port and fake.wait_logged_in(1) == 1


def test_drop_cuts_connections_without_shutdown(fake, login):
    client = login()
    fake.drop()
    assert client.at_eof()
    login()
    assert fake.wait_logged_in(1) == 1 and fake.logins == 2


# -- FastAGI ------------------------------------------------------------------------------

class AgiServerSide:
    """The FastAGI server end, as a driver would hold it."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def environment(self) -> bytes:
        data = b""
        while not data.endswith(b"\n\n"):
            data += await self.reader.readline()
        return data

    async def line(self) -> str:
        return (await asyncio.wait_for(self.reader.readline(), 3)).decode().removesuffix("\n")

    async def command(self, text: str) -> str:
        self.writer.write(text.encode() + b"\n")
        return await self.line()


def run_fastagi(server_script, **channel_options) -> tuple:
    """Accept one FastAGI connection from a FakeAgiChannel and run `server_script(server, channel)`."""
    async def main():
        finished = asyncio.get_running_loop().create_future()

        async def handle(reader, writer):
            try:
                finished.set_result(await server_script(AgiServerSide(reader, writer), channel))
            except Exception as exc:
                finished.set_exception(exc)
            finally:
                writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        channel = FakeAgiChannel("127.0.0.1", server.sockets[0].getsockname()[1], **channel_options)
        await asyncio.to_thread(channel.start)
        try:
            return await asyncio.wait_for(finished, 5), channel
        finally:
            server.close()
            await server.wait_closed()

    result, channel = asyncio.run(main())
    channel.wait_closed()
    return result, channel


def env_keys(text: str, separator: str) -> list[str]:
    found = re.findall(r"'?(agi_\w+)'?" + separator, text)
    return [key for key in found if not key.startswith("agi_arg_")]


def test_environment_block_is_what_asterisk_sends():
    async def script(server, channel):
        return await server.environment()

    block, channel = run_fastagi(script, script="hotline", uniqueid="1795349864.3")
    lines = block.decode().split("\n")
    assert block.endswith(b"\n\n") and b"\r" not in block
    assert [line.split(": ")[0] for line in lines if line] == list(ENV_KEYS)
    assert lines[:3] == ["agi_network: yes", "agi_network_script: hotline",
                         f"agi_request: agi://127.0.0.1:{channel.port}/hotline"]
    assert "agi_type: PJSIP" in lines and "agi_version: 22.10.1" in lines and "agi_accountcode: " in lines
    assert "agi_uniqueid: 1795349864.3" in lines
    assert env_keys(capture("fastagi/panoramisk_fastagi_env.txt").decode(), ":") == list(ENV_KEYS)
    assert env_keys(capture("ami/asterisk22-local/08-fastagi-server-side.txt").decode(), ":") == list(ENV_KEYS)


def test_prompts_keys_and_variables():
    async def script(server, channel):
        await server.environment()
        replies = [await server.command("ANSWER"),
                   await server.command('STREAM FILE ko/welcome ""'),
                   await server.command('STREAM FILE ko/menu "12"')]
        started = time.monotonic()
        replies.append(await server.command("WAIT FOR DIGIT 5000"))
        waited = time.monotonic() - started
        channel.press("123#")
        replies += [await server.command("GET DATA ko/registry 3000 8"),
                    await server.command("GET DATA ko/registry 3000 8"),
                    await server.command("SET VARIABLE ROUTE queue-support"),
                    await server.command("GET VARIABLE ROUTE"),
                    await server.command("GET VARIABLE CALLERID(num)"),
                    await server.command("GET VARIABLE NOPE"),
                    await server.command("GET FULL VARIABLE ${ROUTE}-${CHANNEL}"),
                    await server.command('VERBOSE "OneCall says hi" 1'),
                    await server.command("SET MUSIC ON default"),
                    await server.command("EXEC Playback ko/thanks"),
                    await server.command("ANSWER\r"),
                    await server.command("SING A SONG")]
        usage = [await server.command("STREAM FILE")]
        while not usage[-1].startswith("520 "):
            usage.append(await server.line())
        return replies, usage, waited

    (replies, usage, waited), channel = run_fastagi(script, keys="2")
    assert replies == ["200 result=0", "200 result=0 endpos=16000", "200 result=50 endpos=4000", "200 result=0",
                       "200 result=123", "200 result= (timeout)", "200 result=1", "200 result=1 (queue-support)",
                       "200 result=1 (+821012345678)", "200 result=0",
                       "200 result=1 (queue-support-PJSIP/citizen-00000001)", "200 result=1", "200 result=0",
                       "200 result=0", "510 Invalid or unknown command", "510 Invalid or unknown command"]
    assert waited < 1.0
    assert usage[0] == "520-Invalid command syntax.  Proper usage follows:" and usage[-1] == "520 End of proper usage."
    assert len(usage) > 2
    assert channel.played == ["ko/welcome", "ko/menu", "ko/registry", "ko/registry"]
    assert channel.executed == [("Playback", "ko/thanks")] and channel.music_on and channel.answered
    assert ("verbose", "OneCall says hi", "1") in channel.log
    assert channel.commands[1] == 'STREAM FILE ko/welcome ""'


def test_caller_hangup_while_idle_sends_hangup_then_511():
    async def script(server, channel):
        await server.environment()
        answered = await server.command("ANSWER")
        channel.hangup()
        signal = await server.line()
        after = [await server.command('STREAM FILE ko/menu "12"'), await server.command("GET VARIABLE CALLERID(num)"),
                 await server.command("SET VARIABLE X 1"), await server.command("ANSWER")]
        return answered, signal, after

    (answered, signal, after), channel = run_fastagi(script)
    assert (answered, signal) == ("200 result=0", "HANGUP")
    assert after == [REPLY_DEAD, "200 result=1 (+821012345678)", "200 result=1", REPLY_DEAD]
    assert REPLY_DEAD == "511 Command Not Permitted on a dead channel or intercept routine"
    assert channel.hung_up and channel.closed


def test_hangup_during_a_blocking_application_answers_it_first():
    async def script(server, channel):
        await server.environment()
        server.writer.write(b"EXEC ConfBridge call-1\n")
        await asyncio.to_thread(channel.wait_executed, "ConfBridge")
        channel.hangup()
        return [await server.line(), await server.line(), await server.command("EXEC ConfBridge call-1")]

    lines, channel = run_fastagi(script)
    assert lines == ["200 result=-1", "HANGUP", "200 result=-1"]
    assert channel.executed == [("ConfBridge", "call-1"), ("ConfBridge", "call-1")]


def test_leaving_an_application_and_the_server_hanging_up():
    async def script(server, channel):
        await server.environment()
        server.writer.write(b"EXEC MusicOnHold default\n")
        left = await asyncio.to_thread(channel.leave_application, 0)
        replies = [left, await server.line(), await server.command("HANGUP"), await server.line(),
                   await server.command("NOOP"), await server.command('STREAM FILE x ""')]
        return replies

    replies, channel = run_fastagi(script)
    assert replies == ["MusicOnHold", "200 result=0", "200 result=1", "HANGUP", "200 result=0", REPLY_DEAD]
    assert ("hangup", "server") in channel.log


def test_parse_args_groups_quotes_like_res_agi():
    assert parse_args('STREAM FILE "hello world" ""') == ["STREAM", "FILE", "hello world", ""]
    assert parse_args(r'SET VARIABLE X "say \"hi\""') == ["SET", "VARIABLE", "X", 'say "hi"']
    assert parse_args("EXEC Dial PJSIP/1001,30 extra") == ["EXEC", "Dial", "PJSIP/1001,30", "extra"]
