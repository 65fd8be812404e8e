// Agent desktop: live state and screen pops over server-sent events, the outcome of the last
// answered call, the registry search for an unknown caller, and the softphone.
"use strict";
const $ = (id) => document.getElementById(id);
const TZ = document.body.dataset.timezone || "Asia/Seoul";
const AGENT_NAMES = JSON.parse($("agent-names").textContent || "{}");

// Korean first, English beside: every state, reason and error the desk can show.
const STATUS = {
  offline: "오프라인 / Offline", available: "상담 가능 / Available", reserved: "전화 연결 중 / Ringing",
  busy: "통화 중 / On a call", wrapup: "정리 중 / Wrap-up", break: "휴식 / Break",
};
const REASON = { missed: "부재중 전화 / missed call", unreachable: "전화기 연결 안 됨 / phone unreachable" };
const VERIFICATION = {
  caller_id: "발신번호 일치 / caller ID matched the registry", registry_number: "등록번호 입력 / registry number typed by the caller",
  agent: "상담원이 확인 / identified by the agent", lookup: "운영자 조회 / looked up by an operator", none: "미확인 / not identified",
};
const ERRORS = {
  "invalid-agent-transition": "지금 상태에서는 할 수 없습니다 / Not possible in your current state",
  "reservation-expired": "이미 다른 상담원에게 넘어간 전화입니다 / The call is no longer yours",
  "no-such-citizen": "등록되지 않은 시민입니다 / No such citizen",
  unauthorized: "다시 로그인하세요 / Please log in again",
  "softphone-unavailable": "소프트폰이 설정되지 않았습니다 / The softphone is not configured",
};
const IDLE = {
  available: "대기 중입니다. 곧 전화가 연결됩니다. / Waiting for the next call.",
  wrapup: "정리 중입니다. 준비되면 정리 완료를 누르세요. / Wrap-up: press Ready when you are.",
  break: "휴식 중입니다. 상담 가능을 누르면 전화가 연결됩니다. / On break: go available to take calls.",
  offline: "오프라인입니다. 상담 가능을 누르면 전화가 연결됩니다. / Offline: go available to take calls.",
};
const LANGUAGES = { ko: "한국어 / Korean", en: "영어 / English" };

const phone = { device: null, call: null }; // the softphone (below)
let current = null; // the last snapshot from the server
let clockOffset = 0; // server clock minus this browser's, in seconds

// -- talking to the server ------------------------------------------------------------------
async function post(path, body) {
  const reply = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body || {}) });
  return answer(reply);
}

async function answer(reply) {
  const data = await reply.json().catch(() => ({}));
  if (reply.ok) return data;
  const error = new Error(data.message || reply.statusText);
  error.id = data.error;
  throw error;
}

function explain(error) {
  // Desk errors already read "한국어 / English"; routing errors get their Korean here.
  const known = ERRORS[error.id];
  const reason = error.message.includes(" / ") ? error.message.split(": ").slice(1).join(": ") || error.message : "";
  return known || reason || `오류 / Error: ${error.message}`;
}

function say(text, kind) {
  const message = $("message");
  message.textContent = text;
  message.className = "message " + (kind || "");
}

const fail = (error) => say(explain(error), "error");

// -- small helpers ----------------------------------------------------------------------------
function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

const won = (amount, currency) => new Intl.NumberFormat("ko-KR", { style: "currency", currency }).format(amount);
const total = (byCurrency) => Object.entries(byCurrency || {}).map(([cur, amount]) => won(amount, cur)).join(" + ");

function localParts(date) {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(date);
  return Object.fromEntries(parts.map((p) => [p.type, p.value]));
}

function localDateTime(value) {
  const p = localParts(typeof value === "number" ? new Date(value * 1000) : new Date(value));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

function today() {
  const p = localParts(new Date());
  return `${p.year}-${p.month}-${p.day}`;
}

const serverNow = () => Date.now() / 1000 + clockOffset;

function minutesSeconds(seconds) {
  const s = Math.max(0, Math.round(seconds));
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

// -- the agent's state ------------------------------------------------------------------------
function statusText(agent) {
  const label = STATUS[agent.status] || agent.status;
  return agent.reason ? `${label} (${REASON[agent.reason] || agent.reason})` : label;
}

function showState(snapshot) {
  current = snapshot;
  clockOffset = snapshot.now - Date.now() / 1000;
  const { agent } = snapshot;
  const status = $("status");
  const text = "상태 / Status: " + statusText(agent);
  if (status.textContent !== text) status.textContent = text; // announced by aria-live only on a change
  status.className = "status " + agent.status;
  enableButtons(agent.status, snapshot.outcome_due);
  if (agent.status !== "reserved" && !phone.call) hideAlert();
  showPop(snapshot.pop, snapshot.outcome_due);
  $("idle-text").textContent = IDLE[agent.status] || IDLE.available;
  showOutcomeDue(snapshot.outcome_due, agent.status);
  tick();
}

function enableButtons(status, due) {
  const can = { available: ["offline", "break", "wrapup"], break: ["offline", "available", "wrapup"] };
  document.querySelectorAll("button[data-status]").forEach((b) => (b.disabled = !can[b.dataset.status].includes(status)));
  $("ready").disabled = status !== "wrapup";
  $("extend").disabled = status !== "wrapup";
  $("save").disabled = !due;
}

function tick() {
  if (!current) return;
  const { agent, wrapup_deadline: deadline } = current;
  const timer = $("timer"), clock = $("clock");
  let text = "";
  if (agent.status === "busy") text = `통화 시간 / Call time ${minutesSeconds(serverNow() - agent.since)}`;
  else if (agent.status === "reserved") text = `연결 중 / Ringing ${minutesSeconds(serverNow() - agent.since)}`;
  else if (agent.status === "wrapup" && deadline) text = `정리 남은 시간 / Wrap-up left ${minutesSeconds(deadline - serverNow())}`;
  timer.textContent = text;
  clock.textContent = text;
}

// -- the pop ---------------------------------------------------------------------------------
function showPop(pop, due) {
  $("pop").hidden = !pop;
  $("idle").hidden = !!pop;
  if (!pop) return;
  const c = pop.citizen, call = pop.call;
  const caller = $("caller");
  caller.textContent = c.identified ? `${c.name} (${c.id})` : `미확인 발신자 / Unknown caller ${call.caller}`;
  if (c.vulnerable) caller.append(el("span", "우선 응대 / priority", "badge"));
  const verification = VERIFICATION[c.verification] || c.verification_label;
  $("call-meta").textContent = `${call.skill_name || call.skill || ""} · ${LANGUAGES[call.language] || call.language || ""}` +
    ` · 본인확인 / Verification: ${verification} · ${call.caller || ""}`;
  showIdentity(c);
  showOpenItems(c);
  showHistory(c);
  $("search").hidden = c.identified || !(due && due.call_id === call.id);
}

function showIdentity(c) {
  const dl = $("identity");
  dl.replaceChildren();
  if (!c.identified) return;
  const rows = [["주소 / Address", c.address], ["출생연도 / Birth year", c.birth_year], ["전화 / Phones", (c.phones || []).join(", ")]];
  for (const [term, value] of rows) dl.append(el("dt", term), el("dd", value || "—"));
}

function showOpenItems(c) {
  const items = $("open-items");
  items.replaceChildren();
  const departments = c.open_items || [];
  if (!departments.length) return items.append(el("p", "없음 / none"));
  const now = today();
  for (const dept of departments) items.append(itemTable(dept, now));
  items.append(el("p", "합계 / Total: " + total(c.open_items_total), "total"));
}

function itemTable(dept, now) {
  const table = el("table");
  table.append(el("caption", `${dept.department_name} · ${total(dept.total)}`));
  const head = el("tr");
  for (const h of ["항목 / Item", "금액 / Amount", "납부기한 / Due", "참조번호 / Reference"]) head.append(el("th", h));
  table.append(head);
  for (const item of dept.items) {
    const due = el("td", item.due || "—");
    if (item.due && item.due < now) due.append(el("span", "기한 경과 / overdue", "badge overdue"));
    const row = el("tr");
    row.append(el("td", item.kind), el("td", won(item.amount, item.currency)), due, el("td", item.reference || "—"));
    if (item.due && item.due < now) row.className = "overdue-row";
    table.append(row);
  }
  return table;
}

function showHistory(c) {
  const history = $("history");
  history.replaceChildren();
  for (const h of c.consultations || []) history.append(historyItem(h));
  if (!(c.consultations || []).length) history.append(el("li", "없음 / none", "empty"));
}

function historyItem(h) {
  const li = el("li");
  const agent = h.agent ? ` · ${AGENT_NAMES[h.agent] || h.agent}` : "";
  li.append(el("time", localDateTime(h.at)), document.createTextNode(` ${h.department_name || h.department}${agent}: `));
  li.append(h.no_note ? el("em", "메모 없이 종료 / closed without a note", "no-note") : document.createTextNode(h.summary));
  return li;
}

// -- the outcome of the last answered call ------------------------------------------------------
function showOutcomeDue(due, status) {
  const form = $("outcome"), notice = $("outcome-due");
  form.hidden = !due;
  const afterWrapup = due && due.shown && !["busy", "wrapup"].includes(status);
  notice.hidden = !due || (due.shown && !afterWrapup);
  if (due && !due.shown) {
    notice.textContent = `저장하지 않은 이전 통화 / Unsaved previous call: ${due.caller} (${localDateTime(due.answered_at)}) — ` +
      "아래에 결과를 저장하세요 / save its outcome below";
  } else if (afterWrapup) {
    notice.textContent = "정리 시간이 끝났지만 이 통화의 결과는 아직 저장할 수 있습니다 / " +
      "Wrap-up is over: you can still save this call's outcome";
  }
}

$("outcome").addEventListener("submit", (event) => {
  event.preventDefault();
  if (!current || !current.outcome_due) return;
  const note = $("note").value;
  const callId = current.outcome_due.call_id;
  post("/desk/outcome", { note, call_id: callId })
    .then((s) => { savedCalls.add(callId); $("note").value = ""; showState(s); say("저장되었습니다 / Saved", "saved"); })
    .catch(fail);
});

// -- status buttons -------------------------------------------------------------------------------
document.querySelectorAll("button[data-status]").forEach((button) =>
  button.addEventListener("click", () => post("/desk/status", { status: button.dataset.status }).then(showState).catch(fail)));
$("ready").addEventListener("click", () => post("/desk/ready").then(showState).catch(fail));
$("extend").addEventListener("click", () =>
  post("/desk/extend").then((s) => { showState(s); say("정리 시간을 연장했습니다 / Wrap-up extended", "saved"); }).catch(fail));

// -- registry search for an unidentified caller ---------------------------------------------------
$("search-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const query = new URLSearchParams([...new FormData(event.target)].filter(([, v]) => String(v).trim()));
  fetch("/desk/citizens?" + query).then(answer).then(showResults).catch(fail);
});

function showResults({ citizens }) {
  const list = $("search-results");
  list.replaceChildren();
  if (!citizens.length) list.append(el("li", "찾지 못했습니다 / No match"));
  for (const c of citizens) {
    const li = el("li", `${c.name} · ${c.birth_year || "—"} · ${c.address || ""} (${c.id}) `);
    const pick = el("button", "이 시민으로 지정 / This is the caller");
    pick.type = "button";
    pick.addEventListener("click", () => identify(c.id));
    li.append(pick);
    list.append(li);
  }
}

function identify(citizenId) {
  post("/desk/identify", { call_id: current.outcome_due.call_id, citizen_id: citizenId })
    .then((s) => { showState(s); $("search-results").replaceChildren(); say("시민을 확인했습니다 / Caller identified", "saved"); })
    .catch(fail);
}

// -- alerts --------------------------------------------------------------------------------------
function beep() {
  // A short two-tone chime made on the spot: no sound file to fetch.
  try {
    const audio = new (window.AudioContext || window.webkitAudioContext)();
    [880, 1175].forEach((hz, i) => {
      const tone = audio.createOscillator(), gain = audio.createGain();
      tone.frequency.value = hz;
      gain.gain.setValueAtTime(0.2, audio.currentTime + i * 0.18);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + i * 0.18 + 0.16);
      tone.connect(gain).connect(audio.destination);
      tone.start(audio.currentTime + i * 0.18);
      tone.stop(audio.currentTime + i * 0.18 + 0.17);
    });
  } catch (e) { /* no audio device: the visual alert still shows */ }
}

function alertAgent(text) {
  const box = $("alert");
  box.textContent = text;
  box.hidden = false;
  document.body.classList.add("incoming");
  beep();
}

function hideAlert() {
  $("alert").hidden = true;
  document.body.classList.remove("incoming");
}

// -- live events ---------------------------------------------------------------------------------
const events = new EventSource("/desk/events");
events.addEventListener("state", (e) => showState(JSON.parse(e.data)));
events.addEventListener("pop", (e) => {
  const pop = JSON.parse(e.data);
  const who = pop.citizen.identified ? pop.citizen.name : `미확인 / unknown ${pop.call.caller}`;
  say("");
  alertAgent(`새 전화 / Incoming call: ${who} · ${pop.call.skill_name}`);
});
events.addEventListener("missed", () => say("전화를 받지 못해 휴식 상태로 전환되었습니다 / Missed call: you are on break", "error"));
const endedCalls = new Set(); // a late "connected" never hides that the call is over
const savedCalls = new Set(); // nor does a late "ended" hide that its outcome was saved
events.addEventListener("ended", (e) => {
  const callId = JSON.parse(e.data).call_id;
  endedCalls.add(callId);
  if (savedCalls.has(callId)) return;
  const answered = current && current.outcome_due && current.outcome_due.call_id === callId;
  say(answered ? "통화가 종료되었습니다. 결과를 저장하세요 / The call has ended: save its outcome"
    : "연결 전에 발신자가 전화를 끊었습니다 / The caller hung up before the call was answered");
});
events.addEventListener("connected", (e) => {
  if (!endedCalls.has(JSON.parse(e.data).call_id)) say("통화가 연결되었습니다 / Call connected");
});
events.onerror = () => say("서버 연결이 끊겼습니다. 다시 연결하는 중… / Connection lost, reconnecting…", "error");
setInterval(tick, 1000);

// -- keyboard ------------------------------------------------------------------------------------
const SHORTCUTS = { 1: "[data-status=available]", 2: "[data-status=break]", r: "#ready", e: "#extend", a: "#answer",
  m: "#mute", h: "#hangup", s: "#save" };
document.addEventListener("keydown", (event) => {
  if (!event.altKey || event.ctrlKey || event.metaKey) return;
  const selector = SHORTCUTS[event.key.toLowerCase()] || SHORTCUTS[event.code.replace(/^(Key|Digit)/, "").toLowerCase()];
  const button = selector && document.querySelector(selector);
  if (!button) return;
  event.preventDefault();
  if (!button.disabled) (button.id === "save" ? $("outcome").requestSubmit() : button.click());
});

// -- softphone (Twilio Voice JavaScript SDK, vendored) ---------------------------------------------
function phoneState(text) { $("phone-state").textContent = text; }

function phoneButtons() {
  const call = phone.call, ringing = call && call.status() === "pending";
  $("answer").disabled = !ringing;
  $("mute").disabled = !call || ringing;
  $("hangup").disabled = !call;
  const muted = !!(call && call.isMuted());
  $("mute").setAttribute("aria-pressed", String(muted));
  $("mute-label").textContent = muted ? "음소거 해제 / Unmute" : "음소거 / Mute";
}

async function voiceToken() {
  return (await answer(await fetch("/desk/voice-token"))).token;
}

function takeIncoming(call) {
  phone.call = call;
  phoneState("전화가 울립니다 / Incoming call");
  alertAgent("전화가 울립니다 — Alt+A로 받기 / Incoming call — Alt+A to answer");
  const over = (text) => () => { phone.call = null; phoneState(text); hideAlert(); phoneButtons(); };
  call.on("accept", () => { phoneState("통화 중 / On a call"); hideAlert(); phoneButtons(); });
  call.on("mute", phoneButtons);
  call.on("disconnect", over("통화 종료 / Call ended"));
  call.on("cancel", over("발신자가 끊었습니다 / Caller hung up"));
  call.on("reject", over("거절함 / Rejected"));
  phoneButtons();
}

async function startSoftphone() {
  if (document.body.dataset.softphone !== "yes") return;
  if (!window.Twilio || !window.Twilio.Device) return phoneState("소프트폰을 불러오지 못했습니다 / Softphone SDK did not load");
  try {
    const device = new window.Twilio.Device(await voiceToken(), { closeProtection: true });
    phone.device = device;
    device.on("registered", () => phoneState("소프트폰 대기 중 / Softphone ready"));
    device.on("unregistered", () => phoneState("소프트폰 꺼짐 / Softphone offline"));
    device.on("error", (error) => phoneState(`소프트폰 오류 / Softphone error: ${error.message || error}`));
    device.on("incoming", takeIncoming);
    device.on("tokenWillExpire", async () => device.updateToken(await voiceToken()));
    await device.register();
  } catch (error) {
    phoneState(`소프트폰 오류 / Softphone error: ${explain(error)}`);
  }
}

$("answer").addEventListener("click", () => phone.call && phone.call.accept());
$("mute").addEventListener("click", () => phone.call && phone.call.mute(!phone.call.isMuted()));
$("hangup").addEventListener("click", () => {
  if (!phone.call) return;
  if (phone.call.status() === "pending") phone.call.reject(); else phone.call.disconnect();
});
startSoftphone();
