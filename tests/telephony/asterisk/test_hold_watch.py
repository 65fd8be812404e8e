"""Holding callers are woken by one watcher per driver (`telephony.asterisk.hold_watch`): it
reads all their calls' states in one round trip and wakes only those whose call moved."""
from __future__ import annotations

from telephony.asterisk.hold_watch import HoldWatch
from routing import CallRequest, RoutingStore
from tests.telephony.asterisk.test_asterisk_call import CITIZEN_UNIQUEID, citizen_channel


def test_a_poll_wakes_only_the_holders_whose_call_changed_until_they_act_on_it(redis_client):
    store = RoutingStore(redis_client, namespace="hold-watch")
    for call_id in ("c1", "c2", "c3", "c4"):
        store.enqueue(CallRequest(call_id, "tax", "ko"))
    watch = HoldWatch(store)
    woken = {call_id: watch.hold(call_id) for call_id in ("c1", "c2", "c3", "c4")}
    for call_id in ("c1", "c2", "c3"):  # c4's holder has not read its call yet: nothing to compare
        watch.saw(call_id, "waiting")
    store.end_call("c2", "hangup")
    redis_client.delete(store.keys.call("c3"))  # gone from the router altogether
    store.end_call("c4", "hangup")

    assert watch.poll() == 2
    assert sorted(call_id for call_id, event in woken.items() if event.is_set()) == ["c2", "c3"]

    woken["c2"].clear()
    assert watch.poll() == 2  # c2's holder has not acted on "ended" yet: woken again
    watch.saw("c2", "ended")
    watch.release("c3")
    woken["c2"].clear()
    assert watch.poll() == 0


def test_the_agent_answering_in_this_process_wakes_its_caller_at_once(redis_client):
    watch = HoldWatch(RoutingStore(redis_client, namespace="hold-watch"))
    event = watch.hold("c1")
    watch.wake("c1")
    watch.wake("not-holding")  # a call nobody holds for here: nothing to do
    assert event.is_set()


def test_a_holding_caller_joins_the_room_when_the_call_is_connected_elsewhere(asterisk_application, driver,
                                                                              fake_asterisk):
    # The reservation and the answer happen outside this driver (another process's desk or
    # driver): only the watcher can tell the holding caller.
    application = asterisk_application
    citizen = citizen_channel(driver, fake_asterisk, keys="12")
    citizen.wait_for(lambda: citizen.music_on)
    reservation = application.routing.set_status("park.seojun", "available")  # not dispatched: nobody rung here
    assert reservation.call_id == CITIZEN_UNIQUEID
    application.routing.accept(CITIZEN_UNIQUEID, "park.seojun")
    citizen.wait_executed("ConfBridge", timeout=10)
    citizen.hangup()


def test_a_holding_caller_is_let_go_when_the_router_ends_the_call_elsewhere(asterisk_application, driver,
                                                                            fake_asterisk):
    application = asterisk_application
    citizen = citizen_channel(driver, fake_asterisk, keys="12")
    citizen.wait_for(lambda: citizen.music_on)
    application.routing.end_call(CITIZEN_UNIQUEID, "ended-elsewhere")
    citizen.wait_closed(timeout=10)
