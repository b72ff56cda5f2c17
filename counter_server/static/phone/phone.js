/* motcua phone page: follow one ticket over its own event stream (no polling),
   alert when it is near the front and when it is called (alerts.js), and post
   its rating.  Plain ES5 for old Android browsers; without it the page still
   works (meta refresh + HTML form). */
(function () {
  'use strict';
  var doc = document, app = doc.getElementById('app');
  if (!app || !doc.querySelectorAll) { return; }
  doc.documentElement.className += ' js';

  var LIVE = {waiting: 1, called: 1, serving: 1, no_show: 1};
  var state = {status: app.getAttribute('data-status'), rated: app.getAttribute('data-rated') === '1',
               ahead: app.getAttribute('data-status') === 'waiting' ? parseInt(app.getAttribute('data-ahead'), 10) : NaN,
               recalls: parseInt(app.getAttribute('data-recalls'), 10) || 0};
  var refresh = (parseInt(app.getAttribute('data-refresh'), 10) || 15) * 1000;
  var alerts = window.motcuaAlerts;
  var msgs = {};
  try { msgs = JSON.parse(doc.getElementById('msgs').textContent); } catch (e) { msgs = {}; }
  var clientKey = 'web-' + Math.random().toString(36).slice(2) + Date.now().toString(36);

  function $(id) { return doc.getElementById(id); }
  function setText(id, v) { var el = $(id); if (el) { el.textContent = v; } }
  function each(sel, fn) { var l = doc.querySelectorAll(sel); for (var i = 0; i < l.length; i++) { fn(l[i]); } }

  /* JSON over fetch when the browser has it, else XHR; done(status, body), status 0 = offline. */
  function send(method, url, body, done) {
    var headers = {'Accept': 'application/json'};
    if (body) { headers['Content-Type'] = 'application/json'; }
    if (window.fetch) {
      window.fetch(url, {method: method, headers: headers, credentials: 'omit', cache: 'no-store',
                         body: body ? JSON.stringify(body) : undefined})
        .then(function (r) {
          return r.json().then(function (j) { done(r.status, j); }, function () { done(r.status, null); });
        }, function () { done(0, null); });
      return;
    }
    var x = new XMLHttpRequest();
    x.open(method, url, true);
    for (var h in headers) { x.setRequestHeader(h, headers[h]); }
    x.onreadystatechange = function () {
      if (x.readyState !== 4) { return; }
      var j = null;
      try { j = JSON.parse(x.responseText); } catch (e) { j = null; }
      done(x.status, j);
    };
    x.send(body ? JSON.stringify(body) : null);
  }

  function showMsg(text) { var el = $('msg'); el.textContent = text || ''; el.hidden = !text; }

  function showRating() {
    var done = state.status === 'done';
    $('rate').hidden = !done || state.rated;
    $('thanks').hidden = !done || !state.rated;
  }

  function fill(text, t) {
    return String(text || '').replace('{number}', t.display_number)
      .replace('{ahead}', t.waiting_before).replace('{counter}', t.counter_number == null ? '' : t.counter_number);
  }

  /* Ring once when the ticket comes within the office's number of places, and
     when it is called (again on each recall). */
  function alertOn(t) {
    var near = parseInt(t.near_alert_places, 10) || 0;
    var isNear = t.status === 'waiting' && near > 0 && t.waiting_before <= near;
    $('near').hidden = !isNear;
    if (!alerts) { return; }
    if (isNear && state.status === 'waiting' && state.ahead > near) {
      alerts.fire('near', msgs.near_title, fill(t.waiting_before > 0 ? msgs.near_body : msgs.next_body, t));
    }
    if (t.status === 'called' && (state.status !== 'called' || (t.recall_count || 0) > state.recalls)) {
      alerts.fire('called', msgs.called_title, fill(msgs.called_body, t));
    }
    if (t.status !== 'called' && !isNear) { alerts.quiet(); }
  }

  function update(t) {
    alertOn(t);
    state.status = t.status;
    state.ahead = t.status === 'waiting' ? t.waiting_before : NaN;
    state.recalls = t.recall_count || 0;
    state.rated = !!t.rated;
    $('alerts').hidden = !LIVE[t.status] || !alerts;
    setText('number', t.display_number);
    setText('service', t.service_name);
    setText('ahead', t.waiting_before);
    setText('wait', t.estimated_wait_minutes);
    /* "about 0 minutes" says nothing: a zero estimate reads "your turn is coming up". */
    $('wait-some').hidden = !(t.estimated_wait_minutes > 0);
    $('wait-none').hidden = t.estimated_wait_minutes > 0;
    setText('counters', (t.counters || []).join(', '));
    each('.cnum', function (el) { el.textContent = t.counter_number == null ? '' : t.counter_number; });
    each('[data-show]', function (el) { el.hidden = el.getAttribute('data-show') !== t.status; });
    showRating();
  }

  /* ---- the ticket's event stream: one ticket.status event on connect and on
     every change; EventSource reconnects by itself (sending Last-Event-ID). ---- */
  var retry = 5000;
  function follow() {
    if (!LIVE[state.status]) { return; }  // done, cancelled, transferred: nothing more comes
    if (!window.EventSource) { window.setTimeout(function () { window.location.reload(); }, refresh); return; }
    var es = new window.EventSource(app.getAttribute('data-events'));
    es.addEventListener('ticket.status', function (ev) {
      var t = null;
      try { t = JSON.parse(ev.data); } catch (e) { return; }
      $('conn').hidden = true;
      retry = 5000;
      update(t);
      if (!LIVE[t.status]) { es.close(); }
    });
    es.onerror = function () {
      $('conn').hidden = false;
      if (es.readyState === 2 && LIVE[state.status]) {
        /* refused (not a reconnect): try again later, less and less often */
        window.setTimeout(follow, retry);
        retry = Math.min(retry * 2, 300000);
      }
    };
  }

  /* ---- the citizen turns alerts on (a tap unlocks sound and vibration) ---- */
  if (alerts) {
    $('alerts').hidden = !LIVE[state.status];
    $('alerts-on').onclick = function () {
      alerts.enable(function (notifies) {
        var el = $('alerts-state');
        el.textContent = notifies ? msgs.alerts_on : msgs.alerts_no_notice;
        el.hidden = false;
        $('alerts-on').hidden = true;
      });
    };
  }

  /* ---- rating form ---- */
  var form = $('rate-form');
  function chosen() {
    var r = null;
    each('#rate-form input[name=level]', function (el) { if (el.checked) { r = el; } });
    return r;
  }
  function markChoice() {
    var r = chosen();
    each('.lv', function (el) { el.className = el.className.replace(/\s*\bon\b/g, ''); });
    if (r) { r.parentNode.className += ' on'; }
    var low = !!r && r.getAttribute('data-low') === '1';
    $('reasons').className = low ? 'reasons open' : 'reasons';
  }
  each('#rate-form input[name=level]', function (el) { el.onchange = markChoice; el.onclick = markChoice; });
  markChoice();

  form.onsubmit = function (ev) {
    if (ev && ev.preventDefault) { ev.preventDefault(); }
    var r = chosen();
    if (!r) { showMsg(msgs.unknown_level); return false; }
    var reasons = [];
    if (r.getAttribute('data-low') === '1') {
      each('#rate-form input[name=reasons]', function (el) { if (el.checked) { reasons.push(el.value); } });
    }
    var btn = $('send');
    btn.disabled = true;
    send('POST', app.getAttribute('data-rate-api'), {
      ticket_code: app.getAttribute('data-code'), level: parseInt(r.value, 10), reasons: reasons,
      comment: $('comment').value, client_key: clientKey
    }, function (st, j) {
      btn.disabled = false;
      if (st === 200 || st === 201) { state.rated = true; showMsg(''); showRating(); return; }
      var code = st === 0 ? 'network' : (st === 429 ? 'too_many_requests' : (j && j.error && j.error.code));
      if (code === 'already_rated') { state.rated = true; showRating(); }
      showMsg(msgs[code] || (j && j.error && j.error.message) || msgs.error);
    });
    return false;
  };

  follow();
}());
