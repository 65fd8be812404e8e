"""The AMI frame parser and the AGI reply parser on the edge cases real sockets produce."""
from __future__ import annotations

import pytest

from telephony.asterisk.agi import AgiProtocolError, parse_reply, quote
from telephony.asterisk.ami_wire import AmiFrameParser

KOREAN_EVENT = "Event: Newchannel\r\nCallerIDName: 김민지\r\nUniqueid: 1795349864.3\r\n\r\n".encode()


def test_banner_then_messages():
    parser = AmiFrameParser()
    messages = parser.feed(b"Asterisk Call Manager/11.0.0\r\nResponse: Success\r\nActionID: a1\r\n"
                           b"Message: Authentication accepted\r\n\r\n")
    assert parser.banner == "11.0.0"
    assert messages == [{"Response": "Success", "ActionID": "a1", "Message": "Authentication accepted"}]


@pytest.mark.parametrize("cut", range(1, len(KOREAN_EVENT)))
def test_any_read_boundary_gives_the_same_message(cut):
    parser = AmiFrameParser()
    parser.banner = ""
    messages = parser.feed(KOREAN_EVENT[:cut]) + parser.feed(KOREAN_EVENT[cut:])
    assert messages == [{"Event": "Newchannel", "CallerIDName": "김민지", "Uniqueid": "1795349864.3"}]


def test_repeated_headers_become_a_list_and_empty_values_stay():
    parser = AmiFrameParser()
    parser.banner = ""
    [message] = parser.feed(b"Event: Hangup\r\nAccountCode: \r\nChanVariable: a=1\r\nChanVariable: b=2\r\n\r\n")
    assert message == {"Event": "Hangup", "AccountCode": "", "ChanVariable": ["a=1", "b=2"]}


def test_malformed_frames_are_reported_and_the_stream_goes_on():
    malformed = []
    parser = AmiFrameParser(on_malformed=malformed.append)
    parser.banner = ""
    messages = parser.feed(b"garbage without colon\r\n\r\nKey: value\r\n\r\nEvent: A\r\nEvent: B\r\n\r\n"
                           b"Event: FullyBooted\r\nStatus: Fully Booted\r\n\r\n")
    assert messages == [{"Event": "FullyBooted", "Status": "Fully Booted"}]
    assert [error.reason for error in malformed] == [
        "line without 'Key: Value': 'garbage without colon'",
        "neither an Event nor a Response",
        "a second Event header inside one message",
    ]


def test_asterisk_11_command_output_keeps_its_body():
    parser = AmiFrameParser()
    parser.banner = ""
    data = (b"Response: Follows\r\nPrivilege: Command\r\nActionID: c1\r\nAsterisk 11.11.0\r\n\r\nsecond line\r\n"
            b"--END COMMAND--\r\n\r\nEvent: FullyBooted\r\n\r\n")
    assert parser.feed(data) == [
        {"Response": "Follows", "Privilege": "Command", "ActionID": "c1", "Output": ["Asterisk 11.11.0", "", "second line"]},
        {"Event": "FullyBooted"},
    ]


@pytest.mark.parametrize("line, code, result, data, fields", [
    ("200 result=1", 200, "1", None, {}),
    ("200 result=1 (5550008)", 200, "1", "5550008", {}),
    ("200 result=50 endpos=12000", 200, "50", None, {"endpos": "12000"}),
    ("200 result= (timeout)", 200, "", "timeout", {}),
    ("200 result=-1", 200, "-1", None, {}),
    ("510 Invalid or unknown command", 510, "", None, {}),
    ("511 Command Not Permitted on a dead channel or intercept routine", 511, "", None, {}),
])
def test_agi_replies(line, code, result, data, fields):
    reply = parse_reply(line)
    assert (reply.code, reply.result, reply.data, reply.fields) == (code, result, data, fields)


def test_agi_garbage_is_a_protocol_error():
    with pytest.raises(AgiProtocolError):
        parse_reply("HELLO")


def test_agi_arguments_are_quoted_only_when_needed():
    assert quote("/var/lib/onecall/prompts/ko/welcome") == "/var/lib/onecall/prompts/ko/welcome"
    assert quote("") == '""'
    assert quote('a "b" c') == '"a \\"b\\" c"'
