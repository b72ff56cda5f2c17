/* motcua phone page alerts for "your turn is near" and "you are called": a sound
   made here with Web Audio (no file, no CDN: works on the office LAN without
   internet), vibration and a notification.  Plain ES5; each part is optional
   and quietly left out where the phone lacks it or refuses it (browsers play
   sound and vibrate only after a tap on the page; notifications need the
   citizen's permission and an https or localhost address). */
(function () {
  'use strict';
  var AC = window.AudioContext || window.webkitAudioContext;
  var audio = null;
  var originalTitle = document.title;

  /* tunes: [frequency Hz, start s, length s]; buzz: vibration pattern ms */
  var TUNES = {
    test: [[660, 0, 0.12]],
    near: [[660, 0, 0.2], [880, 0.3, 0.3]],
    called: [[880, 0, 0.3], [660, 0.4, 0.3], [880, 0.8, 0.6]]
  };
  var BUZZ = {test: [60], near: [250, 120, 250], called: [500, 150, 500, 150, 500]};

  function context() {
    if (!AC) { return null; }
    if (!audio) {
      try { audio = new AC(); } catch (e) { return null; }
    }
    if (audio.state === 'suspended' && audio.resume) {
      try { audio.resume(); } catch (e) { /* stays silent until a tap */ }
    }
    return audio;
  }

  function ring(kind) {
    var ctx = context();
    if (!ctx) { return; }
    var now = ctx.currentTime, tune = TUNES[kind];
    for (var i = 0; i < tune.length; i++) {
      var osc = ctx.createOscillator(), gain = ctx.createGain();
      var t0 = now + tune[i][1], t1 = t0 + tune[i][2];
      osc.type = 'sine';
      osc.frequency.value = tune[i][0];
      gain.gain.setValueAtTime(0.0001, t0);
      gain.gain.exponentialRampToValueAtTime(0.7, t0 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t1);
      osc.connect(gain);
      gain.connect(ctx.destination);
      osc.start(t0);
      osc.stop(t1 + 0.05);
    }
  }

  function buzz(kind) {
    if (!navigator.vibrate) { return; }
    try { navigator.vibrate(BUZZ[kind]); } catch (e) { /* refused before a tap */ }
  }

  function canNotify() {
    return !!window.Notification && window.Notification.permission === 'granted';
  }

  function notify(kind, title, body) {
    if (!canNotify()) { return; }
    try {
      /* eslint-disable-next-line no-new */
      new window.Notification(title, {body: body, tag: 'motcua-' + kind,
                                      requireInteraction: kind === 'called'});
    } catch (e) { /* e.g. Android Chrome without a service worker: sound and vibration remain */ }
  }

  /* On the citizen's tap: unlock sound and vibration, ask for notifications;
     done(true) when notifications will show. */
  function enable(done) {
    ring('test');
    buzz('test');
    var N = window.Notification;
    if (!N || !N.requestPermission) { done(false); return; }
    if (N.permission !== 'default') { done(canNotify()); return; }
    var answered = false;
    function after() {
      if (!answered) { answered = true; done(canNotify()); }
    }
    try {
      var asked = N.requestPermission(after);  // old browsers: callback; new: promise
      if (asked && asked.then) { asked.then(after, after); }
    } catch (e) { after(); }
  }

  function fire(kind, title, body) {
    ring(kind);
    buzz(kind);
    notify(kind, title, body);
    document.title = title + ' – ' + originalTitle;
  }

  window.motcuaAlerts = {
    enable: enable,
    fire: fire,
    quiet: function () { document.title = originalTitle; }
  };
}());
