// Tributary's web console: polls /api/overview every 2 s and redraws the page from it. Plain
// DOM (textContent only: nothing from the server is parsed as HTML); no libraries, no build.
"use strict";

const REFRESH_MS = 2000;
let refreshes = 0;
let lastOk = null;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else if (k.startsWith("data-")) node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    node.append(c instanceof Node ? c : String(c));
  }
  return node;
}

function rate(v) {
  if (v === null || v === undefined) return "–";
  return v >= 100 ? v.toFixed(0) : v.toFixed(v >= 10 ? 1 : 2);
}

// Per-key isolation: "—" when no poller reported the shard, else the parked keys, the oldest
// parked record's age, and whether max_parked_keys refused a key (the shard blocks).
function parkedText(s) {
  if (s.parked_keys === null || s.parked_keys === undefined) return "—";
  let text = String(s.parked_keys);
  if (s.parked_keys > 0 && s.oldest_parked_age_ms !== null) {
    text += " (oldest " + age(s.oldest_parked_age_ms) + ")";
  }
  if (s.parked_keys_limit_reached) text += " — limit reached, blocked";
  return text;
}

function age(ms) {
  if (ms === null || ms === undefined) return "unknown";
  if (ms < 1000) return ms + " ms";
  if (ms < 60000) return (ms / 1000).toFixed(1) + " s";
  if (ms < 3600000) return (ms / 60000).toFixed(1) + " min";
  return (ms / 3600000).toFixed(1) + " h";
}

const SVG = "http://www.w3.org/2000/svg";

// A sparkline of `values` (oldest first): a polyline scaled to its own maximum.
function sparkline(values) {
  const w = 120, h = 22;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", "spark");
  svg.setAttribute("width", w);
  svg.setAttribute("height", h);
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  svg.setAttribute("data-points", values.length);
  const title = document.createElementNS(SVG, "title");
  title.textContent = "iterator age, last " + values.length + " samples";
  svg.append(title);
  if (values.length > 0) {
    const vs = values.length === 1 ? [values[0], values[0]] : values;  // one sample: a flat line
    const max = Math.max(1, ...vs);
    const step = w / (vs.length - 1);
    const line = document.createElementNS(SVG, "polyline");
    line.setAttribute("points", vs.map((v, i) =>
      `${(i * step).toFixed(1)},${(h - 2 - (v / max) * (h - 4)).toFixed(1)}`).join(" "));
    svg.append(line);
  }
  return svg;
}

function fillTable(id, rows) {
  const body = document.querySelector(`#${id} tbody`);
  body.replaceChildren(...rows);
  const empty = document.querySelector(`[data-empty-for="${id}"]`);
  if (empty) empty.hidden = rows.length > 0;
}

// " (table NAME)" after a store stream that holds a table's changes, else nothing.
function tableRef(stream, tableOf) {
  const table = tableOf.get(stream);
  return table === undefined ? null : el("span", {class: "table-ref"}, ` (table ${table})`);
}

function renderStreams(streams, tableOf) {
  fillTable("streams", streams.map(s => el("tr", {"data-stream": s.name},
    el("td", {class: "name"}, s.name, tableRef(s.name, tableOf)),
    el("td", {class: "status"}, s.status),
    el("td", {class: "num open"}, s.open_shards),
    el("td", {class: "num closed"}, s.closed_shards),
    el("td", {class: "num in"}, rate(s.records_in_per_second)),
    el("td", {class: "num out"}, rate(s.records_out_per_second)))));
}

async function act(uuid, verb, button) {
  button.disabled = true;
  try {
    const r = await fetch(`/api/mappings/${encodeURIComponent(uuid)}/${verb}`,
                          {method: "POST", headers: {"X-Tributary-Console": "1"}});
    if (!r.ok) {
      const body = await r.json().catch(() => ({error: r.statusText}));
      alert(`${verb} failed: ${body.error}`);
    }
  } finally {
    refresh();
  }
}

function moveButton(uuid, shard) {
  const button = el("button", {class: "action", "data-action": "move-checkpoint"}, "Move…");
  button.addEventListener("click", () => openMoveForm(uuid, shard));
  return button;
}

function renderMappings(mappings, actionsEnabled, tableOf) {
  const box = document.getElementById("mappings");
  box.replaceChildren(...mappings.map(m => {
    const problem = m.last_processing_result.startsWith("PROBLEM");
    const head = el("div", {class: "mapping-head"},
      el("span", {class: "title"}, el("span", {class: "stream"}, m.stream),
         tableRef(m.stream, tableOf), " → ",
         el("span", {class: "function"}, m.function)),
      el("span", {class: `state ${m.state}`}, m.state),
      el("span", {}, "last result: ",
         el("span", {class: "result" + (problem ? " problem" : "")},
            m.last_processing_result || "–")),
      el("span", {}, "records/s: ", el("span", {class: "rate-records"}, rate(m.records_per_second))),
      el("span", {}, "errors/s: ", el("span", {class: "rate-errors"}, rate(m.errors_per_second))),
      el("span", {class: "uuid"}, m.uuid));
    if (actionsEnabled) {
      const verb = m.enabled ? "disable" : "enable";
      const button = el("button", {class: "action", "data-action": verb}, verb === "disable" ? "Disable" : "Enable");
      button.addEventListener("click", () => act(m.uuid, verb, button));
      head.append(button);
    }
    const parts = [head];
    if (m.last_error) {
      parts.push(el("div", {class: "last-error"},
        `last error: ${m.last_error.kind}: ${m.last_error.message} (${m.last_error.shard}, ${m.last_error.time})`));
    }
    if (m.state_transition_reason) {
      parts.push(el("div", {class: "note"}, m.state_transition_reason));
    }
    const rows = m.shards.map(s => el("tr", {"data-shard": s.shard_id},
      el("td", {class: "mono shard"}, s.shard_id),
      el("td", {class: "owner"}, s.owner || (s.assignable ? "unowned" : "—"),
         s.expired ? " (expired)" : ""),
      el("td", {class: "mono checkpoint"}, s.checkpoint),
      el("td", {class: "num age"}, age(s.iterator_age_ms)),
      el("td", {}, sparkline(s.iterator_age_history)),
      el("td", {class: "num parked"}, parkedText(s)),
      actionsEnabled ? el("td", {}, moveButton(m.uuid, s.shard_id)) : null));
    const table = el("table", {class: "shards"},
      el("thead", {}, el("tr", {}, el("th", {}, "Shard"), el("th", {}, "Owner"),
         el("th", {}, "Checkpoint"), el("th", {}, "Iterator age"), el("th", {}, "Age history"),
         el("th", {}, "Parked keys"), actionsEnabled ? el("th", {}, "") : null)),
      el("tbody", {}, ...rows));
    parts.push(table);
    return el("div", {class: "mapping", "data-mapping": m.uuid}, ...parts);
  }));
  document.querySelector('[data-empty-for="mappings"]').hidden = mappings.length > 0;
}

function renderPollers(pollers) {
  fillTable("pollers", pollers.map(p => el("tr", {"data-poller": p.id},
    el("td", {class: "id"}, p.id),
    el("td", {class: "live"}, p.live ? "live" : "silent"),
    el("td", {class: "num lease-count"}, p.lease_count),
    el("td", {class: "num"}, p.capacity),
    el("td", {}, p.last_heartbeat),
    el("td", {class: "mono holds"}, p.leases.map(l => `${l.mapping.slice(0, 8)}/${l.shard}`).join(", ")))));
}

function keySchema(t) {
  const key = k => `${k.name} (${k.type})`;
  return t.sort_key ? `${key(t.partition_key)}, sort ${key(t.sort_key)}` : key(t.partition_key);
}

// The cells of a table stream: label and ARN, store stream, shards, changes/s, mappings on it.
function streamCells(s) {
  return [
    el("td", {class: "latest"}, el("div", {class: "label"}, s.label),
       el("div", {class: "mono arn"}, s.arn)),
    el("td", {class: "mono store-stream"}, s.store_stream),
    el("td", {class: "num open"}, s.open_shards === null ? "gone" : s.open_shards),
    el("td", {class: "num closed"}, s.closed_shards === null ? "gone" : s.closed_shards),
    el("td", {class: "num changes"}, rate(s.changes_per_second)),
    el("td", {class: "mappings"}, s.mappings.length === 0 ? "none" : null,
       ...s.mappings.map(m => el("div", {class: "table-mapping", "data-mapping-ref": m.uuid},
         el("span", {class: "function"}, m.function), " ",
         el("span", {class: `state ${m.state}`}, m.state))))];
}

// A table's earlier stream (or a deleted table's): a row under the table's, saying since when
// it is disabled (readable for 24 h after that).
function olderStreamRow(table, s) {
  const state = s.enabled ? "enabled" : `disabled ${s.disabled_at || ""}`;
  return el("tr", {class: "older-stream", "data-table-stream": s.label, "data-of-table": table},
    el("td", {class: "name"}), el("td", {class: "status"}, state), el("td", {class: "keys"}),
    el("td", {class: "stream"}, "earlier stream"), ...streamCells(s));
}

function renderTables(tables, deleted, note) {
  const rows = [];
  for (const t of tables || []) {
    const s = t.latest_stream;
    const cells = [
      el("td", {class: "name"}, t.name),
      el("td", {class: "status"}, t.status || "–"),
      el("td", {class: "keys"}, keySchema(t)),
      el("td", {class: "stream " + (t.stream_enabled ? "on" : "off")},
         t.stream_enabled ? `on, ${t.stream_view_type}` : "off")];
    if (s === null) {
      cells.push(el("td", {class: "latest"}, "–"), el("td", {class: "store-stream"}, "–"),
                 el("td", {class: "num open"}, "–"), el("td", {class: "num closed"}, "–"),
                 el("td", {class: "num changes"}, "–"), el("td", {class: "mappings"}, "–"));
    } else {
      cells.push(...streamCells(s));
    }
    rows.push(el("tr", {"data-table": t.name}, ...cells));
    for (const older of t.older_streams) rows.push(olderStreamRow(t.name, older));
  }
  for (const t of deleted || []) {
    rows.push(el("tr", {"data-table": t.name, "data-deleted": "true", class: "deleted-table"},
      el("td", {class: "name"}, t.name), el("td", {class: "status"}, "DELETED"),
      el("td", {class: "keys"}, keySchema(t)), el("td", {class: "stream off"}, "–"),
      el("td", {class: "latest"}, "–"), el("td", {class: "store-stream"}, "–"),
      el("td", {class: "num open"}, "–"), el("td", {class: "num closed"}, "–"),
      el("td", {class: "num changes"}, "–"), el("td", {class: "mappings"}, "–")));
    for (const s of t.streams) rows.push(olderStreamRow(t.name, s));
  }
  fillTable("tables", rows);
  if (tables === null) document.querySelector('[data-empty-for="tables"]').hidden = true;
  document.getElementById("tables-note").textContent = tables === null ? note : "";
}

// The checkpoint-move form (outside the redrawn panels, so a refresh does not wipe what the
// operator is typing): opened from a shard's "Move…" button.
function openMoveForm(uuid, shard) {
  const form = document.getElementById("move-form");
  form.dataset.mapping = uuid;
  form.dataset.shard = shard;
  document.getElementById("move-target").textContent = `${shard} of mapping ${uuid}`;
  document.getElementById("move-result").textContent = "";
  form.hidden = false;
}

async function submitMove(event) {
  event.preventDefault();
  const form = document.getElementById("move-form");
  const position = document.getElementById("move-position").value;
  const value = document.getElementById("move-value").value.trim();
  const body = {position};
  if (position.endsWith("SEQUENCE_NUMBER")) body.sequence_number = value;
  if (position === "AT_TIMESTAMP") body.timestamp = value;
  const result = document.getElementById("move-result");
  if (!confirm(`Move the checkpoint of ${form.dataset.shard} to ${position} ${value}? ` +
               "The current owner is cut off and records may be replayed or skipped.")) return;
  try {
    const r = await fetch(`/api/mappings/${encodeURIComponent(form.dataset.mapping)}/shards/` +
                          `${encodeURIComponent(form.dataset.shard)}/checkpoint`,
                          {method: "POST", headers: {"X-Tributary-Console": "1",
                                                     "Content-Type": "application/json"},
                           body: JSON.stringify(body)});
    const answer = await r.json().catch(() => ({error: r.statusText}));
    result.className = r.ok ? "note" : "last-error";
    result.textContent = r.ok
      ? `moved: ${answer.previous_checkpoint} → ${answer.checkpoint} (lease counter ` +
        `${answer.lease_counter}${answer.fenced_owner ? ", " + answer.fenced_owner + " fenced out" : ""})`
      : `not moved: ${answer.error}`;
  } finally {
    refresh();
  }
}

function render(o) {
  document.getElementById("version").textContent = "v" + o.version;
  document.getElementById("mode").textContent = o.actions_enabled ? "actions on" : "read-only";
  // Store streams holding a table's changes, by name: their rows say which table.
  const tableOf = new Map();
  for (const t of o.tables || []) {
    if (t.latest_stream) tableOf.set(t.latest_stream.store_stream, t.name);
    for (const s of t.older_streams) tableOf.set(s.store_stream, t.name);
  }
  for (const t of o.deleted_tables || []) {
    for (const s of t.streams) tableOf.set(s.store_stream, `${t.name}, deleted`);
  }
  renderStreams(o.streams, tableOf);
  renderMappings(o.mappings, o.actions_enabled, tableOf);
  renderPollers(o.pollers);
  renderTables(o.tables, o.deleted_tables, o.tables_note);
  const errors = Object.entries(o.errors);
  const box = document.getElementById("errors");
  box.hidden = errors.length === 0;
  box.replaceChildren(...errors.map(([k, v]) => el("div", {}, `${k}: ${v}`)));
}

async function refresh() {
  const status = document.getElementById("status");
  try {
    const r = await fetch("/api/overview", {cache: "no-store"});
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    const o = await r.json();
    render(o);
    refreshes++;
    lastOk = o.generated_at;
    document.body.setAttribute("data-refreshes", refreshes);
    status.className = "status";
    status.textContent = "updated " + o.generated_at;
  } catch (e) {
    status.className = "status stale";
    status.textContent = `stale (last update ${lastOk || "never"}): ${e.message}`;
  }
}

document.getElementById("move-form").addEventListener("submit", submitMove);
document.getElementById("move-cancel").addEventListener("click", () => {
  document.getElementById("move-form").hidden = true;
});
refresh();
setInterval(refresh, REFRESH_MS);
