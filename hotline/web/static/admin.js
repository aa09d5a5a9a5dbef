// The admin pages' few behaviours, on the same /api/v1 routes as any client (the session
// cookie authenticates; the API checks the role and names a bad field in its error):
// * <table data-src="/api/v1/x" data-key="x" data-columns="a,b" [data-delete="/api/v1/x/{a}"]
//   [data-actions="login,logout"] [data-action-url="/api/v1/agents/{id}/{action}"]>: rows
//   loaded from the API, with delete or action buttons;
// * <form data-api="/api/v1/x" [data-method="POST"] [data-json-field="spec"]>: fields sent
//   as JSON (or a chosen file's text as CSV/JSON), the answer shown in the form's output.
"use strict";
(function () {
  const words = JSON.parse(document.getElementById("words").textContent);

  function fillPath(template, values) {
    return template.replace(/\{(\w+)\}/g, (_, name) => encodeURIComponent(values[name] ?? ""));
  }
  async function send(method, url, body, type) {
    const headers = {};
    if (body !== undefined) headers["Content-Type"] = type || "application/json";
    let response;
    try {
      response = await fetch(url, {method, headers, body, credentials: "same-origin"});
    } catch (e) {
      return {ok: false, status: 0, data: {error: words.unreachable}};
    }
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    return {ok: response.ok, status: response.status, data};
  }
  function show(output, result) {
    output.replaceChildren();
    output.className = result.ok ? "result ok" : "result error";
    const head = document.createElement("p");
    const data = result.data || {};
    head.textContent = result.ok ? words.done : (words.refused + " (" + result.status + "): " + (data.error || ""));
    output.appendChild(head);
    if (result.ok && typeof data === "object") {
      const counts = Object.entries(data).filter(([, v]) => typeof v !== "object");
      if (counts.length) {
        const p = document.createElement("p");
        p.textContent = counts.map(([k, v]) => (words["field_" + k] || k) + ": " + v).join(" · ");
        output.appendChild(p);
      }
    }
    if (Array.isArray(data.rejected) && data.rejected.length) {
      const table = document.createElement("table");
      table.className = "rejected";
      for (const row of data.rejected) {
        const tr = table.insertRow();
        tr.insertCell().textContent = words.line + " " + row.line;
        tr.insertCell().textContent = row.reason;
      }
      output.appendChild(table);
    }
  }
  async function load(table) {
    const result = await send("GET", table.dataset.src);
    const body = table.tBodies[0];
    body.replaceChildren();
    if (!result.ok) {
      body.insertRow().insertCell().textContent = words.refused + " (" + result.status + ")";
      return;
    }
    const columns = table.dataset.columns.split(",");
    for (const item of result.data[table.dataset.key] || []) {
      const tr = body.insertRow();
      tr.dataset.key = item[columns[0]];
      for (const c of columns) {
        const value = c === "status" ? (words["st_" + item[c]] || item[c]) : item[c];
        tr.insertCell().textContent = Array.isArray(value)
          ? value.map(v => typeof v === "object" ? v.queue + (v.paused ? "(" + words.paused + ")" : "") : v).join(" ")
          : (value === null || value === undefined ? "" : String(value));
      }
      const cell = tr.insertCell();
      if (table.dataset.delete) {
        cell.appendChild(button(words.remove, "delete", async () =>
          send("DELETE", fillPath(table.dataset.delete, item))));
      }
      for (const action of (table.dataset.actions || "").split(",").filter(Boolean)) {
        cell.appendChild(button(words["act_" + action] || action, action, async () =>
          send("POST", fillPath(table.dataset.actionUrl, {...item, action}), "{}")));
      }
    }
    function button(text, value, run) {
      const b = document.createElement("button");
      b.type = "button"; b.textContent = text; b.value = value;
      b.addEventListener("click", async () => {
        const result = await run();
        const output = table.parentElement.querySelector("output");
        if (output) show(output, result);
        await load(table);
      });
      return b;
    }
  }
  async function submit(form, event) {
    event.preventDefault();
    const output = form.querySelector("output");
    let url = fillPath(form.dataset.api, Object.fromEntries(new FormData(form)));
    let body, type;
    const file = form.querySelector("input[type=file]");
    if (file) {
      const chosen = file.files[0];
      if (!chosen) return;
      body = chosen; // the bytes as they are: the server decodes them, or says how to save them
      type = chosen.name.toLowerCase().endsWith(".json") ? "application/json" : "text/csv";
      const seed = form.querySelector("[name=seed]");
      if (seed && seed.value && /\/orders$/.test(url)) url += "?seed=" + encodeURIComponent(seed.value);
    } else if (form.dataset.jsonField) {
      body = form.elements[form.dataset.jsonField].value;
    } else {
      const values = {};
      for (const [k, v] of new FormData(form)) if (v !== "") values[k] = v;
      body = JSON.stringify(values);
    }
    const result = await send(form.dataset.method || "POST", url, body, type);
    show(output, result);
    if (result.ok) document.querySelectorAll("table[data-src]").forEach(load);
  }
  document.querySelectorAll("table[data-src]").forEach(load);
  document.querySelectorAll("form[data-api]").forEach(f => f.addEventListener("submit", e => submit(f, e)));
})();
