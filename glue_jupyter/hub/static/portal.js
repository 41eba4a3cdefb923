// The portal page: lists the servers and sessions from api/sessions, forwards controls.
// Plain DOM, text only (never innerHTML with data): titles and folders come from agents and users.
"use strict";

(() => {
  const root = document.getElementById("glue-portal");
  const API = root.dataset.api;
  const HUB = root.dataset.hub;
  const PORTAL = root.dataset.portal;
  const ME = root.dataset.user;
  const XSRF = root.dataset.xsrf;
  const REFRESH_MS = Math.max(1, parseFloat(root.dataset.refresh) || 5) * 1000;

  const serversNode = document.getElementById("glue-servers");
  const summaryNode = document.getElementById("glue-summary");
  const alertNode = document.getElementById("glue-alert");
  const filterNode = document.getElementById("glue-filter");
  const needsYouNode = document.getElementById("glue-needs-you");

  // Which control is legal in which state (engine/states.py, docs/contract.md).
  const LEGAL = {
    interrupt: ["running"],
    pause: ["idle", "running"],
    resume: ["paused", "stopped", "failed"],
    stop: ["starting", "idle", "running", "interrupting", "paused"],
  };
  const LABEL = { interrupt: "Interrupt", pause: "Pause", resume: "Resume", stop: "Stop" };

  let listing = null;
  let rendered = "";
  let timer = null;
  const answers = new Map(); // session key -> waiting permission requests, while shown
  const inFlight = new Set(); // session keys with a control on its way

  // -- requests -------------------------------------------------------------------------------
  async function api(method, path, body) {
    const init = {
      method,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-XSRFToken": XSRF },
    };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(API + path, init);
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (_) {
      data = null;
    }
    if (response.status === 403 && !data) {
      location.reload(); // signed out of the hub meanwhile: the page itself signs in again
    }
    if (!response.ok) {
      throw new Error((data && data.message) || `${response.status} ${response.statusText}`);
    }
    return data;
  }

  const enc = encodeURIComponent;
  const serverPath = (server) =>
    `users/${enc(server.user)}` + (server.name ? `/servers/${enc(server.name)}` : "");
  const sessionPath = (server, session) => `${serverPath(server)}/sessions/${enc(session.id)}`;
  const keyOf = (server, session) => `${server.user}/${server.name}/${session.id}`;

  async function refresh() {
    clearTimeout(timer);
    try {
      listing = await api("GET", "sessions");
      render();
    } catch (error) {
      showAlert(`Could not list your servers: ${error.message}`);
    }
    schedule();
  }

  function schedule() {
    clearTimeout(timer);
    if (!document.hidden) {
      timer = setTimeout(refresh, REFRESH_MS);
    }
  }

  async function control(server, session, verb) {
    const key = keyOf(server, session);
    inFlight.add(key);
    render(true);
    try {
      await api("POST", `${sessionPath(server, session)}/${verb}`, {});
      hideAlert();
    } catch (error) {
      showAlert(`${LABEL[verb]} “${titleOf(session)}”: ${error.message}`);
    } finally {
      inFlight.delete(key);
      await refresh();
    }
  }

  async function showRequests(server, session) {
    const key = keyOf(server, session);
    try {
      const reply = await api("GET", `${sessionPath(server, session)}/permissions`);
      answers.set(key, reply.requests);
      render(true);
    } catch (error) {
      showAlert(`Could not read the waiting request: ${error.message}`);
    }
  }

  async function answer(server, session, request, option) {
    const key = keyOf(server, session);
    inFlight.add(key);
    render(true);
    try {
      await api("POST", `${sessionPath(server, session)}/permissions/${enc(request.request_id)}`, {
        option_id: option.option_id,
      });
      answers.delete(key);
      hideAlert();
    } catch (error) {
      showAlert(`Answer “${titleOf(session)}”: ${error.message}`);
    } finally {
      inFlight.delete(key);
      await refresh();
    }
  }

  // -- reading a session ----------------------------------------------------------------------
  const titleOf = (session) => session.title || "Untitled session";

  function needsYou(session) {
    if (session.needs_you) return session.needs_you; // the server's own judgement, when it has one
    if (session.pending_permissions > 0) return "permission";
    if (session.state === "failed") return "failed";
    return null;
  }

  const NEEDS_YOU_TEXT = {
    permission: "waits for your answer",
    failed: "failed",
    turn_done: "finished a turn",
  };

  function ago(seconds) {
    if (!seconds) return "";
    const delta = Math.max(0, Date.now() / 1000 - seconds);
    if (delta < 45) return "just now";
    if (delta < 90) return "a minute ago";
    if (delta < 3600) return `${Math.round(delta / 60)} min ago`;
    if (delta < 86400) return `${Math.round(delta / 3600)} h ago`;
    return new Date(seconds * 1000).toLocaleDateString();
  }

  function matches(server, session) {
    if (needsYouNode.checked && !needsYou(session)) return false;
    const words = filterNode ? filterNode.value.trim().toLowerCase() : "";
    if (!words) return true;
    const text = [server.user, server.name, session.title, session.cwd, session.agent, session.state]
      .join(" ")
      .toLowerCase();
    return words.split(/\s+/).every((word) => text.includes(word));
  }

  // -- rendering ------------------------------------------------------------------------------
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (name === "class") node.className = value;
      else if (name === "text") node.textContent = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child !== null && child !== undefined && child !== false) {
        node.append(child instanceof Node ? child : document.createTextNode(String(child)));
      }
    }
    return node;
  }

  function render(force = false) {
    if (!listing) return;
    const snapshot = JSON.stringify([listing.servers, [...answers], [...inFlight],
      filterNode && filterNode.value, needsYouNode.checked]);
    if (!force && snapshot === rendered) {
      renderSummary(); // times move on even when nothing else does
      return;
    }
    rendered = snapshot;
    renderSummary();
    const cards = listing.servers
      .map((server) => serverCard(server))
      .filter((card) => card !== null);
    if (!cards.length) {
      cards.push(el("p", { class: "text-body-secondary glue-empty", text: "No session matches." }));
    }
    serversNode.replaceChildren(...cards);
  }

  function renderSummary() {
    const servers = listing.servers;
    const sessions = servers.flatMap((s) => s.sessions);
    const waiting = servers.flatMap((s) => s.sessions.filter((x) => !s.stale && needsYou(x))).length;
    const parts = [
      `${servers.length} server${servers.length === 1 ? "" : "s"}`,
      `${sessions.length} session${sessions.length === 1 ? "" : "s"}`,
    ];
    if (waiting) parts.push(`${waiting} need${waiting === 1 ? "s" : ""} you`);
    if (listing.everyone) parts.push("every user");
    const filtering = (filterNode && filterNode.value.trim()) || needsYouNode.checked;
    if (filtering) {
      const shown = servers.flatMap((s) => s.sessions.filter((x) => matches(s, x))).length;
      parts.push(`${shown} shown`);
    }
    summaryNode.textContent = `${parts.join(" · ")} · updated ${ago(listing.at)}`;
  }

  function serverLabel(server) {
    const name = server.name ? server.name : "default server";
    return server.user === ME ? name : `${server.user} · ${name}`;
  }

  const STATE_BADGE = {
    running: "text-bg-success",
    starting: "text-bg-info",
    stopping: "text-bg-secondary",
    stopped: "text-bg-secondary",
    "not answering": "text-bg-warning",
    error: "text-bg-danger",
  };

  function serverCard(server) {
    // What needs the user first (as the panel triages), then the most recently active.
    const shown = server.sessions
      .filter((session) => matches(server, session))
      .sort((a, b) => (needsYou(b) ? 1 : 0) - (needsYou(a) ? 1 : 0) || b.updated_at - a.updated_at);
    const filtering = (filterNode && filterNode.value.trim()) || needsYouNode.checked;
    if (filtering && !shown.length) return null;

    const header = el("div", { class: "card-header glue-server-head" },
      el("div", { class: "glue-server-title" },
        el("h2", { class: "h6 mb-0", text: serverLabel(server) }),
        el("span", { class: `badge ${STATE_BADGE[server.state] || "text-bg-secondary"}`, text: server.state })),
      el("div", { class: "glue-server-tools" },
        server.info ? el("span", {
          class: "text-body-secondary small",
          title: "Active sessions hold a slot: starting, idle, running, interrupting",
          text: `${server.info.active} of ${server.info.limit} active`,
        }) : null,
        server.state === "running" && server.url
          ? el("a", { class: "btn btn-sm btn-outline-secondary", href: server.url, text: "Open" })
          : null,
        server.state === "stopped"
          ? el("a", {
            class: "btn btn-sm btn-primary",
            href: `${HUB}spawn/${enc(server.user)}${server.name ? "/" + enc(server.name) : ""}?next=${enc(PORTAL)}`,
            text: "Start server",
          })
          : null));

    const body = [];
    if (server.message) {
      body.push(el("div", { class: "alert alert-warning small mb-2 py-2", role: "status", text: server.message }));
    }
    if (server.stale && server.sessions.length) {
      body.push(el("p", {
        class: "small text-body-secondary mb-2 glue-stale-note",
        text: `As last seen ${ago(server.seen_at)}; the server ${server.state === "stopped" ? "is stopped" : "does not answer now"}.`,
      }));
    }
    if (shown.length) {
      body.push(el("ul", { class: "list-group list-group-flush" }, shown.map((s) => sessionRow(server, s))));
    } else if (!server.stale && server.state === "running") {
      body.push(el("p", { class: "small text-body-secondary mb-0 glue-empty", text: "No sessions on this server yet: open it to start one." }));
    } else if (server.state === "stopped" && !server.sessions.length) {
      body.push(el("p", { class: "small text-body-secondary mb-0 glue-empty", text: "Stopped. Its sessions show here once it has been seen running." }));
    }
    return el("section", {
      class: `card mb-3 glue-server${server.stale ? " glue-stale" : ""}`,
      "data-user": server.user,
      "data-server": server.name,
      "data-state": server.state,
    }, header, el("div", { class: "card-body" }, body));
  }

  function sessionRow(server, session) {
    const key = keyOf(server, session);
    const busy = inFlight.has(key);
    const live = !server.stale && server.state === "running";
    const reason = needsYou(session);
    const dot = el("span", { class: `glue-dot glue-${session.state}`, "aria-hidden": "true" });
    const title = el("div", { class: "glue-title" },
      el("span", { class: "fw-semibold", text: titleOf(session) }),
      el("span", { class: "glue-state text-body-secondary small", text: session.state }),
      reason ? el("span", { class: "badge rounded-pill text-bg-warning glue-needs-you", text: NEEDS_YOU_TEXT[reason] || reason }) : null);
    const meta = el("div", { class: "glue-meta small text-body-secondary" },
      el("span", { text: session.agent }),
      // Left-to-right marks: the cell is right-to-left so that a long path loses its start,
      // and without them the path's leading "/" would be drawn at its end.
      el("span", { class: "glue-cwd", title: session.cwd, text: `\u200e${session.cwd}\u200e` }),
      el("span", { text: ago(session.updated_at) }),
      session.error ? el("span", { class: "text-danger", title: session.error, text: session.error }) : null);

    const actions = el("div", { class: "glue-actions btn-group btn-group-sm", role: "group", "aria-label": "Controls" });
    if (live) {
      if (session.pending_permissions > 0 && !answers.has(key)) {
        actions.append(el("button", {
          type: "button", class: "btn btn-warning", disabled: busy,
          onclick: () => showRequests(server, session), text: "Answer…",
        }));
      }
      for (const verb of ["interrupt", "pause", "resume", "stop"]) {
        if (!LEGAL[verb].includes(session.state)) continue;
        actions.append(el("button", {
          type: "button",
          class: `btn ${verb === "stop" ? "btn-outline-danger" : "btn-outline-secondary"}`,
          disabled: busy,
          "data-control": verb,
          onclick: () => control(server, session, verb),
          text: LABEL[verb],
        }));
      }
    }
    const row = el("li", { class: "list-group-item glue-session", "data-session": session.id, "data-state": session.state },
      el("div", { class: "glue-session-main" }, dot, title, meta), actions);
    const waiting = answers.get(key);
    if (live && waiting) row.append(requestsPanel(server, session, waiting, busy));
    return row;
  }

  function requestsPanel(server, session, requests, busy) {
    if (!requests.length) {
      return el("div", { class: "glue-requests small text-body-secondary", text: "Nothing waits any more." });
    }
    return el("div", { class: "glue-requests" }, requests.map((request) => {
      const call = request.tool_call || {};
      return el("div", { class: "glue-request" },
        el("div", { class: "small" },
          el("span", { class: "text-body-secondary", text: "The agent asks: " }),
          el("span", { class: "fw-semibold", text: call.title || "permission" })),
        el("div", { class: "btn-group btn-group-sm mt-1", role: "group" },
          (request.options || []).map((option) => el("button", {
            type: "button",
            class: `btn ${String(option.kind).startsWith("allow") ? "btn-success" : "btn-outline-danger"}`,
            disabled: busy,
            onclick: () => answer(server, session, request, option),
            text: option.name,
          }))));
    }));
  }

  function showAlert(message) {
    alertNode.textContent = message;
    alertNode.classList.remove("d-none");
  }

  function hideAlert() {
    alertNode.classList.add("d-none");
    alertNode.textContent = "";
  }

  // -- wiring ---------------------------------------------------------------------------------
  document.getElementById("glue-refresh").addEventListener("click", refresh);
  needsYouNode.addEventListener("change", () => render());
  if (filterNode) filterNode.addEventListener("input", () => render());
  document.addEventListener("visibilitychange", () => (document.hidden ? clearTimeout(timer) : refresh()));
  refresh();
})();
