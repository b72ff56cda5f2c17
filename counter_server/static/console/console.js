/* Staff console: actions go to the JSON API (session cookie + X-CSRFToken).
   The screen is drawn from one state: GET /console/state, fetched when the
   event stream (re)connects or says stream.reset, then kept up to date from
   the events' payloads alone (apply() below: the ticket and counter as they
   are after the change, event_types.PAYLOADS), never refetched per event.
   Every 30 s the page asks again with If-None-Match: the server's idle
   check sees the console is still here, and a 304 costs next to nothing.
   The event types come from the server (counter_server/event_types.py,
   embedded in the page). */
(function () {
  "use strict";
  var root = document.getElementById("console");
  if (!root) return;
  var T = JSON.parse(document.getElementById("console-text").textContent);
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var counterId = root.dataset.counterId;
  var stateUrl = root.dataset.stateUrl;
  var state = null, clockOffset = 0, fetchSeq = 0, appliedSeq = 0, busy = false, ended = false;
  var etag = null, recent = [];  // the stream's latest events, replayed over a fetched state
  var $ = function (id) { return document.getElementById(id); };

  function fmtDuration(sec) {
    if (sec == null) return "—";
    sec = Math.max(0, Math.floor(sec));
    var h = Math.floor(sec / 3600), m = Math.floor((sec % 3600) / 60), s = sec % 60;
    var mm = (h ? String(m).padStart(2, "0") : String(m));
    return (h ? h + ":" : "") + mm + ":" + String(s).padStart(2, "0");
  }
  function nowServer() { return Date.now() + clockOffset; }
  function since(iso) { return iso ? (nowServer() - Date.parse(iso)) / 1000 : null; }
  function fmt(text, params) {
    return text.replace(/\{(\w+)\}/g, function (m, k) { return params[k] != null ? params[k] : m; });
  }
  // This session's counter is no longer this officer's (another took it, it
  // was released or closed): say so, and act no more.
  function endSession(message) {
    ended = true;
    $("session-ended-text").textContent = message;
    $("session-ended").hidden = false;
    document.querySelectorAll("#console button").forEach(function (b) { b.disabled = true; });
    if (es) es.close();
  }
  function show(msg, kind) {
    var el = $("message");
    el.textContent = msg; el.className = "flash flash-" + (kind || "info"); el.hidden = !msg;
    clearTimeout(show.t);
    if (msg) show.t = setTimeout(function () { el.hidden = true; }, 6000);
  }

  function refresh(why) {
    var seq = ++fetchSeq, headers = { "Accept": "application/json" };
    if (etag && state) headers["If-None-Match"] = etag;
    // ?beat=1 marks the heartbeat in the server's log (and for the tests).
    return fetch(why === "beat" ? stateUrl + "?beat=1" : stateUrl, { credentials: "same-origin", cache: "no-store", headers: headers })
      .then(function (r) {
        if (r.status === 401 || r.redirected) { location.href = "/login?next=/console"; return null; }
        if (r.status === 304) return null;  // nothing happened since the state this page keeps
        var tag = r.headers.get("ETag");
        return r.json().then(function (data) { if (data && !data.error) data._etag = tag; return data; });
      })
      .then(function (data) {
        if (data && data.error && data.error.code === "session_ended") { endSession(data.error.message); return; }
        // Only the newest answer may paint: an older, slower one is dropped.
        if (!data || ended || seq < appliedSeq || data.error) return;
        appliedSeq = seq; state = data; etag = data._etag;
        state.waiting_truncated = state.waiting.length >= state.waiting_limit;
        clockOffset = Date.parse(data.now) - Date.now();
        // Events the stream brought while this answer was on its way.
        recent.forEach(function (ev) { if (ev.id > state.last_event_id) apply(ev); });
        render();
      })
      .catch(function () { show(T.network, "error"); });
  }

  function render() {
    var c = state.counter, cur = state.current;
    $("counter-state").textContent = T[c.state] + (c.pause_reason ? " — " + c.pause_reason : "");
    $("counter-state").className = "badge badge-" + c.state;
    var other = $("other-officer");
    other.hidden = !state.someone_else;
    if (state.someone_else) other.textContent = T.other + " " + c.staff.full_name;
    var card = $("ticket-card");
    card.dataset.ticketId = cur ? cur.ticket_id : "";
    card.classList.toggle("empty", !cur);
    $("ticket-number").textContent = cur ? cur.display_number : "—";
    $("ticket-service").textContent = cur ? cur.service_name : T.none;
    $("ticket-status").textContent = cur ? T[cur.status] : "";
    $("ticket-status").hidden = !cur;
    $("ticket-recalls").textContent = cur && cur.recall_count ? T.recalls + ": " + cur.recall_count : "";
    if (cur && cur.priority_class) $("ticket-status").textContent += " · " + T.priority;
    var list = $("ticket-transfers");
    list.innerHTML = "";
    (cur ? cur.transfers : []).forEach(function (h) {
      var li = document.createElement("li");
      var from = h.from_service || (h.from_counter ? T.counter + " " + h.from_counter : "");
      var to = h.to_service || (h.to_counter ? T.counter + " " + h.to_counter : "");
      li.textContent = T.transfer_from + " " + from + " " + T.transfer_to + " " + to +
        (h.by ? " (" + T.by + " " + h.by + ")" : "");
      list.appendChild(li);
    });
    var open = c.state === "open", paused = c.state === "paused";
    var called = cur && cur.status === "called";
    // With a ticket in hand the big button is the one-tap "done, next": the
    // server completes it and calls the next in one transaction, or changes
    // nothing (409 queue_empty) when nobody is waiting.
    var inHand = inHandTicket();
    $("btn-call-next-label").textContent = inHand ? T.complete_next : T.call_next;
    setEnabled("btn-call-next", open && (!cur || !!inHand));
    setEnabled("btn-recall", !!cur);
    setEnabled("btn-start", !!called);
    setEnabled("btn-complete", !!cur);
    setEnabled("btn-no-show", !!called);
    setEnabled("btn-transfer", !!cur);
    $("btn-pause").hidden = paused; $("btn-resume").hidden = !paused;
    setEnabled("btn-pause", open); setEnabled("btn-resume", paused);
    var tbody = $("waiting-list");
    tbody.innerHTML = "";
    state.waiting.forEach(function (w) {
      var tr = document.createElement("tr");
      tr.dataset.ticketId = w.id;
      if (w.priority_class) tr.className = "priority";
      var extra = (w.for_this_counter ? " · " + T.for_you : "") + (w.transferred ? " · " + T.transferred : "");
      [w.display_number, w.service_name + extra, ""].forEach(function (txt, i) {
        var td = document.createElement("td"); td.textContent = txt;
        if (i === 2) { td.className = "wait"; td.dataset.since = w.issued_at; }
        tr.appendChild(td);
      });
      tr.appendChild(rowButtons(w, [["reprint", T.reprint]]));
      tbody.appendChild(tr);
    });
    if (!state.waiting.length) {
      var tr = document.createElement("tr"), td = document.createElement("td");
      td.colSpan = 4; td.className = "muted"; td.textContent = T.empty; tr.appendChild(td); tbody.appendChild(tr);
    }
    $("waiting-count").textContent = state.waiting.length;
    renderNoShows();
    var faults = $("device-faults");
    faults.innerHTML = "";
    state.device_faults.forEach(function (d) {
      var p = document.createElement("div");
      p.textContent = fmt(T.device_fault, { name: d.name, message: d.message });
      faults.appendChild(p);
    });
    faults.hidden = !state.device_faults.length;
    $("btn-reprint").hidden = !cur;
    setEnabled("btn-reprint", !!cur);
    var f = state.figures;
    document.querySelectorAll("[data-fig]").forEach(function (dd) {
      var v = f[dd.dataset.fig]; dd.textContent = v == null ? "—" : v;
    });
    tick();
  }

  function rowButtons(ticket, actions) {
    var td = document.createElement("td");
    td.className = "row-actions";
    actions.forEach(function (a) {
      var b = document.createElement("button");
      b.type = "button"; b.className = "btn btn-small"; b.textContent = a[1];
      b.dataset.rowAction = a[0]; b.dataset.ticketId = ticket.id; b.dataset.number = ticket.display_number;
      b.disabled = busy || ended;
      td.appendChild(b);
    });
    return td;
  }
  function renderNoShows() {
    var tbody = $("no-show-list");
    tbody.innerHTML = "";
    state.no_shows.forEach(function (n) {
      var tr = document.createElement("tr");
      tr.dataset.ticketId = n.id;
      [n.display_number, n.service_name].forEach(function (txt) {
        var td = document.createElement("td"); td.textContent = txt; tr.appendChild(td);
      });
      tr.appendChild(rowButtons(n, [["reactivate", T.reactivate], ["cancel", T.cancel], ["reprint", T.reprint]]));
      tbody.appendChild(tr);
    });
    if (!state.no_shows.length) {
      var tr = document.createElement("tr"), td = document.createElement("td");
      td.colSpan = 3; td.className = "muted"; td.textContent = T.no_no_shows; tr.appendChild(td); tbody.appendChild(tr);
    }
    $("no-show-count").textContent = state.no_shows.length;
  }

  function tick() {
    if (!state) return;
    var cur = state.current;
    if (cur) {
      var waited = cur.called_at ? (Date.parse(cur.called_at) - Date.parse(cur.issued_at)) / 1000 : since(cur.issued_at);
      $("ticket-wait").textContent = T.waited + " " + fmtDuration(waited);
      $("ticket-serving").textContent = cur.started_at ? T.serving_for + " " + fmtDuration(since(cur.started_at)) : "";
    } else { $("ticket-wait").textContent = ""; $("ticket-serving").textContent = ""; }
    document.querySelectorAll("#waiting-list td.wait").forEach(function (td) {
      td.textContent = fmtDuration(since(td.dataset.since));
    });
  }

  function setEnabled(id, on) { $(id).disabled = !on || busy; }
  function inHandTicket() {
    var cur = state && state.current;
    return cur && (cur.status === "called" || cur.status === "serving") ? cur : null;
  }

  // POST an action; on success show ``done(answer)`` (a short confirmation) if given.
  function post(path, body, done) {
    if (ended) return;
    busy = true; if (state) render();
    return fetch(path, {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, "Content-Type": "application/json", "Accept": "application/json" },
      body: body ? JSON.stringify(body) : null
    }).then(function (r) {
      if (r.status === 401) { location.href = "/login?next=/console"; return; }
      return r.json().then(function (data) {
        if (data.error && data.error.code === "session_ended") endSession(data.error.message);
        else if (!r.ok) show((data.error && data.error.message) || T.network, "error");
        else show(done ? done(data) : "", "ok");
      });
    }).catch(function () { show(T.network, "error"); })
      .then(function () {
        busy = false;
        // The action's events redraw the screen; without a stream, ask.
        if (es && es.readyState === EventSource.OPEN) { if (state) render(); }
        else return refresh();
      });
  }
  function ticketAction(id, number, action) {
    var tk = "/api/v1/tickets/" + id + "/";
    if (action === "reprint") return post(tk + "reprint", null, function (d) {
      return fmt(T.reprint_msg, { number: d.display_number, kiosk: d.kiosk }); });
    if (action === "reactivate") return post(tk + "reactivate", null, function () {
      return fmt(T.reactivated_msg, { number: number }); });
    if (action === "cancel") {
      if (!window.confirm(fmt(T.confirm_cancel, { number: number }))) return;
      return post(tk + "cancel", null, function () { return fmt(T.cancelled_msg, { number: number }); });
    }
  }
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest ? ev.target.closest("button[data-row-action]") : null;
    if (!b || b.disabled || busy || ended) return;
    ticketAction(b.dataset.ticketId, b.dataset.number, b.dataset.rowAction);
  });

  function act(action) {
    if (!state || busy || ended) return;
    var btn = $("btn-" + action);
    if (btn && (btn.disabled || btn.hidden)) return;
    var cur = state.current, ctr = "/api/v1/counters/" + counterId + "/";
    var tk = cur ? "/api/v1/tickets/" + cur.ticket_id + "/" : null;
    switch (action) {
      case "call-next":
        var inHand = inHandTicket();  // the ticket this screen shows: refused if it changed
        return post(ctr + "call-next", inHand ? { complete_current: true, current_ticket_id: inHand.ticket_id } : null);
      case "recall": return post(ctr + "recall");
      case "complete": return tk && post(tk + action, null, function () {
        return fmt(T.completed_msg, { number: cur.display_number }); });
      case "start": case "no-show": return tk && post(tk + action);
      case "reprint": return cur && ticketAction(cur.ticket_id, cur.display_number, "reprint");
      case "resume": return post(ctr + "resume");
      case "pause": $("pause-dialog").showModal(); return;
      case "transfer": $("transfer-service").value = ""; $("transfer-counter").value = "";
        // The ticket's own service is no target.
        Array.prototype.forEach.call($("transfer-service").options, function (o) {
          var own = o.value !== "" && Number(o.value) === cur.service_id;
          o.hidden = own; o.disabled = own;
        });
        $("transfer-dialog").showModal(); return;
    }
  }

  $("transfer-dialog").addEventListener("close", function () {
    if (this.returnValue !== "ok" || !state || !state.current) return;
    var svc = $("transfer-service").value, ctr = $("transfer-counter").value;
    if (!svc && !ctr) { show(T.pick_target, "error"); return; }
    var sel = svc ? $("transfer-service") : $("transfer-counter");
    var target = sel.options[sel.selectedIndex].text, number = state.current.display_number;
    post("/api/v1/tickets/" + state.current.ticket_id + "/transfer",
         svc ? { service_id: Number(svc) } : { counter_id: Number(ctr) },
         function () { return fmt(T.transferred_msg, { number: number, target: target }); });
  });
  $("pause-dialog").addEventListener("close", function () {
    if (this.returnValue !== "ok") return;
    var detail = $("pause-detail").value.trim(), reason = $("pause-reason").value;
    post("/api/v1/counters/" + counterId + "/pause", { reason: detail ? reason + ": " + detail : reason });
  });

  document.querySelectorAll("[data-action]").forEach(function (b) {
    b.addEventListener("click", function () { act(b.dataset.action); });
  });
  var KEYS = { g: "call-next", l: "recall", b: "start", h: "complete", v: "no-show", c: "transfer" };
  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.repeat) return;
    var tag = (ev.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "select" || tag === "textarea" || document.querySelector("dialog[open]")) return;
    var k = ev.key.toLowerCase();
    if (k === "t") { ev.preventDefault(); act(state && state.counter.state === "paused" ? "resume" : "pause"); return; }
    if (KEYS[k]) { ev.preventDefault(); act(KEYS[k]); }
  });

  var es = null, painting = null;
  var TYPES = JSON.parse(document.getElementById("event-types").textContent);
  var IN_HAND = ["called", "serving"];
  function mine(id) { return id != null && String(id) === String(counterId); }
  function serviceName(id) { return state.service_names[String(id)] || ""; }
  function serves(t) {  // the rule of the server's waiting list (console/views.py)
    return mine(t.target_counter_id) ||
      (t.target_counter_id == null && state.counter.services.indexOf(t.service_id) >= 0);
  }
  function without(list, id) { return list.filter(function (x) { return x.id !== id; }); }
  function inHandFrom(t) {
    return { ticket_id: t.id, display_number: t.display_number, status: t.status,
             service_id: t.service_id, service_name: serviceName(t.service_id),
             called_at: t.called_at, started_at: t.started_at, issued_at: t.issued_at,
             priority_class: t.priority_class, recall_count: t.recall_count,
             transfers: t.transfers || [] };
  }
  function seconds(a, b) { return a && b ? Math.max(0, Math.floor((Date.parse(b) - Date.parse(a)) / 1000)) : null; }
  // One event applied to the state this page keeps; false when the payload
  // cannot tell (the page then asks for the state).
  function apply(ev) {
    if (ev.id <= state.last_event_id) return true;
    state.last_event_id = ev.id;
    var p = ev.payload || {}, t = p.ticket, c = p.counter;
    if (p.device) {
      state.device_faults = without(state.device_faults, p.device.id);
      if (p.device.status === "error") state.device_faults.push(
        { id: p.device.id, name: p.device.name, kind: p.device.kind, message: p.device.message });
    }
    if (t) {
      var before = state.waiting.length;
      state.waiting = without(state.waiting, t.id);
      if (t.status === "waiting" && serves(t)) {
        state.waiting.push({ id: t.id, display_number: t.display_number, service_id: t.service_id,
                             service_name: serviceName(t.service_id), priority_class: t.priority_class,
                             issued_at: t.issued_at, for_this_counter: mine(t.target_counter_id),
                             transferred: !!(t.transfers && t.transfers.length) });
        state.waiting.sort(function (a, b) {
          return a.issued_at < b.issued_at ? -1 : a.issued_at > b.issued_at ? 1 : a.id - b.id; });
        if (state.waiting_truncated && state.waiting.length > state.waiting_limit) state.waiting.pop();
      }
      // A full list (waiting_limit shown, more behind it) that shrinks: who comes next is unknown here.
      if (state.waiting_truncated && state.waiting.length < Math.min(before, state.waiting_limit)) return false;
      state.no_shows = without(state.no_shows, t.id);
      if (t.status === "no_show" && (mine(t.counter_id) || state.counter.services.indexOf(t.service_id) >= 0))
        state.no_shows.unshift({ id: t.id, display_number: t.display_number, service_id: t.service_id,
                                 service_name: serviceName(t.service_id), marked_at: t.finished_at,
                                 here: mine(t.counter_id) });
      if (state.current && state.current.ticket_id === t.id && IN_HAND.indexOf(t.status) >= 0)
        state.current = inHandFrom(t);
    }
    if (c && mine(c.id)) {
      // Another officer, or nobody, at this counter: the server says what ended this session.
      if (c.staff_id !== state.me) return false;
      state.counter.state = c.state; state.counter.pause_reason = c.pause_reason;
      state.counter.staff = c.staff; state.someone_else = false;
      if (c.current_ticket_id == null) state.current = null;
      else if (t && t.id === c.current_ticket_id && IN_HAND.indexOf(t.status) >= 0) state.current = inHandFrom(t);
      else if (!state.current || state.current.ticket_id !== c.current_ticket_id) return false;
    }
    var f = state.figures;
    if (String(ev.staff_id) === String(state.me) && state.figure_types.indexOf(ev.type) >= 0) {
      var key = ev.type.split(".")[1];
      f[key] = (f[key] || 0) + 1;
      if (ev.type === "ticket.completed" && t) {
        var serve = seconds(t.started_at, t.finished_at), wait = seconds(t.issued_at, t.called_at);
        if (serve != null) { f.serve_seconds[0] += serve; f.serve_seconds[1] += 1; }
        if (wait != null) { f.wait_seconds[0] += wait; f.wait_seconds[1] += 1; }
        var avg = function (x) { return x[1] ? Math.round(x[0] / x[1] / 6) / 10 : null; };
        f.avg_service_minutes = avg(f.serve_seconds); f.avg_wait_minutes = avg(f.wait_seconds);
      }
    }
    return true;
  }
  function onEvent(msg) {
    var ev = null;
    try { ev = JSON.parse(msg.data); } catch (e) { ev = null; }
    if (!ev || ended) return;
    // A restored backup: what this page knows is gone, ask for all of it.
    if (msg.type === TYPES.reset) { recent = []; etag = null; refresh(); return; }
    recent.push(ev);
    if (recent.length > 500) recent.shift();
    if (!state) return;  // the first answer replays it
    if (!apply(ev)) { refresh(); return; }
    if (!painting) painting = setTimeout(function () { painting = null; render(); }, 30);
  }
  function connect() {
    if (ended) return;
    es = new EventSource("/api/v1/events");
    es.onopen = function () { $("live").textContent = T.live; $("live").className = "badge badge-on"; refresh(); };
    es.onmessage = onEvent;
    TYPES.queue.concat(TYPES.rating, TYPES.device, [TYPES.reset]).forEach(function (t) { es.addEventListener(t, onEvent); });
    es.onerror = function () {
      $("live").textContent = T.offline; $("live").className = "badge badge-off";
      if (es.readyState === EventSource.CLOSED && !ended) { setTimeout(connect, 3000); refresh(); }
    };
  }
  setInterval(tick, 1000);
  // The heartbeat: it tells the server this console is still here (a counter
  // whose console is gone for the office's idle_close_minutes closes itself);
  // a 304 while no event happened since the state was fetched, else the fresh
  // state (the ratings figures, which the staff stream does not carry, with it).
  setInterval(function () { if (!ended) refresh("beat"); }, 30000);
  refresh();
  connect();
})();
