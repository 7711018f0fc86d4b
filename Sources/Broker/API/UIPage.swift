/// The web console's page and style sheet (served by `registerUI`). The page holds no inline
/// script or style: the Content-Security-Policy forbids both, and `app.js` builds every
/// data-bearing node with `textContent`, never with markup.
enum UIPage {
    static let html = #"""
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>MOM console</title>
<link rel="stylesheet" href="/ui/app.css">
<script src="/ui/app.js" defer></script>
</head>
<body>
<header>
  <h1>MOM console</h1>
  <span id="session" class="session" hidden>
    <span id="session-user"></span>
    <button type="button" id="refresh">Refresh</button>
    <button type="button" id="logout">Log out</button>
  </span>
</header>
<main>
  <section id="login-view">
    <h2>Log in</h2>
    <form id="login-form" autocomplete="on">
      <label>User <input id="login-user" name="username" autocomplete="username" required></label>
      <label>Password <input id="login-password" name="password" type="password" autocomplete="current-password" required></label>
      <button type="submit" id="login-submit">Log in</button>
    </form>
    <p id="login-error" class="error" role="alert"></p>
    <p class="hint">The token is kept in this tab's sessionStorage only, and is dropped on log out.</p>
  </section>
  <div id="console-view" hidden>
    <nav>
      <button type="button" class="tab" data-view="cluster">Cluster</button>
      <button type="button" class="tab" data-view="topics">Topics</button>
      <button type="button" class="tab" data-view="queues">Queues</button>
      <button type="button" class="tab" data-view="records">Records</button>
    </nav>
    <section id="cluster-view" class="view">
      <h2>Cluster</h2>
      <div id="cluster-status" class="status"></div>
      <h3>Nodes</h3>
      <table id="nodes-table"><thead><tr><th>Node</th><th>HTTP</th><th>Raft</th><th>Live</th></tr></thead><tbody></tbody></table>
      <h3>Raft groups hosted on the answering node</h3>
      <table id="groups-table"><thead><tr><th>Group</th><th>Owner</th><th>Role</th><th>Leader</th><th>Term</th><th>Commit</th><th>Voters</th><th>Follower lag</th></tr></thead><tbody></tbody></table>
    </section>
    <section id="topics-view" class="view">
      <h2>Topics</h2>
      <div id="topics-status" class="status"></div>
      <table id="topics-table"><thead><tr><th>Topic</th><th>Partitions</th><th>Replication</th></tr></thead><tbody></tbody></table>
      <div id="topic-detail" hidden>
        <h3>Topic <span id="topic-detail-name"></span></h3>
        <div id="topic-detail-status" class="status"></div>
        <table id="partitions-table"><thead><tr><th>Partition</th><th>Leader</th><th>Replicas</th><th>Log start</th><th>High watermark</th><th></th></tr></thead><tbody></tbody></table>
        <h3>Subscriptions (consumer lag)</h3>
        <div id="subscriptions-status" class="status"></div>
        <table id="subscriptions-table"><thead><tr><th>Subscription</th><th>Partition</th><th>Cursor</th><th>Lag</th></tr></thead><tbody></tbody></table>
      </div>
    </section>
    <section id="queues-view" class="view">
      <h2>Queues</h2>
      <div id="queues-status" class="status"></div>
      <table id="queues-table"><thead><tr><th>Queue</th><th>Depth</th><th>In flight</th><th>Dead-lettered</th><th>Details</th></tr></thead><tbody></tbody></table>
    </section>
    <section id="records-view" class="view">
      <h2>Record browser</h2>
      <form id="records-form">
        <label>Topic <input id="records-topic" required></label>
        <label>Partition <input id="records-partition" type="number" min="0" value="0" required></label>
        <label>Offset <input id="records-offset" type="number" min="0" value="0" required></label>
        <label>Max records <input id="records-max" type="number" min="1" max="1000" value="50" required></label>
        <button type="submit" id="records-load">Load</button>
        <button type="button" id="records-next" disabled>Next page</button>
      </form>
      <div id="records-status" class="status"></div>
      <table id="records-table"><thead><tr><th>Offset</th><th>Time</th><th>Key</th><th>Value</th><th>Headers</th></tr></thead><tbody></tbody></table>
    </section>
  </div>
</main>
</body>
</html>
"""#

    static let css = #"""
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, sans-serif; color: #1d2330; background: #f5f6f8; }
header { display: flex; align-items: center; justify-content: space-between; padding: 8px 16px; background: #1d2330; color: #fff; }
header h1 { font-size: 18px; margin: 0; }
.session button { margin-left: 8px; }
main { padding: 16px; }
nav { margin-bottom: 12px; }
nav .tab { padding: 6px 14px; border: 1px solid #9aa3b5; background: #fff; cursor: pointer; }
nav .tab.active { background: #1d2330; color: #fff; }
section { background: #fff; padding: 12px 16px; border: 1px solid #d9dce3; margin-bottom: 12px; }
h2 { margin-top: 0; font-size: 16px; }
h3 { font-size: 14px; margin: 16px 0 6px; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #d9dce3; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #eef0f4; }
td.value { font-family: ui-monospace, monospace; white-space: pre-wrap; word-break: break-all; max-width: 40em; }
label { margin-right: 12px; }
input { padding: 3px 6px; }
input[type=number] { width: 7em; }
.error { color: #b00020; }
.status { margin: 6px 0; color: #4a5468; }
.status.error { color: #b00020; }
.status.unavailable { color: #8a6d00; }
.hint { color: #6b7385; font-size: 12px; }
button.link { border: none; background: none; color: #1a56c4; cursor: pointer; padding: 0; text-decoration: underline; font: inherit; }
"""#
}
