/// The web console's script (`/ui/app.js`, served by `registerUI`): login, the cluster, topic,
/// queue and subscription views, and the record browser, all through the REST API with the
/// session's bearer token. Values from the server are rendered as text nodes only.
enum UIScript {
    static let javascript = #"""
// MOM web console. Plain ES2017, no build step, no dependencies. Every value that comes from
// the server is rendered with textContent (via el()/text()), never parsed as markup.
"use strict";
(function () {
  const tokenKey = "mom.token";
  const userKey = "mom.user";
  const byId = (id) => document.getElementById(id);
  let currentView = "cluster";
  let nextRecordsOffset = null;

  // Builds an element; children are nodes or plain values shown as text.
  function el(tag, className, children) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    for (const child of children || []) {
      node.append(child instanceof Node ? child : text(child));
    }
    return node;
  }
  function text(value) {
    if (value === null || value === undefined) return document.createTextNode("—");
    if (typeof value === "object") return document.createTextNode(JSON.stringify(value));
    return document.createTextNode(String(value));
  }
  function row(cells) {
    return el("tr", null, cells.map((cell) => (cell instanceof Node && cell.tagName === "TD") ? cell : el("td", null, [cell])));
  }
  function fillTable(id, rows) {
    const body = byId(id).tBodies[0];
    body.replaceChildren(...rows);
  }
  function setStatus(id, message, kind) {
    const node = byId(id);
    node.className = "status" + (kind ? " " + kind : "");
    node.textContent = message || "";
  }
  function linkButton(label, onClick) {
    const button = el("button", "link", [label]);
    button.type = "button";
    button.addEventListener("click", onClick);
    return button;
  }
  function segment(value) { return encodeURIComponent(String(value)); }

  // One REST call with the session's bearer token. Never throws: the result says what happened.
  async function api(method, path, body) {
    const headers = { "Accept": "application/json" };
    const token = sessionStorage.getItem(tokenKey);
    if (token) headers["Authorization"] = "Bearer " + token;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(path, { method, headers, cache: "no-store", credentials: "omit",
                                     body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (error) {
      return { status: 0, ok: false, data: null, message: "network error: " + error.message };
    }
    let data = null;
    try { data = await response.json(); } catch (ignored) { data = null; }
    const message = (data && data.error && data.error.message) ? data.error.message : "HTTP " + response.status;
    if (response.status === 401 && path !== "/v1/auth/token") {
      logout("Your session ended (" + message + "); log in again.");
    }
    return { status: response.status, ok: response.ok, data, message };
  }

  // A route another release may not have (queues, subscriptions) answers 404 or 405 here.
  function describeFailure(result, what) {
    if (result.status === 404 || result.status === 405 || result.status === 501) {
      return { message: what + ": not available on this server (HTTP " + result.status + ")", kind: "unavailable" };
    }
    return { message: what + ": " + result.message, kind: "error" };
  }

  function showLoggedIn(loggedIn) {
    byId("login-view").hidden = loggedIn;
    byId("console-view").hidden = !loggedIn;
    byId("session").hidden = !loggedIn;
    byId("session-user").textContent = loggedIn ? (sessionStorage.getItem(userKey) || "") : "";
  }

  async function login(event) {
    event.preventDefault();
    const username = byId("login-user").value;
    const password = byId("login-password").value;
    byId("login-error").textContent = "";
    byId("login-submit").disabled = true;
    const result = await api("POST", "/v1/auth/token", { username, password });
    byId("login-submit").disabled = false;
    if (!result.ok || !result.data || typeof result.data.token !== "string") {
      byId("login-error").textContent = "Login failed: " + result.message;
      return;
    }
    sessionStorage.setItem(tokenKey, result.data.token);
    sessionStorage.setItem(userKey, username);
    byId("login-password").value = "";
    showLoggedIn(true);
    show(currentView);
  }

  function logout(reason) {
    sessionStorage.removeItem(tokenKey);
    sessionStorage.removeItem(userKey);
    showLoggedIn(false);
    byId("login-error").textContent = typeof reason === "string" ? reason : "";
  }

  function show(view) {
    currentView = view;
    for (const tab of document.querySelectorAll("nav .tab")) {
      tab.classList.toggle("active", tab.dataset.view === view);
    }
    for (const section of document.querySelectorAll("section.view")) {
      section.hidden = section.id !== view + "-view";
    }
    const loaders = { cluster: loadCluster, topics: loadTopics, queues: loadQueues, records: () => {} };
    loaders[view]();
  }

  async function loadCluster() {
    setStatus("cluster-status", "Loading…");
    const result = await api("GET", "/v1/cluster");
    if (!result.ok) {
      const failure = describeFailure(result, "cluster");
      setStatus("cluster-status", failure.message, failure.kind);
      return;
    }
    const data = result.data || {};
    setStatus("cluster-status", "Answered by node " + data.node_id);
    fillTable("nodes-table", (data.nodes || []).map((node) => row([node.id, node.http, node.raft, node.live ? "yes" : "no"])));
    fillTable("groups-table", (data.groups || []).map((group) => row([
      group.group, group.owner, group.role, group.leader, group.term, group.commit_index,
      (group.voters || []).join(", "), group.follower_lag,
    ])));
  }

  async function loadTopics() {
    setStatus("topics-status", "Loading…");
    const result = await api("GET", "/v1/topics");
    if (!result.ok) {
      const failure = describeFailure(result, "topics");
      setStatus("topics-status", failure.message, failure.kind);
      fillTable("topics-table", []);
      return;
    }
    const topics = (result.data && result.data.topics) || [];
    setStatus("topics-status", topics.length + " topic(s)");
    fillTable("topics-table", topics.map((topic) => {
      const cell = el("td", "topic-name", [linkButton(topic.name, () => loadTopic(topic.name))]);
      return row([cell, topic.partitions, topic.replication_factor]);
    }));
  }

  async function loadTopic(name) {
    byId("topic-detail").hidden = false;
    byId("topic-detail-name").textContent = name;
    setStatus("topic-detail-status", "Loading…");
    fillTable("partitions-table", []);
    const result = await api("GET", "/v1/topics/" + segment(name));
    if (!result.ok) {
      const failure = describeFailure(result, "topic " + name);
      setStatus("topic-detail-status", failure.message, failure.kind);
    } else {
      setStatus("topic-detail-status", "");
      fillTable("partitions-table", ((result.data && result.data.partitions) || []).map((partition) => row([
        partition.partition, partition.leader, (partition.replicas || []).join(", "),
        partition.log_start_offset, partition.high_watermark,
        linkButton("browse", () => browse(name, partition.partition, partition.log_start_offset || 0)),
      ])));
    }
    await loadSubscriptions(name);
  }

  async function loadSubscriptions(topic) {
    setStatus("subscriptions-status", "Loading…");
    fillTable("subscriptions-table", []);
    const base = "/v1/topics/" + segment(topic) + "/subscriptions";
    const result = await api("GET", base);
    if (!result.ok) {
      const failure = describeFailure(result, "subscriptions");
      setStatus("subscriptions-status", failure.message, failure.kind);
      return;
    }
    const names = namesIn(result.data, "subscriptions");
    setStatus("subscriptions-status", names.length + " subscription(s)");
    const rows = [];
    for (const name of names.slice(0, 100)) {
      const detail = await api("GET", base + "/" + segment(name));
      if (!detail.ok) {
        rows.push(row([name, describeFailure(detail, "lag").message, "", ""]));
        continue;
      }
      const partitions = (detail.data && detail.data.partitions) || [];
      if (partitions.length === 0) rows.push(row([name, "", "", detail.data && detail.data.lag]));
      for (const partition of partitions) {
        rows.push(row([name, partition.partition, firstDefined(partition, ["cursor", "offset", "committed_offset"]), partition.lag]));
      }
    }
    fillTable("subscriptions-table", rows);
  }

  async function loadQueues() {
    setStatus("queues-status", "Loading…");
    fillTable("queues-table", []);
    const result = await api("GET", "/v1/queues");
    if (!result.ok) {
      const failure = describeFailure(result, "queues");
      setStatus("queues-status", failure.message, failure.kind);
      return;
    }
    const names = namesIn(result.data, "queues");
    setStatus("queues-status", names.length + " queue(s)");
    const rows = [];
    for (const name of names.slice(0, 200)) {
      const detail = await api("GET", "/v1/queues/" + segment(name));
      if (!detail.ok) {
        rows.push(row([name, describeFailure(detail, "depth").message, "", "", ""]));
        continue;
      }
      const data = detail.data || {};
      rows.push(row([name, firstDefined(data, ["depth"]), firstDefined(data, ["in_flight", "inflight"]),
                     firstDefined(data, ["dead_lettered", "dead_letter"]), el("td", "value", [text(data)])]));
    }
    fillTable("queues-table", rows);
  }

  // Lists answer {"queues":[…]} of names or of objects with a name; accept both.
  function namesIn(data, field) {
    const list = (data && Array.isArray(data[field])) ? data[field] : [];
    return list.map((item) => (item && typeof item === "object") ? item.name : item).filter((name) => name !== undefined && name !== null);
  }
  function firstDefined(object, fields) {
    for (const field of fields) { if (object && object[field] !== undefined) return object[field]; }
    return null;
  }

  function browse(topic, partition, offset) {
    byId("records-topic").value = topic;
    byId("records-partition").value = partition;
    byId("records-offset").value = offset;
    show("records");
    loadRecords();
  }

  async function loadRecords(event) {
    if (event) event.preventDefault();
    const topic = byId("records-topic").value;
    const partition = byId("records-partition").value;
    const offset = byId("records-offset").value;
    const max = byId("records-max").value;
    byId("records-next").disabled = true;
    setStatus("records-status", "Loading…");
    const path = "/v1/topics/" + segment(topic) + "/partitions/" + segment(partition) + "/records?offset=" +
      segment(offset) + "&max_records=" + segment(max) + "&wait_ms=0";
    const result = await api("GET", path);
    if (!result.ok) {
      const failure = describeFailure(result, "records");
      setStatus("records-status", failure.message, failure.kind);
      fillTable("records-table", []);
      return;
    }
    const data = result.data || {};
    const records = data.records || [];
    setStatus("records-status", records.length + " record(s); log start " + data.log_start_offset +
      ", high watermark " + data.high_watermark + ", next offset " + data.next_offset);
    fillTable("records-table", records.map((record) => {
      const tr = row([
        record.offset,
        record.timestamp_ms === undefined ? null : new Date(record.timestamp_ms).toISOString(),
        el("td", "value", [text(record.key)]),
        el("td", "value", [record.value !== undefined ? text(record.value) : text("base64: " + record.value_base64)]),
        el("td", "value", [text(record.headers)]),
      ]);
      tr.className = "record";
      return tr;
    }));
    nextRecordsOffset = data.next_offset;
    byId("records-next").disabled = !(typeof data.next_offset === "number" && data.next_offset < data.high_watermark);
  }

  function nextRecords() {
    if (nextRecordsOffset === null) return;
    byId("records-offset").value = nextRecordsOffset;
    loadRecords();
  }

  function start() {
    byId("login-form").addEventListener("submit", login);
    byId("logout").addEventListener("click", () => logout(""));
    byId("refresh").addEventListener("click", () => show(currentView));
    byId("records-form").addEventListener("submit", loadRecords);
    byId("records-next").addEventListener("click", nextRecords);
    for (const tab of document.querySelectorAll("nav .tab")) {
      tab.addEventListener("click", () => show(tab.dataset.view));
    }
    const loggedIn = sessionStorage.getItem(tokenKey) !== null;
    showLoggedIn(loggedIn);
    if (loggedIn) show(currentView);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
"""#
}
