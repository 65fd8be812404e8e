"""Parity: the same key presses through the Twilio driver and the Asterisk driver give the
same flow actions, step by step, and the same routing decision."""
from __future__ import annotations

import pytest

from tests.telephony.asterisk.test_asterisk_call import AgentPhones, citizen_channel, make_available
from tests.conftest import wait_for
from tests.webhooks.helpers import dial_in, new_call_sid


class RecordingInterpreter:
    """The real interpreter, noting the actions of every step it takes."""

    def __init__(self, inner) -> None:
        self._inner = inner
        self.steps: list[tuple] = []

    def _noted(self, step):
        self.steps.append(step.actions)
        return step

    def start(self, *args, **kwargs):
        return self._noted(self._inner.start(*args, **kwargs))

    def handle(self, state, event, *args, **kwargs):
        if type(event).__name__ == "CallerHungUp":
            return self._inner.handle(state, event, *args, **kwargs)  # the end of a call is not a flow turn
        return self._noted(self._inner.handle(state, event, *args, **kwargs))

    def fallback(self, *args, **kwargs):
        return self._noted(self._inner.fallback(*args, **kwargs))


CASES = {
    "known caller, Korean, fines": ("+821012345678", ["1", "2"]),
    "known caller, English, welfare": ("+821098765432", ["2", "4"]),
    "unknown caller types a registry number": ("+821099990000", ["1", "5", "34567890#"]),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_same_keys_same_actions_same_agent(case, app, client, twilio, asterisk_runtime, driver, fake_asterisk):
    caller, keys = CASES[case]
    twilio_runtime = app.extensions["onecall"]
    twilio_runtime.interpreter = RecordingInterpreter(twilio_runtime.interpreter)
    asterisk_runtime.interpreter = RecordingInterpreter(asterisk_runtime.interpreter)
    agents = [a.id for a in asterisk_runtime.config.agents]

    # Through Twilio: signed webhooks, Digits without the finishing '#', as Twilio sends them.
    make_available(twilio_runtime, *agents)
    call_sid = new_call_sid()
    dial_in(twilio, call_sid, caller, *[key.rstrip("#") for key in keys])
    twilio_agent = wait_for(lambda: twilio_runtime.routing.call(call_sid).agent_id)
    twilio_runtime.calls.ended(call_sid, "test-over")

    # The same presses through Asterisk, from the same router state.
    for agent in agents:
        if asterisk_runtime.routing.agent(agent).status == "wrapup":
            asterisk_runtime.routing.finish_wrapup(agent)
    make_available(asterisk_runtime, *agents)
    AgentPhones(driver, fake_asterisk)
    channel = citizen_channel(driver, fake_asterisk, keys="".join(keys), callerid=caller)
    channel.wait_executed("ConfBridge")
    asterisk_agent = asterisk_runtime.routing.call(channel.uniqueid).agent_id

    assert asterisk_runtime.interpreter.steps == twilio_runtime.interpreter.steps
    assert asterisk_agent == twilio_agent
    route = twilio_runtime.interpreter.steps[-1][-1]
    assert type(route).__name__ == "Route"
    channel.hangup()
