// Agent desktop: live state and screen pops over server-sent events.
"use strict";
const $ = (id) => document.getElementById(id);
const won = (amount, currency) => new Intl.NumberFormat("ko-KR", { style: "currency", currency }).format(amount);

async function post(path, body) {
  const reply = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body || {}) });
  const data = await reply.json();
  if (!reply.ok) throw new Error(data.message || reply.statusText);
  return data;
}

function el(tag, text, cls) { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; }

function showState({ agent, pop }) {
  const status = $("status");
  status.textContent = agent.status + (agent.reason ? ` (${agent.reason})` : "");
  status.className = "status " + agent.status;
  $("ready").hidden = agent.status !== "wrapup";
  showPop(pop);
}

function showPop(pop) {
  $("pop").hidden = !pop; $("idle").hidden = !!pop;
  if (!pop) return;
  const c = pop.citizen, call = pop.call;
  const caller = $("caller"); caller.textContent = c.identified ? `${c.name} (${c.id})` : `미확인 발신자 / Unknown caller ${call.caller}`;
  if (c.vulnerable) caller.append(el("span", "우선 / priority", "badge"));
  $("call-meta").textContent = `${call.skill_name} · ${call.language} · 본인확인: ${c.verification_label} · ${call.caller}`;
  const items = $("open-items"); items.replaceChildren();
  for (const dept of c.open_items || []) {
    const total = Object.entries(dept.total).map(([cur, amount]) => won(amount, cur)).join(" + ");
    const table = el("table"); table.append(el("caption", `${dept.department_name} · ${total}`));
    for (const item of dept.items) {
      const row = el("tr"); row.append(el("td", item.kind), el("td", won(item.amount, item.currency)), el("td", item.due || ""));
      table.append(row);
    }
    items.append(table);
  }
  if (!(c.open_items || []).length) items.append(el("p", "없음 / none"));
  else items.append(el("p", "합계 / Total: " + Object.entries(c.open_items_total).map(([cur, amount]) => won(amount, cur)).join(" + "), "total"));
  const history = $("history"); history.replaceChildren();
  for (const h of c.consultations || []) history.append(el("li", `${h.at.slice(0, 10)} ${h.department_name}: ${h.summary}`));
}

document.querySelectorAll("button[data-status]").forEach((button) =>
  button.addEventListener("click", () => post("/desk/status", { status: button.dataset.status }).then(showState).catch((e) => ($("message").textContent = e.message))));
$("ready").addEventListener("click", () => post("/desk/ready").then(showState).catch((e) => ($("message").textContent = e.message)));
$("outcome").addEventListener("submit", (event) => {
  event.preventDefault();
  const note = new FormData(event.target).get("note");
  post("/desk/outcome", { note }).then((s) => { event.target.reset(); showState(s); }).catch((e) => ($("message").textContent = e.message));
});

const events = new EventSource("/desk/events");
events.addEventListener("state", (e) => showState(JSON.parse(e.data)));
events.addEventListener("missed", () => ($("message").textContent = "전화를 받지 못해 휴식 상태로 전환되었습니다 / Missed call: you are on break"));
