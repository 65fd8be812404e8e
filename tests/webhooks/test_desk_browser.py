"""The desk in a real browser: Debian's chromium, driven by Playwright, on a real OneCall web
process (werkzeug on a loopback port). The agent logs in with the softphone page loaded,
takes a signed Twilio call, lets the wrap-up run out and still saves the note; the next
call from the same citizen shows it in the history, dated in the hotline's time zone.

Screenshots go to artifacts/screenshots/ (git-ignored). Skipped, saying why, when Playwright
or chromium is missing (`apt-get install chromium fonts-noto-cjk`, `pip install playwright`).
"""
from __future__ import annotations

import dataclasses
import os
import re
import shutil
import threading
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import jwt
import pytest

from tests.conftest import ROOT, TwilioSigner, free_port, start_web_process, wait_for
from tests.webhooks.helpers import KNOWN_CALLER, caller_params, dial_in, new_call_sid, twiml
from tests.webhooks.test_desk_outcomes import with_wrapup

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)")
CHROMIUM = os.environ.get("ONECALL_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine (apt-get install chromium)")

SCREENSHOTS = ROOT / "artifacts" / "screenshots"
WRAPUP_SECONDS = 3
SOFTPHONE_SECRET = "softphone-api-secret-0123456789abcdef"
NOTE = "과태료 40,000원 가상계좌 안내, 다음 주 납부 예정"


@pytest.fixture()
def served(deployment_dir, settings, redis_client):
    """A OneCall web process with a short wrap-up and the softphone configured, on a real socket."""
    from werkzeug.serving import make_server

    softphone = dataclasses.replace(settings, twilio_api_key="SK" + "12" * 16, twilio_twiml_app_sid="AP" + "34" * 16,
                                    twilio_api_secret=SOFTPHONE_SECRET)
    web = start_web_process(with_wrapup(deployment_dir, WRAPUP_SECONDS), softphone, redis_client)
    server = make_server("127.0.0.1", free_port(), web.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield web, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    web.stop()


@pytest.fixture()
def page():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        # Nothing but loopback resolves: the softphone cannot reach Twilio from a test.
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--autoplay-policy=no-user-gesture-required"])
        context = browser.new_context(locale="ko-KR", viewport={"width": 1280, "height": 900})
        context.route_web_socket(re.compile(".*"), lambda ws: None)  # Twilio's signalling: answered by no one
        yield context.new_page()
        browser.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def status_is(page, text: str) -> None:
    sync_api.expect(page.locator("#status")).to_contain_text(text, timeout=15_000)


def answer_leg(twilio, twilio_api, rung: int) -> None:
    leg = wait_for(lambda: len(twilio_api.calls) > rung and twilio_api.calls[-1])
    twiml(twilio.post(leg.url, {"CallSid": leg.sid, "From": leg.from_, "To": leg.to,
                                "CallStatus": "in-progress", "Direction": "outbound-api"}))


def test_the_note_is_saved_after_the_wrapup_ran_out_in_a_real_browser(served, page, twilio_api):
    web, base_url = served
    twilio = TwilioSigner(web.app.test_client())
    page.goto(f"{base_url}/desk/")
    page.get_by_label("상담원 ID / Agent ID").fill("kim.minji")
    page.get_by_label("PIN").fill("1001")
    shot(page, "01-login")
    page.get_by_role("button", name="로그인 / Log in").click()
    status_is(page, "오프라인 / Offline")
    assert page.evaluate("typeof window.Twilio.Device") == "function"  # the vendored SDK loaded
    assert page.locator("#ready").is_disabled() and page.locator("#extend").is_disabled()

    page.keyboard.press("Alt+1")  # available, from the keyboard
    status_is(page, "상담 가능 / Available")
    assert page.locator("button[data-status=available]").is_disabled()
    shot(page, "02-available")

    call_sid = new_call_sid()
    dial_in(twilio, call_sid, KNOWN_CALLER, "1", "2")
    sync_api.expect(page.locator("#caller")).to_contain_text("김영희", timeout=15_000)
    sync_api.expect(page.locator("#alert")).to_contain_text("새 전화 / Incoming call")
    status_is(page, "전화 연결 중 / Ringing")
    sync_api.expect(page.locator("#identity")).to_contain_text("서울 종로구 세종대로 110")
    sync_api.expect(page.locator("#open-items")).to_contain_text("TAX-2026-0913-552")
    shot(page, "03-pop")

    answer_leg(twilio, twilio_api, 0)
    status_is(page, "통화 중 / On a call")
    sync_api.expect(page.locator("#timer")).to_contain_text("통화 시간 / Call time")
    shot(page, "04-on-a-call")

    twilio.post("/twilio/status", caller_params(call_sid, KNOWN_CALLER, CallStatus="completed"))
    status_is(page, "정리 중 / Wrap-up")
    sync_api.expect(page.locator("#message")).to_contain_text("통화가 종료되었습니다")
    assert not page.locator("#extend").is_disabled()
    shot(page, "05-wrapup")

    status_is(page, "상담 가능 / Available")  # the wrap-up ran out; the note is still to be written
    sync_api.expect(page.locator("#caller")).to_contain_text("김영희")
    sync_api.expect(page.locator("#outcome-due")).to_contain_text("아직 저장할 수 있습니다")
    page.locator("#note").fill(NOTE)
    shot(page, "06-wrapup-over-note-kept")
    page.keyboard.press("Alt+S")
    sync_api.expect(page.locator("#message")).to_contain_text("저장되었습니다 / Saved")
    shot(page, "07-saved")
    saved = web.application.registry.consultations("C-0001")[0]
    assert saved["summary"] == NOTE and saved["call_id"] == call_sid

    second = new_call_sid()
    dial_in(twilio, second, KNOWN_CALLER, "1", "2")
    at = datetime.fromisoformat(saved["at"]).astimezone(ZoneInfo("Asia/Seoul")).strftime("%Y-%m-%d %H:%M")
    first_entry = page.locator("#history li").first
    sync_api.expect(first_entry).to_contain_text(NOTE, timeout=15_000)
    sync_api.expect(first_entry).to_contain_text(f"{at} 주정차·교통 과태료 · 김민지")
    sync_api.expect(page.locator("#history")).to_contain_text("2026-09-14 10:02")
    shot(page, "08-history-shows-the-note")


def test_an_unknown_caller_is_found_and_identified_on_the_desk(served, page, twilio_api):
    web, base_url = served
    twilio = TwilioSigner(web.app.test_client())
    page.goto(f"{base_url}/desk/")
    page.get_by_label("상담원 ID / Agent ID").fill("kim.minji")
    page.get_by_label("PIN").fill("1001")
    page.get_by_role("button", name="로그인 / Log in").click()
    page.get_by_role("button", name="상담 가능 / Available").click()
    status_is(page, "상담 가능 / Available")

    call_sid, caller = new_call_sid(), "+821099990000"
    document = dial_in(twilio, call_sid, caller, "1", "2")
    while document.find("Gather") is not None:  # a registry number nobody has
        document = twiml(twilio.post(document.find("Gather").get("action"),
                                     caller_params(call_sid, caller, Digits="99999999")))
    sync_api.expect(page.locator("#caller")).to_contain_text("미확인 발신자 / Unknown caller", timeout=15_000)
    assert page.locator("#search").is_hidden()  # nothing to attach before the call is answered
    answer_leg(twilio, twilio_api, 0)
    status_is(page, "통화 중 / On a call")

    search = page.locator("#search-form")
    search.get_by_label("이름 / Name").fill("박철수")
    search.get_by_label("출생연도 / Birth year").fill("1978")
    search.get_by_role("button", name="찾기 / Search").click()
    sync_api.expect(page.locator("#search-results")).to_contain_text("서울 마포구")
    shot(page, "11-search")
    page.get_by_role("button", name="이 시민으로 지정 / This is the caller").click()
    sync_api.expect(page.locator("#caller")).to_contain_text("박철수 (C-0003)")
    sync_api.expect(page.locator("#call-meta")).to_contain_text("상담원이 확인 / identified by the agent")
    page.locator("#note").fill("재산세 고지서 재발송 요청")
    page.get_by_role("button", name="저장 / Save").click()
    sync_api.expect(page.locator("#message")).to_contain_text("저장되었습니다 / Saved")
    shot(page, "12-identified-and-saved")
    assert web.application.registry.consultations("C-0003")[0]["summary"] == "재산세 고지서 재발송 요청"


# Twilio's signalling cannot be reached from a test: this stand-in Device offers one incoming
# call the way the Voice SDK does (events and methods of Twilio.Device and Twilio.Call 2.x).
STAND_IN_SDK = """
class Emitter { constructor() { this.handlers = {}; }
  on(kind, f) { (this.handlers[kind] = this.handlers[kind] || []).push(f); }
  emit(kind, ...args) { (this.handlers[kind] || []).forEach((f) => f(...args)); } }
class Call extends Emitter { constructor() { super(); this.state = "pending"; this.muted = false; this.log = []; }
  status() { return this.state; } isMuted() { return this.muted; }
  accept() { this.log.push("accept"); this.state = "open"; this.emit("accept", this); }
  mute(on) { this.log.push(on ? "mute" : "unmute"); this.muted = on; this.emit("mute", on, this); }
  reject() { this.log.push("reject"); this.state = "closed"; this.emit("reject"); }
  disconnect() { this.log.push("disconnect"); this.state = "closed"; this.emit("disconnect", this); } }
class Device extends Emitter { constructor(token) { super(); this.token = token; window.standInDevice = this; }
  async register() { this.emit("registered"); } updateToken(t) { this.token = t; } }
window.Twilio = { Device, StandInCall: Call };
"""


def test_the_softphone_answers_mutes_and_hangs_up_from_the_keyboard(served, page):
    web, base_url = served
    page.route("**/static/vendor/twilio-voice/twilio.min.js",
               lambda route: route.fulfill(body=STAND_IN_SDK, content_type="text/javascript"))
    page.goto(f"{base_url}/desk/")
    page.get_by_label("상담원 ID / Agent ID").fill("kim.minji")
    page.get_by_label("PIN").fill("1001")
    page.get_by_role("button", name="로그인 / Log in").click()
    sync_api.expect(page.locator("#phone-state")).to_contain_text("소프트폰 대기 중 / Softphone ready")
    claims = jwt.decode(page.evaluate("window.standInDevice.token"), SOFTPHONE_SECRET, algorithms=["HS256"])
    assert claims["grants"]["identity"] == "kim.minji"  # the page got its own agent's token
    assert page.locator("#answer").is_disabled() and page.locator("#hangup").is_disabled()

    page.evaluate("window.call = new Twilio.StandInCall(); window.standInDevice.emit('incoming', window.call)")
    sync_api.expect(page.locator("#phone-state")).to_contain_text("전화가 울립니다 / Incoming call")
    assert page.locator("#mute").is_disabled()
    page.keyboard.press("Alt+A")
    sync_api.expect(page.locator("#phone-state")).to_contain_text("통화 중 / On a call")
    page.keyboard.press("Alt+M")
    sync_api.expect(page.locator("#mute")).to_have_attribute("aria-pressed", "true")
    sync_api.expect(page.locator("#mute")).to_contain_text("음소거 해제 / Unmute")
    assert page.locator("#alert").is_hidden()  # answered: the ring alert is gone
    shot(page, "21-softphone-muted")
    page.keyboard.press("Alt+H")
    sync_api.expect(page.locator("#phone-state")).to_contain_text("통화 종료 / Call ended")
    assert page.evaluate("window.call.log") == ["accept", "mute", "disconnect"]
    assert page.locator("#hangup").is_disabled()
