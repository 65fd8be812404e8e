"""OneCall's Asterisk driver against a real Asterisk 22 (Local channels as phones): what the
fake AMI server and fake FastAGI channels cannot show."""
from __future__ import annotations

import pytest

from tests.conftest import wait_for
from tests.integration.conftest import Citizen, in_room

pytestmark = pytest.mark.asterisk_real

FINES_IN_KOREAN = [("language_menu", "1"), ("department_menu", "2")]


def test_a_full_call_from_the_menu_to_the_agents_wrapup(hotline):
    hotline.make_available("kim.minji")
    citizen = Citizen(hotline.ami).dial(FINES_IN_KOREAN)
    call_id = citizen.call_id

    # Routed to the fines agent; their Local phone rings, answers, and both meet in oc-<Uniqueid>.
    wait_for(lambda: hotline.call_field(call_id, "state") == "connected", timeout=60)
    assert hotline.call_field(call_id, "agent_id") == "kim.minji"
    assert hotline.call_field(call_id, "skill") == "fines"
    assert hotline.agent_status("kim.minji") == "busy"
    leg = hotline.agent_leg(call_id)
    room = wait_for(lambda: (members := in_room(hotline, call_id)) and len(members) == 2 and members, timeout=30)
    assert citizen.line in room
    assert any(channel.startswith("Local/1001@fake-phones-") and channel.endswith(";1") for channel in room)
    assert leg in hotline.ami.uniqueids()

    # The citizen hangs up: the call ends, the agent goes to wrap-up, Asterisk keeps nothing of it.
    citizen.hang_up()
    wait_for(lambda: hotline.call_field(call_id, "state") == "ended", timeout=20)
    wait_for(lambda: hotline.agent_status("kim.minji") == "wrapup", timeout=20)
    wait_for(lambda: not {call_id, leg} & hotline.ami.uniqueids(), timeout=20)
    assert in_room(hotline, call_id) == set()


def ring_then_connect(hotline, agent_id: str = "kim.minji") -> tuple[Citizen, str]:
    hotline.make_available(agent_id)
    citizen = Citizen(hotline.ami).dial(FINES_IN_KOREAN)
    wait_for(lambda: hotline.call_field(citizen.call_id, "state") == "connected", timeout=60)
    wait_for(lambda: len(in_room(hotline, citizen.call_id)) == 2, timeout=30)
    return citizen, hotline.agent_leg(citizen.call_id)


def test_b_citizen_hangs_up_while_the_agents_phone_rings(hotline):
    hotline.ami.action({"Action": "Setvar", "Variable": "PHONE_1001_RING", "Value": "300"})  # nobody picks up
    hotline.make_available("kim.minji")
    citizen = Citizen(hotline.ami).dial(FINES_IN_KOREAN)
    call_id = citizen.call_id
    wait_for(lambda: hotline.call_field(call_id, "state") == "reserved", timeout=60)
    leg = wait_for(lambda: hotline.agent_leg(call_id), timeout=10)
    wait_for(lambda: leg in hotline.ami.uniqueids(), timeout=20)  # the phone is ringing

    citizen.hang_up()
    wait_for(lambda: hotline.call_field(call_id, "state") == "ended", timeout=20)
    # The phone would ring for minutes (ring timeout 120 s): only OneCall cancelling the
    # Originate's channel ends it, and the agent is free for the next call.
    wait_for(lambda: leg not in hotline.ami.uniqueids(), timeout=15)
    assert hotline.agent_status("kim.minji") == "available"


def test_c_asterisk_lost_mid_call_the_reconnect_resync_closes_the_call(hotline_factory):
    """Asterisk's host dies with a connected call (SIGKILL, and the FastAGI path never tells
    OneCall: the relay holds OneCall's side open, as a network does when the host is gone).
    Only the AMI reconnect's resync (FullyBooted -> CoreShowChannels) can close the call."""
    hotline = hotline_factory(relay=True)
    citizen, leg = ring_then_connect(hotline)
    call_id = citizen.call_id
    resyncs_before = hotline.resyncs()

    hotline.relay.hold_open = True
    hotline.asterisk.kill()
    hotline.asterisk.start()
    hotline.reconnect_tester()

    wait_for(lambda: hotline.resyncs() > resyncs_before, timeout=60)
    wait_for(lambda: hotline.call_field(call_id, "state") == "ended", timeout=20)
    assert hotline.call_field(call_id, "end_reason") == "channel-gone"
    assert hotline.agent_status("kim.minji") == "wrapup"
    assert not {call_id, leg} & hotline.ami.uniqueids()


def test_c_asterisk_restarts_mid_call_and_the_driver_reconnects_with_nothing_left(hotline):
    """`core restart now` with a connected call: Asterisk hangs the channels up (FastAGI
    HANGUP, AMI Hangup), restarts, the driver logs in again and resyncs; the call is ended,
    the agent in wrap-up, and the next call is taken on the new Asterisk."""
    citizen, leg = ring_then_connect(hotline)
    call_id = citizen.call_id
    resyncs_before = hotline.resyncs()

    hotline.ami.send({"Action": "Command", "Command": "core restart now"})
    assert hotline.ami.closed.wait(30), "Asterisk did not go down for the restart"
    hotline.reconnect_tester()
    wait_for(lambda: hotline.resyncs() > resyncs_before, timeout=60)
    wait_for(lambda: hotline.call_field(call_id, "state") == "ended", timeout=20)
    assert hotline.agent_status("kim.minji") == "wrapup"

    hotline.make_available("park.seojun")  # fines 3: the next fines agent while kim.minji wraps up
    second = Citizen(hotline.ami).dial(FINES_IN_KOREAN)
    wait_for(lambda: hotline.call_field(second.call_id, "state") == "connected", timeout=60)
    assert hotline.call_field(second.call_id, "agent_id") == "park.seojun"
    second.hang_up()
    wait_for(lambda: hotline.agent_status("park.seojun") == "wrapup", timeout=20)
