"""The simulated KSEM's web UI: log in, Profile -> Access tokens, authorize (key icon), revoke.

Plain HTML + JS, no external assets. Stable selectors for the end-to-end browser test:
`#password` + button "Log in"; per token a key button `aria-label="Authorize <name>"` that
opens a confirm dialog with the button "Confirm"; `aria-label="Revoke <name>"`.
"""

from __future__ import annotations

INDEX_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>KOSTAL Smart Energy Meter (simulated)</title>
<style>
 body { font-family: sans-serif; margin: 2em; max-width: 60em; }
 table { border-collapse: collapse; margin-top: 1em; }
 th, td { border: 1px solid #ccc; padding: .4em .8em; text-align: left; }
 .hidden { display: none; }
 dialog { padding: 1.5em; }
 nav a { margin-right: 1em; }
 textarea { width: 100%; }
</style>
</head>
<body>
<h1>KOSTAL Smart Energy Meter</h1>
<section id="login-view" data-testid="login-view">
  <h2>Login</h2>
  <form id="login-form">
    <label for="password">Password</label>
    <input id="password" name="password" type="password" autocomplete="current-password">
    <button type="submit" data-testid="login-button">Log in</button>
  </form>
  <p id="login-error" role="alert" class="hidden">Wrong password.</p>
</section>
<section id="app-view" class="hidden" data-testid="app-view">
  <nav>
    <a href="#" id="nav-profile" data-testid="nav-profile">Profile</a>
    <a href="#" id="nav-tokens" data-testid="nav-access-tokens">Access tokens</a>
    <a href="#" id="nav-logout" data-testid="nav-logout">Log out</a>
  </nav>
  <section id="profile-view" data-testid="profile-view">
    <h2>Profile</h2>
    <p>User: admin. Open <a href="#" id="profile-tokens-link">Access tokens</a>
       to manage tokens of apps such as Home Assistant.</p>
  </section>
  <section id="tokens-view" class="hidden" data-testid="tokens-view">
    <h2>Access tokens</h2>
    <table id="tokens" data-testid="tokens-table">
      <thead><tr><th>Name</th><th>Role</th><th>State</th><th>Action</th></tr></thead>
      <tbody></tbody>
    </table>
    <h3>Add</h3>
    <form id="add-form">
      <label for="new-name">Name</label> <input id="new-name" required>
      <label for="new-role">Role</label>
      <select id="new-role">
        <option value="api">api</option><option value="admin">admin</option>
      </select>
      <button type="submit" data-testid="add-token">Add</button>
    </form>
    <div id="new-token-box" class="hidden">
      <p>Copy this token now, it is shown only once. It must still be authorized.</p>
      <textarea id="new-token" data-testid="new-token" readonly rows="4"></textarea>
    </div>
  </section>
</section>
<dialog id="confirm" data-testid="confirm-dialog">
  <p id="confirm-text"></p>
  <button id="confirm-ok" type="button">Confirm</button>
  <button id="confirm-cancel" type="button">Cancel</button>
</dialog>
<script>
const $ = (id) => document.getElementById(id);
let pending = null;
function token() { return localStorage.getItem("token"); }
async function api(method, path, body) {
  const headers = {"Authorization": "Bearer " + token()};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch(path, {method, headers,
                               body: body === undefined ? undefined : JSON.stringify(body)});
  if (r.status === 401) { logout(); throw new Error("unauthorized"); }
  return r.status === 204 ? null : r.json();
}
function show(view) {
  $("login-view").classList.toggle("hidden", view !== "login");
  $("app-view").classList.toggle("hidden", view === "login");
  $("profile-view").classList.toggle("hidden", view !== "profile");
  $("tokens-view").classList.toggle("hidden", view !== "tokens");
  if (view === "tokens") refresh();
}
function logout() { localStorage.removeItem("token"); show("login"); }
async function refresh() {
  if ($("tokens-view").classList.contains("hidden") || !token()) return;
  const tokens = await api("GET", "/api/access-token/tokens");
  const body = $("tokens").querySelector("tbody");
  body.replaceChildren();
  for (const t of tokens) {
    const tr = document.createElement("tr");
    tr.dataset.testid = "token-row";
    for (const v of [t.name, t.role, t.state]) {
      const td = document.createElement("td"); td.textContent = v; tr.appendChild(td);
    }
    const td = document.createElement("td");
    if (t.state === "pending") {
      const b = document.createElement("button");
      // An inline SVG key: emoji fonts are missing on many Linux machines.
      b.innerHTML = '<svg width="18" height="18" viewBox="0 0 24 24" aria-hidden="true">' +
        '<path fill="currentColor" fill-rule="evenodd" ' +
        'd="M7 14a2 2 0 1 1 0-4 2 2 0 0 1 0 4zm5.65-4A6 6 0 1 0 12.65 14H17v4h4v-4h2v-4z"/></svg>';
      b.title = "Authorize";
      b.setAttribute("aria-label", "Authorize " + t.name);
      b.dataset.testid = "authorize-" + t.id;
      b.onclick = () => { pending = t; $("confirm-text").textContent =
        "Authorize the access token \\u201c" + t.name + "\\u201d?"; $("confirm").showModal(); };
      td.appendChild(b);
    }
    if (t.state !== "revoked") {
      const b = document.createElement("button");
      b.textContent = "Revoke"; b.setAttribute("aria-label", "Revoke " + t.name);
      b.dataset.testid = "revoke-" + t.id;
      b.onclick = async () => {
        await api("DELETE", "/api/access-token/tokens/" + t.id); refresh();
      };
      td.appendChild(b);
    }
    tr.appendChild(td);
    body.appendChild(tr);
  }
}
$("confirm-ok").onclick = async () => {
  $("confirm").close();
  if (pending) await api("PUT", "/api/access-token/tokens/" + pending.id + "/authorize");
  pending = null; refresh();
};
$("confirm-cancel").onclick = () => { pending = null; $("confirm").close(); };
$("login-form").onsubmit = async (e) => {
  e.preventDefault();
  const form = new URLSearchParams({grant_type: "password", client_id: "emos",
    client_secret: "56951025", username: "admin", password: $("password").value});
  const r = await fetch("/api/web-login/token", {method: "POST", body: form});
  const data = await r.json().catch(() => ({error: "failed"}));
  if (!r.ok || data.error) { $("login-error").classList.remove("hidden"); return; }
  $("login-error").classList.add("hidden");
  localStorage.setItem("token", data.access_token);
  show("profile");
};
$("add-form").onsubmit = async (e) => {
  e.preventDefault();
  const t = await api("POST", "/api/access-token/tokens",
                      {name: $("new-name").value, role: $("new-role").value});
  $("new-token").value = t.access_token;
  $("new-token-box").classList.remove("hidden");
  refresh();
};
$("nav-profile").onclick = (e) => { e.preventDefault(); show("profile"); };
$("nav-tokens").onclick = (e) => { e.preventDefault(); show("tokens"); };
$("profile-tokens-link").onclick = (e) => { e.preventDefault(); show("tokens"); };
$("nav-logout").onclick = (e) => { e.preventDefault(); logout(); };
setInterval(refresh, 2000);
show(token() ? "profile" : "login");
</script>
</body>
</html>
"""
