"""Parity: the same key presses through the Twilio driver and the Asterisk driver give the
same flow actions, step by step, and the same routing decision."""
from __future__ import annotations

import pytest

from ivr.events import CallerHungUp

from tests.telephony.asterisk.test_asterisk_call import AgentPhones, citizen_channel, make_available
from tests.conftest import wait_for
from tests.webhooks.helpers import dial_in, new_call_sid


def record_steps(interpreter, monkeypatch) -> list[tuple]:
    """The actions of every flow step `interpreter` takes from now on (the real interpreter
    runs; the end of a call is not a flow turn and is not noted)."""
    steps: list[tuple] = []
    depth = [0]  # only the driver's calls are steps, not the interpreter's calls to itself

    def noted(method):
        def run(*args, **kwargs):
            depth[0] += 1
            try:
                step = method(*args, **kwargs)
            finally:
                depth[0] -= 1
            if depth[0] == 0 and not (method.__name__ == "handle" and isinstance(args[1], CallerHungUp)):
                steps.append(step.actions)
            return step
        return run

    for name in ("start", "handle", "fallback"):
        monkeypatch.setattr(interpreter, name, noted(getattr(interpreter, name)))
    return steps


CASES = {
    "known caller, Korean, fines": ("+821012345678", ["1", "2"]),
    "known caller, English, welfare": ("+821098765432", ["2", "4"]),
    "unknown caller types a registry number": ("+821099990000", ["1", "5", "34567890#"]),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_same_keys_same_actions_same_agent(case, web, twilio, asterisk_application, driver, fake_asterisk, monkeypatch):
    caller, keys = CASES[case]
    twilio_application = web.application
    twilio_steps = record_steps(twilio_application.interpreter, monkeypatch)
    asterisk_steps = record_steps(asterisk_application.interpreter, monkeypatch)
    agents = [a.id for a in asterisk_application.config.agents]

    # Through Twilio: signed webhooks, Digits without the finishing '#', as Twilio sends them.
    make_available(twilio_application, *agents)
    call_sid = new_call_sid()
    dial_in(twilio, call_sid, caller, *[key.rstrip("#") for key in keys])
    twilio_agent = wait_for(lambda: twilio_application.routing.call(call_sid).agent_id)
    twilio_application.calls.ended(call_sid, "test-over")

    # The same presses through Asterisk, from the same router state.
    for agent in agents:
        if asterisk_application.routing.agent(agent).status == "wrapup":
            asterisk_application.routing.finish_wrapup(agent)
    make_available(asterisk_application, *agents)
    AgentPhones(driver, fake_asterisk)
    channel = citizen_channel(driver, fake_asterisk, keys="".join(keys), callerid=caller)
    channel.wait_executed("ConfBridge")
    asterisk_agent = asterisk_application.routing.call(channel.uniqueid).agent_id

    assert asterisk_steps == twilio_steps
    assert asterisk_agent == twilio_agent
    route = twilio_steps[-1][-1]
    assert type(route).__name__ == "Route"
    channel.hangup()
