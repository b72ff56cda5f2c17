/* Web lobby display: snapshot from /api/v1/display, then live through EventSource.
 *
 * Same rules as the Kivy display (display/state.py, display/controller.py;
 * docs/architecture.md "Screens"): every event carries what the screen
 * shows (the ticket, the counter, the waiting counts), so the snapshot is
 * read only at start, after a reconnect, on stream.reset and by a slow
 * conditional check (the browser revalidates with the ETag: 304).  A call
 * highlights its counter for a few seconds and is announced; after a
 * reconnect the browser resumes with Last-Event-ID, every missed call is
 * shown, and only the most recent few are read out.  The event types come
 * from the server (counter_server/event_types.py, embedded in the page).
 * The device cookie set by /display?token=... authenticates both requests.
 * No framework, no build.
 */
(function () {
  "use strict";
  var T = JSON.parse(document.getElementById("i18n").textContent);
  var TYPES = JSON.parse(document.getElementById("event-types").textContent);
  var HIGHLIGHT_MS = 8000, RECENT = 4, MAX_BACKLOG_ANNOUNCE = 3, CHECK_MS = 30000;
  var ENDED = TYPES.ended;
  var st = { office: {}, counters: {}, services: [], recent: [], lastId: 0 };
  var highlights = {};          // counter number -> until (ms)
  var es = null, down = false, pending = null, backlog = [];
  var soundOn = false, queue = [], playing = false;
  window.motcuaDisplay = { state: st, announced: [], connected: false };

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // ------------------------------------------------------------------ state
  function applySnapshot(s, advance) {
    st.office = s.office || {};
    st.ticker = st.office.display_ticker !== false;
    st.services = s.services || [];
    var counters = {};
    (s.counters || []).forEach(function (c) {
      var cur = c.current || {};
      counters[c.id] = { id: c.id, number: c.number, state: c.state,
        ticketId: cur.ticket_id || null, displayNumber: cur.display_number || "",
        service: cur.service_name || "", pauseReason: c.pause_reason || "" };
    });
    st.counters = counters;
    // The snapshot is the truth up to its last event: a call it does not list
    // (yesterday's, once the service day has turned) leaves the screen.
    var listed = {}, upTo = s.last_event_id || 0;
    (s.recent_calls || []).forEach(function (rc) { listed[rc.event_id] = true; });
    st.recent = st.recent.filter(function (c) { return c.eventId > upTo || listed[c.eventId]; });
    var known = {};
    st.recent.forEach(function (c) { known[c.eventId] = true; });
    (s.recent_calls || []).forEach(function (rc) {
      if (!known[rc.event_id]) st.recent.push({ eventId: rc.event_id,
        number: rc.display_number, counter: rc.counter_number });
    });
    st.recent.sort(function (a, b) { return b.eventId - a.eventId; });
    st.recent = st.recent.slice(0, RECENT);
    if (advance) st.lastId = Math.max(st.lastId, s.last_event_id || 0);
  }

  function serviceName(id) {
    for (var i = 0; i < st.services.length; i++) if (st.services[i].id === id) return st.services[i].name;
    return "";
  }

  function applyWaiting(counts) {
    if (!counts) return;
    var byId = {};
    counts.forEach(function (q) { byId[q.id] = q; });
    st.services.forEach(function (s) {
      var q = byId[s.id];
      if (q) { s.waiting = q.waiting; s.estimated_wait_minutes = q.estimated_wait_minutes; s.open = q.open; }
    });
  }

  function isCall(type) { return TYPES.call.indexOf(type) >= 0; }

  function applyEvent(ev) {
    if (ev.id <= st.lastId) return null;
    st.lastId = ev.id;
    var p = ev.payload || {}, t = p.ticket || {}, c = p.counter || {};
    applyWaiting(p.services);
    if (c.id !== undefined && c.id !== null) {
      var row = st.counters[c.id] || (st.counters[c.id] = { id: c.id, number: c.number,
        state: "closed", ticketId: null, displayNumber: "", service: "" });
      row.state = c.state || row.state;
      row.pauseReason = c.pause_reason || "";
      if (c.current_ticket_id === null && !isCall(ev.type)) {
        row.ticketId = null; row.displayNumber = ""; row.service = "";
      }
    }
    if (isCall(ev.type) && t.display_number) {
      var cid = t.counter_id || ev.counter_id;
      var r = st.counters[cid] || (st.counters[cid] = { id: cid, number: t.counter_number,
        state: "open" });
      r.ticketId = t.id; r.displayNumber = String(t.display_number);
      r.service = serviceName(t.service_id);
      if (r.state === "closed") r.state = "open";
      var call = { eventId: ev.id, number: r.displayNumber, counter: t.counter_number || r.number };
      st.recent = [call].concat(st.recent.filter(function (x) { return x.eventId !== ev.id; }))
        .slice(0, RECENT);
      highlights[call.counter] = Date.now() + HIGHLIGHT_MS;
      return call;
    }
    if (t.id && ENDED.indexOf(t.status) >= 0) {
      Object.keys(st.counters).forEach(function (k) {
        var x = st.counters[k];
        if (x.ticketId === t.id) { x.ticketId = null; x.displayNumber = ""; x.service = ""; }
      });
    }
    return null;
  }

  // ------------------------------------------------------------------ view
  function render() {
    $("office").textContent = st.office.name || "";
    document.title = st.office.name || document.title;
    var now = Date.now();
    var shown = Object.keys(st.counters).map(function (k) { return st.counters[k]; })
      .filter(function (c) { return c.state === "open" || c.state === "paused"; })
      .sort(function (a, b) { return a.number - b.number; });
    var box = $("counters");
    var n = shown.length;
    box.style.setProperty("--cols", n <= 1 ? 1 : n <= 4 ? 2 : n <= 9 ? 3 : 4);
    box.textContent = "";
    shown.forEach(function (c) {
      var paused = c.state === "paused";
      var card = el("div", "card" + (paused ? " paused" :
        (highlights[c.number] || 0) > now ? " hl" : ""));
      card.dataset.counter = c.number;
      card.appendChild(el("div", "label", T.counter + " " + c.number));
      if (paused) card.appendChild(el("div", "band", T.paused.toUpperCase()));
      card.appendChild(el("div", "number", c.displayNumber || "—"));
      card.appendChild(el("div", "service", (paused ? c.pauseReason : c.service) || ""));
      box.appendChild(card);
    });
    $("empty").hidden = n > 0;
    var recent = $("recent");
    recent.textContent = "";
    st.recent.forEach(function (call) {
      var li = el("li");
      li.appendChild(el("span", "num", call.number));
      li.appendChild(el("span", "to", T.counter_short + " " + call.counter));
      recent.appendChild(li);
    });
    var waiting = $("waiting");
    waiting.textContent = "";
    st.services.forEach(function (s) {
      var li = el("li");
      li.appendChild(el("span", "name", s.name));
      li.appendChild(el("span", "count", String(s.waiting)));
      waiting.appendChild(li);
    });
    var notice = (st.office.notice || "").trim();
    $("notice-bar").hidden = !notice;
    $("notice").classList.toggle("still", !st.ticker);  // office setting display_ticker
    if ($("notice").textContent !== notice) {
      $("notice").textContent = notice;
      $("notice").style.setProperty("--dur", Math.max(15, notice.length / 4) + "s");
    }
    $("status").hidden = !down;
    window.motcuaDisplay.connected = !down;
  }

  function tick() {
    var tz = st.office.timezone || "Asia/Ho_Chi_Minh", d = new Date();
    try {
      $("clock").textContent = d.toLocaleTimeString("vi-VN", { timeZone: tz, hour12: false });
      var date = d.toLocaleDateString("vi-VN", { timeZone: tz, weekday: "long", day: "2-digit",
        month: "2-digit", year: "numeric" });
      $("date").textContent = date.charAt(0).toUpperCase() + date.slice(1);
    } catch (e) {
      $("clock").textContent = d.toLocaleTimeString();
    }
    var now = Date.now(), changed = false;
    Object.keys(highlights).forEach(function (k) {
      if (highlights[k] <= now) { delete highlights[k]; changed = true; }
    });
    if (changed) render();
  }

  // ------------------------------------------------------------------ voice
  // The announcement policy of display/voice/queue.py, mirrored: a new call at a
  // counter replaces (or, same number, merges) the one waiting there; a call with
  // others behind it is said once; at most MAX_WAITING wait.  Every skip is logged.
  var MAX_WAITING = 4;
  var voiceCounts = { said: 0, shortened: 0, merged: 0, dropped: 0 };
  window.motcuaDisplay.voice = voiceCounts;

  function skip(kind, call, reason) {
    voiceCounts[kind] += 1;
    console.info("announcement " + call.number + " at counter " + call.counter + " " + kind +
                 ": " + reason);
  }

  function announce(call) {
    window.motcuaDisplay.announced.push([call.number, call.counter]);
    if (window.motcuaDisplay.announced.length > 50) window.motcuaDisplay.announced.shift();
    if (!soundOn) return;
    queue = queue.filter(function (old) {
      if (String(old.counter) !== String(call.counter)) return true;
      if (String(old.number) === String(call.number)) {
        skip("merged", old, "called again at counter " + call.counter + " before it was said");
      } else {
        skip("dropped", old, "replaced by " + call.number + " at counter " + call.counter);
      }
      return false;
    });
    queue.push(call);
    while (queue.length > MAX_WAITING) {
      skip("dropped", queue.shift(), "queue full (" + MAX_WAITING + " calls waiting)");
    }
    playNext();
  }

  function playNext() {
    if (playing || !queue.length) return;
    var call = queue.shift();
    var once = queue.length > 0;
    if (once) skip("shortened", call, "said once: " + queue.length + " more waiting");
    voiceCounts.said += 1;
    playing = true;
    var audio = new Audio("/display/announce.wav?number=" + encodeURIComponent(call.number) +
      "&counter=" + encodeURIComponent(call.counter) + (once ? "&once=1" : ""));
    var done = function () { playing = false; playNext(); };
    audio.onended = done;
    audio.onerror = done;
    var p = audio.play();
    if (p && p.catch) p.catch(function () { soundOn = false; $("sound").hidden = false; done(); });
  }

  $("sound").addEventListener("click", function () {
    soundOn = true;
    $("sound").hidden = true;
  });

  // ------------------------------------------------------------------ live
  function fetchSnapshot() {
    // "no-cache": the browser sends the ETag it holds and reuses its copy on 304.
    return fetch("/api/v1/display", { credentials: "same-origin", cache: "no-cache" })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); });
  }

  function check() {  // what changes without an event: the clock, an administrator's edit
    if (down || pending) return;
    fetchSnapshot().then(function (s) { if (!pending) { applySnapshot(s, false); render(); } })
      .catch(function () {});
  }

  function onReset(msg) {  // the server's events went back (a restored backup): start again
    pending = null;
    backlog = [];
    st.recent = [];
    st.lastId = Number(msg.lastEventId) || 0;   // the stream goes on after the newest event
    fetchSnapshot().then(function (s) { applySnapshot(s, true); render(); })
      .catch(function () {});
  }

  function finishCatchUp() {
    var snap = pending;
    pending = null;
    applySnapshot(snap, true);
    backlog.slice(-MAX_BACKLOG_ANNOUNCE).forEach(announce);
    backlog = [];
  }

  function onEvent(msg) {
    var ev = JSON.parse(msg.data);
    var call = applyEvent(ev);
    if (pending) {
      if (call) backlog.push(call);
      if (pending !== true && ev.id >= (pending.last_event_id || 0)) finishCatchUp();
    } else if (call) {
      announce(call);
    }
    render();
  }

  function connect() {
    es = new EventSource("/api/v1/events?last_event_id=" + st.lastId);
    TYPES.queue.forEach(function (type) { es.addEventListener(type, onEvent); });
    es.addEventListener(TYPES.reset, onReset);
    es.onopen = function () {
      if (!down) return;
      down = false;
      pending = true;            // events arriving now are the missed ones
      backlog = [];
      fetchSnapshot().then(function (s) {
        pending = s;
        if ((s.last_event_id || 0) <= st.lastId) finishCatchUp();
        render();
      }).catch(function () { pending = null; });
      render();
    };
    es.onerror = function () {
      down = true;
      render();
      if (es.readyState === EventSource.CLOSED) {   // HTTP error: the browser gave up
        es = null;
        setTimeout(connect, 3000);
      }
    };
  }

  function start() {
    fetchSnapshot().then(function (s) {
      applySnapshot(s, true);
      render();
      connect();
    }).catch(function () {
      down = true;
      render();
      setTimeout(start, 3000);
    });
  }

  tick();
  setInterval(tick, 500);
  setInterval(check, CHECK_MS);
  start();
})();
