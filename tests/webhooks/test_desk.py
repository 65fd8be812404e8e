"""The agent desktop: login, live pops over server-sent events, status, close and ready."""
from __future__ import annotations

import json

from tests.conftest import wait_for
from tests.webhooks.helpers import dial_in, new_call_sid


def _login(app, agent_id="kim.minji", pin="1001"):
    desk = app.test_client()
    desk.post("/desk/login", data={"agent_id": agent_id, "pin": pin})
    return desk


def _events(stream):
    """Parse server-sent events from a streamed response, one chunk at a time."""
    for chunk in stream.response:
        text = chunk.decode() if isinstance(chunk, bytes) else chunk
        kind = text.split("\n", 1)[0].removeprefix("event: ")
        data = json.loads(text.split("data: ", 1)[1])
        yield kind, data


def test_wrong_pin_is_refused(app):
    desk = _login(app, pin="9999")
    assert desk.get("/desk/state").status_code == 401
    # The login page shows only its own messages, never text from the address bar.
    assert "wrong PIN" not in desk.get("/desk/?error=unknown+agent+or+wrong+PIN").get_data(as_text=True)


def test_pop_arrives_live_on_the_event_stream(app, twilio, twilio_api):
    desk = _login(app)
    assert desk.post("/desk/status", json={"status": "available"}).get_json()["agent"]["status"] == "available"
    stream = desk.get("/desk/events", buffered=False)
    assert stream.mimetype == "text/event-stream"
    events = _events(stream)
    kind, data = next(events)
    assert kind == "state" and data["agent"]["status"] == "available" and data["pop"] is None

    call_sid = new_call_sid()
    dial_in(twilio, call_sid, "+821012345678", "1", "2")
    kind, data = next(events)
    assert kind == "pop"
    assert data["call"]["id"] == call_sid and data["citizen"]["name"] == "김영희"
    kind, data = next(events)
    assert kind == "state" and data["agent"]["status"] == "reserved"
    stream.close()
    wait_for(lambda: twilio_api.calls)


def test_desk_status_changes_refused_on_a_call_and_need_json(app, twilio, twilio_api):
    desk = _login(app)
    desk.post("/desk/status", json={"status": "available"})
    dial_in(twilio, new_call_sid(), "+821012345678", "1", "2")
    response = desk.post("/desk/status", json={"status": "break"})
    assert response.status_code == 409 and response.get_json()["error"] == "invalid-agent-transition"
    assert desk.post("/desk/status", data={"status": "break"}).status_code == 400  # a cross-site form cannot post JSON
    wait_for(lambda: twilio_api.calls)


def test_desk_page_renders_for_logged_in_agent(app):
    page = _login(app).get("/desk/").get_data(as_text=True)
    assert "김민지" in page and "/desk/events" in app.test_client().get("/static/desk.js").get_data(as_text=True)


def test_a_ringing_call_cannot_be_closed_before_it_is_answered(web, app, twilio, twilio_api):
    application = web.application
    desk = _login(app)
    desk.post("/desk/status", json={"status": "available"})
    call_sid = new_call_sid()
    dial_in(twilio, call_sid, "+821012345678", "1", "2")
    wait_for(lambda: twilio_api.calls)
    response = desk.post("/desk/outcome", json={"note": "closing too early"})
    assert response.status_code == 400 and response.get_json()["details"]["field"] == "call"
    assert application.routing.call(call_sid).state == "reserved"
    assert len(application.registry.consultations("C-0001")) == 2
