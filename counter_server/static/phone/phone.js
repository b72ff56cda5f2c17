/* motcua phone page: follow one ticket's public status and post its rating.
   Plain ES5 for old Android browsers; without it the page still works
   (meta refresh + HTML form). */
(function () {
  'use strict';
  var doc = document, app = doc.getElementById('app');
  if (!app || !doc.querySelectorAll) { return; }
  doc.documentElement.className += ' js';

  var LIVE = {waiting: 1, called: 1, serving: 1, no_show: 1};
  var state = {status: app.getAttribute('data-status'), rated: app.getAttribute('data-rated') === '1'};
  var period = (parseInt(app.getAttribute('data-poll'), 10) || 5) * 1000;
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

  function update(t) {
    var was = state.status;
    state.status = t.status;
    state.rated = !!t.rated;
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
    if (was !== t.status && t.status === 'called' && navigator.vibrate) {
      try { navigator.vibrate([400, 150, 400]); } catch (e) { /* not allowed before a tap */ }
    }
    showRating();
  }

  function poll() {
    send('GET', app.getAttribute('data-api'), null, function (st, t) {
      $('conn').hidden = st === 200 || st === 404;
      if (st === 200 && t) { update(t); }
      if (st !== 404) { schedule(); }
    });
  }

  function schedule() {
    /* Done and cancelled tickets no longer change: stop asking. */
    if (LIVE[state.status]) { window.setTimeout(poll, doc.hidden ? period * 3 : period); }
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

  schedule();
}());
