"""Desk logins: sessions end for every copy of the cookie at logout, and wrong PINs are
throttled per agent id and per client address, with the lockouts visible to operators."""
from __future__ import annotations

import threading

from tests.conftest import API_TOKEN

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
LOCKED_KO = "로그인 시도가 너무 많아"
FAILED_KO = "상담원 ID 또는 PIN이 올바르지 않습니다"


def _post_login(desk, agent_id: str, pin: str, address: str = "10.20.0.1"):
    return desk.post("/desk/login", data={"agent_id": agent_id, "pin": pin}, environ_base={"REMOTE_ADDR": address})


def _wrong_pins(app, agent_id: str, times: int, address: str = "10.20.0.1") -> list[int]:
    desk = app.test_client()
    return [_post_login(desk, agent_id, "0000", address).status_code for _ in range(times)]


def _logged_in(app, agent_id="kim.minji", pin="1001", address="10.20.0.1"):
    desk = app.test_client()
    response = _post_login(desk, agent_id, pin, address)
    assert response.status_code == 302, response.get_data(as_text=True)
    return desk


# -- sessions ------------------------------------------------------------------------
def test_a_copied_cookie_is_refused_once_the_agent_logs_out(app):
    desk = _logged_in(app)
    copy = app.test_client()
    copy.set_cookie("session", desk.get_cookie("session").value)
    assert copy.get("/desk/state").status_code == 200  # a copy works while the session lives

    desk.post("/desk/logout")

    assert copy.get("/desk/state").status_code == 401
    page = copy.get("/desk/")
    assert page.status_code == 200 and 'action="/desk/login"' in page.get_data(as_text=True)
    assert copy.post("/desk/status", json={"status": "available"}).status_code == 401
    assert desk.get("/desk/state").status_code == 401


def test_logging_in_again_ends_the_previous_session_of_that_browser(app):
    desk = _logged_in(app)
    old_cookie = desk.get_cookie("session").value
    assert _post_login(desk, "park.seojun", "1003").status_code == 302
    stale = app.test_client()
    stale.set_cookie("session", old_cookie)
    assert stale.get("/desk/state").status_code == 401
    assert desk.get("/desk/state").get_json()["agent"]["agent_id"] == "park.seojun"


def test_a_cookie_naming_an_agent_but_no_session_is_refused(app):
    """A cookie signed with the secret key but holding no server-side session (the shape the
    desk used before) gives no access."""
    forged = app.test_client()
    with forged.session_transaction("/desk/") as cookie_session:
        cookie_session["agent_id"] = "kim.minji"
    assert forged.get("/desk/state").status_code == 401


# -- wrong PINs ---------------------------------------------------------------------
def test_wrong_pin_is_refused_in_korean_and_english_without_saying_which(app):
    desk = app.test_client()
    for agent_id in ("kim.minji", "no.such.agent"):
        response = _post_login(desk, agent_id, "9999")
        text = response.get_data(as_text=True)
        assert response.status_code == 401
        assert FAILED_KO in text and "Unknown agent ID or wrong PIN" in text
    assert desk.get("/desk/state").status_code == 401


def test_five_wrong_pins_lock_the_agent_and_four_do_not(app):
    assert _wrong_pins(app, "kim.minji", 4) == [401] * 4
    _logged_in(app)  # after four, the right PIN still works (and clears the count)

    assert _wrong_pins(app, "kim.minji", 4) == [401] * 4
    assert _wrong_pins(app, "kim.minji", 1) == [429]  # the fifth locks
    response = _post_login(app.test_client(), "kim.minji", "1001", address="10.99.0.5")  # right PIN, elsewhere
    text = response.get_data(as_text=True)
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    assert LOCKED_KO in text and "Too many login attempts" in text and "15분" in text


def test_a_right_pin_resets_the_agents_count(app):
    for _ in range(3):
        assert _wrong_pins(app, "kim.minji", 4) == [401] * 4
        _logged_in(app)


def test_an_unknown_agent_id_locks_like_a_real_one(app, caplog):
    assert _wrong_pins(app, "no.such.agent", 5) == [401] * 4 + [429]
    assert _wrong_pins(app, "no.such.agent", 1) == [429]
    assert "desk login locked for 900 s after too many wrong PINs (agent id 'no.such.agent'" in caplog.text


def test_guessing_at_many_agents_from_one_address_locks_the_address(app):
    agents = ["kim.minji", "park.seojun", "lee.jiwon", "choi.yuna", "jung.hoon"]
    for agent_id in agents[:4]:  # 4 wrong PINs each: no agent reaches its own limit
        assert _wrong_pins(app, agent_id, 4, address="10.66.6.6") == [401] * 4
    # The 20th failure from this address locks it: any agent, even with the right PIN, is refused there.
    assert _wrong_pins(app, agents[4], 4, address="10.66.6.6") == [401, 401, 401, 429]
    response = _post_login(app.test_client(), "kang.sora", "1006", address="10.66.6.6")
    assert response.status_code == 429
    # The same agent from another address, and the agents guessed at, still log in.
    _logged_in(app, "kang.sora", "1006", address="10.20.0.9")
    _logged_in(app, "kim.minji", "1001", address="10.20.0.9")


def test_parallel_guesses_cannot_overtake_the_count(app):
    """Each attempt is counted before its PIN is compared, so a burst gets five tries, not thirty."""
    statuses: list[int] = []
    lock = threading.Lock()

    def guess(n: int) -> None:
        status = _post_login(app.test_client(), "kim.minji", f"{n:04d}", address=f"10.30.0.{n}").status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(2, 32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [401] * statuses.count(401) + [429] * statuses.count(429)
    assert statuses.count(401) <= 5 and len(statuses) == 30


# -- the operator's view --------------------------------------------------------------
def test_operators_see_and_lift_lockouts_through_the_api(app, client):
    _wrong_pins(app, "kim.minji", 2)
    agents = {a["agent_id"]: a for a in client.get("/api/agents", headers=AUTH).get_json()["agents"]}
    assert agents["kim.minji"]["login"] == {"failures": 2, "locked_until": None}
    assert agents["lee.jiwon"]["login"] == {"failures": 0, "locked_until": None}
    assert client.get("/api/lockouts", headers=AUTH).get_json() == {"lockouts": []}

    _wrong_pins(app, "kim.minji", 3)
    agents = {a["agent_id"]: a for a in client.get("/api/agents", headers=AUTH).get_json()["agents"]}
    assert agents["kim.minji"]["login"]["failures"] == 5 and agents["kim.minji"]["login"]["locked_until"] > 0
    lockouts = client.get("/api/lockouts", headers=AUTH).get_json()["lockouts"]
    assert [(lock["kind"], lock["id"], lock["failures"]) for lock in lockouts] == [("agent", "kim.minji", 5)]

    response = client.delete("/api/lockouts/agent/kim.minji", headers=AUTH)
    assert response.status_code == 200
    assert client.get("/api/lockouts", headers=AUTH).get_json() == {"lockouts": []}
    _logged_in(app)

    response = client.delete("/api/lockouts/agent/kim.minji", headers=AUTH)
    assert response.status_code == 404 and response.get_json()["error"] == "no-such-lockout"
    assert client.delete("/api/lockouts/planet/mars", headers=AUTH).status_code == 404
    assert client.get("/api/lockouts").status_code == 401


def test_an_address_lockout_is_listed_and_lifted(app, client):
    for agent_id in ("a.one", "a.two", "a.three", "a.four", "a.five"):
        _wrong_pins(app, agent_id, 4, address="192.0.2.44")
    assert _post_login(app.test_client(), "kim.minji", "1001", address="192.0.2.44").status_code == 429
    lockouts = client.get("/api/lockouts", headers=AUTH).get_json()["lockouts"]
    assert [(lock["kind"], lock["id"]) for lock in lockouts] == [("address", "192.0.2.44")]
    assert client.delete("/api/lockouts/address/192.0.2.44", headers=AUTH).status_code == 200
    _logged_in(app, address="192.0.2.44")


def test_logging_out_ends_the_open_event_stream_of_a_copied_cookie(app):
    desk = _logged_in(app)
    copy = app.test_client()
    copy.set_cookie("session", desk.get_cookie("session").value)
    stream = copy.get("/desk/events", buffered=False)
    chunks = (c.decode() if isinstance(c, bytes) else c for c in stream.response)
    assert next(chunks).startswith("event: state")
    desk.post("/desk/logout")
    reader = threading.Thread(target=lambda: list(chunks), daemon=True)
    reader.start()
    reader.join(timeout=10)  # the stream ends at once instead of running on for minutes
    assert not reader.is_alive(), "the event stream of a logged-out session is still open"
    stream.close()
