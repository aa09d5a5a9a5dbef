// The live page: one EventSource on /api/v1/live (the session cookie authenticates it),
// tables redrawn from the snapshot and each change. No framework, no build step.
"use strict";
(function () {
  const words = JSON.parse(document.getElementById("words").textContent);
  const calls = new Map(), queues = new Map(), agents = new Map(), campaigns = new Map();
  const status = document.getElementById("status");

  function cell(text) {
    const td = document.createElement("td");
    td.textContent = text === undefined || text === null ? "" : String(text);
    return td;
  }
  function fill(id, rows) {
    const body = document.querySelector("#" + id + " tbody");
    body.replaceChildren();
    for (const values of rows) {
      const tr = document.createElement("tr");
      for (const v of values) tr.appendChild(cell(v));
      body.appendChild(tr);
    }
  }
  function draw() {
    fill("calls", [...calls.values()].map(c => [
      c.direction, c.caller, c.called, c.queue, c.agent, c.hold_count,
      c.answered ? words.answered : "…"]));
    fill("queues", [...queues.values()].map(q => [q.queue, q.waiting, q.longest_wait]));
    fill("agents", [...agents.values()].map(a => [
      a.interface, a.queue, a.status, a.paused ? words.paused : ""]));
    fill("campaigns", [...campaigns.values()].map(c => [c.name, c.type, c.status, c.in_flight]));
  }
  function call(c) {
    if (c.final) calls.delete(c.linkedid); else calls.set(c.linkedid, c);
  }
  function connect() {
    const source = new EventSource("/api/v1/live");
    source.addEventListener("open", () => { status.textContent = words.connected; });
    source.addEventListener("error", () => { status.textContent = words.disconnected; });
    source.addEventListener("snapshot", e => {
      const s = JSON.parse(e.data);
      calls.clear(); queues.clear();
      s.calls.forEach(call);
      s.queues.forEach(q => queues.set(q.queue, q));
      draw();
    });
    source.addEventListener("call", e => { call(JSON.parse(e.data)); draw(); });
    source.addEventListener("queue", e => { const q = JSON.parse(e.data); queues.set(q.queue, q); draw(); });
    source.addEventListener("agent", e => {
      const a = JSON.parse(e.data);
      if (a.event === "QueueMemberRemoved") agents.delete(a.interface + a.queue);
      else agents.set(a.interface + a.queue, a);
      draw();
    });
    source.addEventListener("campaign", e => {
      const c = JSON.parse(e.data);
      if (c.status === "stopped") campaigns.delete(c.id); else campaigns.set(c.id, c);
      draw();
    });
  }
  connect();
})();
