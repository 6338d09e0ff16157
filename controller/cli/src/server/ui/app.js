// The topology page: one lane per account, grouped by region and by what documents sit in (a VPC,
// a cluster); a node per document coloured by its state; edges for shares (to each consumer
// account, dashed until the consumer sees the namespace), peerings and bindings. It reads
// /status and /topology every few seconds and /plan/KIND/NAME for the node clicked. Every value
// is set as text, never as markup: documents are other people's input.
"use strict";

const REFRESH_MS = 3000;
const STATES = ["Ready", "Waiting", "Drifted", "Blocked", "Suspended", "Failed"];
// A group of more documents than this shows the ones needing attention and folds the Ready ones
// into one line, until expanded (or a filter is set).
const FOLD_AT = 12;
const view = { documents: [], accounts: {}, selected: null, collapsed: new Set(), expanded: new Set(), plannedFor: null };

function filtering() {
  return ["f-account", "f-kind", "f-state", "f-name"].some((id) => document.getElementById(id).value.trim());
}

// Documents needing attention first, then by key.
function attentionFirst(a, b) {
  return (a.state === "Ready") - (b.state === "Ready") || a.key.localeCompare(b.key);
}

// What is left out (null or undefined) is not drawn; `replaceChildren` would draw it as text.
function present(...nodes) {
  return nodes.filter((n) => n !== undefined && n !== null);
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function condition(status, type) {
  return (status.conditions || []).find((c) => c.type === type);
}

function accountLabel(id) {
  const alias = view.accounts[id];
  return alias ? `${alias} (${id})` : id;
}

// Why a node is in its state, in one line.
function why(doc) {
  switch (doc.state) {
    case "Drifted": return (doc.driftedFields || []).join(", ");
    case "Failed": return doc.lastError ? `${doc.lastError.class}: ${doc.lastError.message}` : "";
    case "Blocked":
    case "Suspended":
    case "Waiting": {
      const synced = condition(doc, "Synced");
      const ready = condition(doc, "Ready");
      return (synced && synced.message) || (ready && ready.message) || "";
    }
    default: return "";
  }
}

async function fetchJson(path) {
  const reply = await fetch(path, { cache: "no-store" });
  if (!reply.ok) throw new Error(`${path}: HTTP ${reply.status}`);
  return reply.json();
}

async function refresh() {
  try {
    const [status, topology] = await Promise.all([fetchJson("/status"), fetchJson("/topology")]);
    const places = new Map((topology.nodes || []).map((n) => [n.key, n]));
    view.accounts = topology.accounts || {};
    view.documents = (status.documents || []).map((d) => Object.assign({}, places.get(d.key) || {}, d));
    // Documents not reconciled yet have no status: drawn as waiting.
    const known = new Set(view.documents.map((d) => d.key));
    for (const node of places.values()) {
      if (!known.has(node.key)) view.documents.push(Object.assign({ state: "Waiting", conditions: [] }, node));
    }
    document.getElementById("controller").textContent =
      `${status.controller}${status.leader ? " · leader" : " · follower"}`;
    const c = status.counts || {};
    document.getElementById("summary").textContent =
      `${c.documents || 0} documents · ${c.synced || 0} in sync · ${c.drifted || 0} drifted · ${c.failing || 0} failing`;
    document.getElementById("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
    fillFilters();
    render();
  } catch (e) {
    document.getElementById("updated").textContent = `cannot reach the controller: ${e.message}`;
  }
}

function fillFilters() {
  const options = {
    "f-account": [...new Set(view.documents.flatMap((d) => [d.account, ...edgeAccounts(d)]))].sort(),
    "f-kind": [...new Set(view.documents.map((d) => d.kind))].sort(),
    "f-state": STATES,
  };
  for (const [id, values] of Object.entries(options)) {
    const select = document.getElementById(id);
    const chosen = select.value;
    select.replaceChildren(el("option", { value: "" }, "all"),
      ...values.map((v) => el("option", { value: v }, id === "f-account" ? accountLabel(v) : v)));
    select.value = values.includes(chosen) ? chosen : "";
  }
}

function edgeAccounts(doc) {
  return (doc.edges || []).filter((e) => e.account).map((e) => e.account);
}

function matches(doc) {
  const account = document.getElementById("f-account").value;
  const kind = document.getElementById("f-kind").value;
  const state = document.getElementById("f-state").value;
  const name = document.getElementById("f-name").value.trim().toLowerCase();
  return (!account || doc.account === account || edgeAccounts(doc).includes(account))
    && (!kind || doc.kind === kind)
    && (!state || doc.state === state)
    && (!name || doc.name.toLowerCase().includes(name));
}

function nodeOf(doc) {
  const node = el("div", {
    class: "node" + (view.selected === doc.key ? " selected" : ""),
    tabindex: 0,
    role: "button",
    "data-key": doc.key,
    "data-kind": doc.kind,
    "data-state": doc.state,
    hidden: !matches(doc),
  },
  el("div", { class: "kind" }, doc.kind),
  el("div", { class: "name" }, doc.name),
  el("div", { class: "state" }, doc.state));
  const reason = why(doc);
  if (reason) node.append(el("div", { class: "why" }, reason));
  node.addEventListener("click", () => select(doc.key));
  node.addEventListener("keydown", (e) => { if (e.key === "Enter") select(doc.key); });
  return node;
}

function render() {
  const lanes = new Map();
  const lane = (account) => {
    if (!lanes.has(account)) lanes.set(account, new Map());
    return lanes.get(account);
  };
  for (const doc of view.documents) {
    const regions = lane(doc.account);
    if (!regions.has(doc.region)) regions.set(doc.region, new Map());
    const groups = regions.get(doc.region);
    const balancer = managedBalancer(doc);
    const group = doc.group
      ? doc.group + (balancer ? ` · behind load balancer ${balancer}` : "")
      : `\u0000${doc.kind}`;
    if (!groups.has(group)) groups.set(group, []);
    groups.get(group).push(doc);
    for (const account of edgeAccounts(doc)) lane(account);
  }
  const board = [...lanes.keys()].sort().map((account) => {
    const regions = lanes.get(account);
    const header = el("h2", { title: "collapse or expand" }, accountLabel(account), " ",
      el("small", {}, `${[...regions.values()].reduce((n, g) => n + [...g.values()].flat().length, 0)} documents`));
    header.addEventListener("click", () => {
      if (view.collapsed.has(account)) view.collapsed.delete(account); else view.collapsed.add(account);
      render();
    });
    const body = el("div", { class: "regions" }, ...[...regions.keys()].sort().map((region) => {
      const groups = regions.get(region);
      return el("section", { class: "region", "data-region": region }, el("h3", {}, region),
        ...[...groups.keys()].sort().map((group) => {
          const docs = groups.get(group).sort(attentionFirst);
          const foldKey = `${account}|${region}|${group}`;
          const open = docs.length <= FOLD_AT || view.expanded.has(foldKey) || filtering();
          const shown = open ? docs : docs.filter((d) => d.state !== "Ready");
          const nodes = shown.map(nodeOf);
          const folded = docs.length - shown.length;
          if (folded > 0) {
            const more = el("button", { type: "button", class: "fold", "data-folded": folded },
              `${folded} more Ready — show`);
            more.addEventListener("click", () => { view.expanded.add(foldKey); render(); });
            nodes.push(more);
          }
          if (group.startsWith("\u0000")) {
            const kind = group.slice(1);
            return el("div", { class: "ungrouped", "data-kind-group": kind },
              docs.length > FOLD_AT ? el("h4", {}, `${kind} · ${docs.length}`) : null, ...nodes);
          }
          const managed = group.includes(" · behind load balancer ")
            ? el("div", { class: "managed" }, "load balancer managed by ECS: read-only") : null;
          return el("div", { class: "group", "data-group": group }, el("h4", {}, `${group} · ${docs.length}`), managed, ...nodes);
        }));
    }));
    return el("section", {
      class: "lane" + (view.collapsed.has(account) ? " collapsed" : ""),
      "data-account": account,
    }, header, body);
  });
  document.getElementById("lanes").replaceChildren(...board);
  drawEdges();
  if (view.selected) showDetails(view.selected, false);
}

// What the pending plan depends on: when it changes, the plan shown is out of date.
function planStamp(doc) {
  const conditions = (doc.conditions || []).map((c) => [c.type, c.status, c.reason, c.message]);
  return JSON.stringify([doc.key, doc.state, doc.observedRevision, conditions, doc.driftedFields || []]);
}

function box(element, origin) {
  const r = element.getBoundingClientRect();
  return { left: r.left - origin.left, right: r.right - origin.left, y: r.top - origin.top + r.height / 2 };
}

// The load balancer ECS manages for an Express service: shown, never changed.
function managedBalancer(doc) {
  const arn = (doc.aws || {})["managed.loadBalancer"];
  return arn ? arn.split("/").slice(-2, -1)[0] || arn : null;
}

function drawEdges() {
  const svg = document.getElementById("edges");
  const board = document.getElementById("board");
  const origin = board.getBoundingClientRect();
  svg.setAttribute("width", board.scrollWidth);
  svg.setAttribute("height", board.scrollHeight);
  const paths = [];
  for (const doc of view.documents) {
    for (const edge of doc.edges || []) {
      const from = document.querySelector(`.node[data-key="${CSS.escape(doc.key)}"]`);
      const to = edge.account
        ? document.querySelector(`.lane[data-account="${CSS.escape(edge.account)}"] > h2`)
        : document.querySelector(`.node[data-key="${CSS.escape(edge.document || "")}"]`);
      if (!from || !to) continue;
      const visible = !from.hidden && from.offsetParent !== null;
      const a = box(from, origin);
      const b = box(to, origin);
      // From the side of the node that faces the other end, to the facing side of that end.
      const rightwards = b.left >= a.right;
      const x1 = rightwards ? a.right : a.left;
      const x2 = rightwards ? b.left : b.right;
      const bend = Math.max(30, Math.abs(x2 - x1) / 2) * (rightwards ? 1 : -1);
      const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
      path.setAttribute("d", `M ${x1} ${a.y} C ${x1 + bend} ${a.y}, ${x2 - bend} ${b.y}, ${x2} ${b.y}`);
      path.setAttribute("data-edge", edge.kind);
      path.setAttribute("data-from", doc.key);
      path.setAttribute("data-to", edge.account || edge.document);
      if (edge.seen !== undefined) path.setAttribute("data-seen", String(edge.seen));
      if (edge.seen === false) path.setAttribute("class", "unseen");
      if (!visible) path.setAttribute("visibility", "hidden");
      const title = document.createElementNS("http://www.w3.org/2000/svg", "title");
      title.textContent = `${edge.kind}: ${doc.key} → ${edge.account ? accountLabel(edge.account) : edge.document}` +
        (edge.seen === false ? " (not seen yet)" : "");
      path.append(title);
      paths.push(path);
    }
  }
  svg.classList.toggle("many", paths.length > 50);
  svg.replaceChildren(...paths);
}

function row(...cells) {
  return el("tr", {}, ...cells.map((c) => el("td", {}, c)));
}

async function select(key) {
  view.selected = key;
  for (const n of document.querySelectorAll(".node.selected")) n.classList.remove("selected");
  const node = document.querySelector(`.node[data-key="${CSS.escape(key)}"]`);
  if (node) node.classList.add("selected");
  await showDetails(key, true);
}

async function showDetails(key, fetchPlan) {
  const doc = view.documents.find((d) => d.key === key);
  const panel = document.getElementById("details");
  if (!doc) { panel.hidden = true; return; }
  const body = document.getElementById("detail-body");
  // A refresh that finds the document changed plans it again: the plan shown is never older
  // than the state shown beside it.
  const stamp = planStamp(doc);
  const shown = document.getElementById("plan");
  if (!shown || view.plannedFor !== stamp) fetchPlan = true;
  view.plannedFor = stamp;
  const planBox = fetchPlan ? el("div", { id: "plan" }, "planning…") : shown;
  body.replaceChildren(...present(
    el("h2", {}, doc.key),
    el("p", {}, `${accountLabel(doc.account)} · ${doc.region}${doc.group ? " · " + doc.group : ""} · `, el("strong", {}, doc.state)),
    el("h3", {}, "Conditions"),
    el("table", {}, el("tr", {}, el("th", {}, "type"), el("th", {}, "status"), el("th", {}, "reason"), el("th", {}, "message")),
      ...(doc.conditions || []).map((c) => row(c.type, c.status, c.reason, c.message))),
    doc.driftedFields && doc.driftedFields.length ? el("h3", {}, "Drifted fields") : null,
    doc.driftedFields && doc.driftedFields.length ? el("p", {}, doc.driftedFields.join(", ")) : null,
    doc.lastError ? el("h3", {}, "Last error") : null,
    doc.lastError ? el("pre", {}, `${doc.lastError.class}: ${doc.lastError.message}`) : null,
    el("h3", {}, "AWS"),
    el("table", {}, ...Object.entries(doc.aws || {}).map(([k, v]) => row(k, v))),
    el("h3", {}, "Pending plan"),
    planBox,
  ));
  panel.hidden = false;
  if (!fetchPlan) return;
  try {
    const [kind, ...name] = key.split("/");
    const plan = await fetchJson(`/plan/${encodeURIComponent(kind)}/${encodeURIComponent(name.join("/"))}`);
    const changes = plan.changes || [];
    planBox.replaceChildren(...present(
      el("p", {}, plan.verb, plan.reason ? ` — ${plan.reason}` : ""),
      changes.length ? el("table", {}, el("tr", {}, el("th", {}, "field"), el("th", {}, "now"), el("th", {}, "wanted")),
        ...changes.map((c) => row(c.path, JSON.stringify(c.from ?? null), JSON.stringify(c.to ?? null)))) : null,
    ));
  } catch (e) {
    planBox.textContent = `no plan: ${e.message}`;
  }
}

document.getElementById("close").addEventListener("click", () => {
  view.selected = null;
  document.getElementById("details").hidden = true;
  for (const n of document.querySelectorAll(".node.selected")) n.classList.remove("selected");
});
for (const id of ["f-account", "f-kind", "f-state"]) document.getElementById(id).addEventListener("change", render);
document.getElementById("f-name").addEventListener("input", render);
window.addEventListener("resize", drawEdges);
// A link to a document: /#Kind/name opens its details.
async function start() {
  await refresh();
  const linked = decodeURIComponent(location.hash.slice(1));
  if (linked && view.documents.some((d) => d.key === linked)) await select(linked);
}
start();
setInterval(refresh, REFRESH_MS);
