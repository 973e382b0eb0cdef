// The pages' stylesheet and script, served from /static/ (the Content-Security-Policy allows no
// inline script or style). Kept as strings so the build needs no copy step.

/** Mobile first: one column that fits 375 px, long label values wrap instead of scrolling sideways. */
export const APP_CSS = `
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;background:#f6f7f9;overflow-wrap:anywhere;word-break:break-word}
main{max-width:60rem;margin:0 auto;padding:.75rem}
nav{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;padding:.5rem .75rem;background:#1b1f24;color:#fff}
nav a{color:#fff}
nav .who{flex:1 1 auto}
h1{font-size:1.4rem;margin:.5rem 0}
h2{font-size:1.15rem;margin:1.5rem 0 .5rem;border-bottom:1px solid #d0d4da}
h3{font-size:1rem;margin:.75rem 0 .25rem}
h4{font-size:.9rem;margin:.5rem 0 .25rem}
ul,ol{padding-left:1.2rem}
ul.incidents,ul.checklist,ul.alerts,ul.paging,ul.notes{list-style:none;padding:0}
li.incident{background:#fff;border-left:6px solid #999;margin:.5rem 0;padding:.5rem .75rem;border-radius:4px}
li.incident.sev-critical{border-left-color:#b00020}li.incident.sev-high{border-left-color:#e07000}li.incident.sev-medium{border-left-color:#b59a00}li.incident.sev-low{border-left-color:#3d7d1a}
.badge{display:inline-block;padding:0 .45rem;border-radius:3px;font-size:.85rem;font-weight:700;line-height:1.5}
.badge.sev-critical{background:#b00020;color:#fff}.badge.sev-high{background:#e07000;color:#1b1f24}.badge.sev-medium{background:#f2d600;color:#1b1f24}.badge.sev-low{background:#d8ecd0;color:#1b4d0c}
.number{color:#57606a;font-weight:600}
li.incident a{display:block;font-weight:600;text-decoration:none;color:inherit}
.meta,.muted,.by{color:#57606a;font-size:.9rem}
.sev-critical{border-color:#d0021b}.sev-high{border-color:#f5a623}.sev-medium{border-color:#c9b800}.sev-low{border-color:#5a9e1b}
header.sev-critical,header.sev-high,header.sev-medium,header.sev-low{border-left:6px solid;padding-left:.75rem;background:#fff}
.breached{color:#b00020;font-weight:700}
.kept{color:#2c6e2f}
.error{color:#b00020;font-weight:600}
.warn{color:#8a5300}
.status{font-weight:600}
form{margin:.25rem 0}
form.inline{display:inline-block;margin-right:.5rem}
form.stack{display:flex;flex-direction:column;gap:.35rem;max-width:40rem}
form.filters{display:flex;flex-wrap:wrap;gap:.35rem .75rem;align-items:center}
input,select,textarea,button{font:inherit;max-width:100%}
input:not([type=checkbox]),textarea,select{width:100%;padding:.45rem;border:1px solid #8c959f;border-radius:4px;background:#fff}
form.filters select{width:auto}
button{padding:.5rem 1rem;border:1px solid #57606a;border-radius:4px;background:#fff;min-height:44px;cursor:pointer}
button.primary{background:#0b57d0;color:#fff;border-color:#0b57d0}
button.small{min-height:32px;padding:.2rem .6rem;font-size:.85rem}
.actions{padding:.5rem 0;display:flex;flex-wrap:wrap;gap:.5rem;align-items:center}
.actions form.inline{margin:0}
li.step{background:#fff;margin:.35rem 0;padding:.4rem .6rem;border-radius:4px}
li.step.done{background:#eef8ee}
li.step.problem{background:#fff4e0}
.step-row{display:flex;align-items:flex-start;gap:.5rem}
.step-row input[type=checkbox]{width:1.4rem;height:1.4rem;flex:0 0 auto;margin:.1rem 0 0}
.step-row label{flex:1 1 auto}
details.section{margin:.5rem 0}
details.section>summary{cursor:pointer;padding:.5rem .25rem;font-weight:600;min-height:44px}
details.problem>summary{cursor:pointer;font-size:.9rem;color:#57606a;padding:.25rem 0}
.js .nojs{display:none}
a.link-button{display:inline-flex;align-items:center;padding:.5rem 1rem;border:1px solid #57606a;border-radius:4px;background:#fff;min-height:44px;color:inherit;text-decoration:none;vertical-align:top}
.report{background:#fff;padding:.5rem .75rem;border-radius:4px}
.report h2{font-size:1.2rem}
.table-scroll{overflow-x:auto;margin:.5rem 0}
.report table{border-collapse:collapse;font-size:.9rem;min-width:100%}
.report th,.report td{border:1px solid #d0d4da;padding:.25rem .4rem;text-align:left;vertical-align:top;overflow-wrap:normal;word-break:normal}
.report td{min-width:6rem}
dl.labels{display:grid;grid-template-columns:minmax(5rem,max-content) 1fr;gap:.1rem .75rem;margin:0;font-size:.9rem}
dl.labels dt{font-weight:600}
dl.labels dd{margin:0}
li.alert{background:#fff;padding:.5rem .75rem;margin:.5rem 0;border-radius:4px}
ol.timeline li,ul.paging li,ul.notes li{margin:.3rem 0}
code{font-size:.85rem}
.pages{margin:1rem 0;display:flex;gap:1rem}
ul.silences{list-style:none;padding:0}
li.silence{background:#fff;padding:.5rem .75rem;margin:.5rem 0;border-radius:4px;overflow-wrap:anywhere}
li.silence form{margin-top:.4rem}
.silence-form fieldset{border:1px solid #d0d7de;border-radius:4px;padding:.5rem .75rem;margin:0}
.silence-form .choice{display:flex;align-items:flex-start;gap:.5rem;margin:.35rem 0;overflow-wrap:anywhere}
.silence-form .choice input{width:1.3rem;height:1.3rem;flex:0 0 auto;margin-top:.1rem}
.silence-form select{width:100%}
.silence-buttons button{margin:.2rem .2rem .2rem 0}
.problem{background:#fff4e0;padding:.5rem .75rem;border-radius:4px}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
ul.rows{list-style:none;padding:0}
ul.rows li.row{display:flex;flex-wrap:wrap;justify-content:space-between;align-items:center;gap:.5rem;background:#fff;margin:.4rem 0;padding:.5rem .75rem;border-radius:4px}
.notice{background:#eef4ff;border:1px solid #0b57d0;border-radius:4px;padding:.25rem .75rem;margin:.5rem 0}
code.secret{display:block;padding:.5rem;background:#fff;border:1px dashed #57606a;user-select:all}
a.button{display:inline-block;padding:.6rem 1rem;border-radius:4px;background:#0b57d0;color:#fff;text-decoration:none;font-weight:600}
ol.timeline{list-style:none;padding-left:0}
nav.rotations{display:flex;flex-wrap:wrap;gap:.25rem 1rem;background:none;color:inherit;padding:0 0 .5rem}
nav.rotations a{color:#0b57d0}
p.now{font-size:1.1rem;background:#fff;padding:.6rem .75rem;border-radius:4px;border-left:6px solid #2c6e2f}
ul.shifts,ul.requests,ul.feeds{list-style:none;padding:0}
li.shift{background:#fff;margin:.4rem 0;padding:.5rem .75rem;border-radius:4px;border-left:6px solid #8c959f}
li.shift.override{border-left-color:#8a5300}
li.shift.mine{background:#f1f8ff}
.badge{display:inline-block;font-size:.8rem;background:#fff4e0;color:#6b4100;border-radius:3px;padding:0 .35rem;margin-left:.35rem}
.yours{color:#57606a;font-size:.85rem}
.shift-actions{display:flex;flex-wrap:wrap;gap:.25rem .5rem;margin-top:.35rem}
.shift-actions form{margin:0}
.shift-actions label{font-size:.85rem}
.shift-actions select{width:auto;max-width:100%;padding:.2rem}
code.feed-url{display:block;background:#fff;padding:.4rem;border:1px solid #d0d4da;border-radius:4px}
ol.log li{margin:.25rem 0}
ul.windows,ul.preview-alerts,ul.preview-incidents{list-style:none;padding:0}
li.window{background:#fff;margin:.4rem 0;padding:.5rem .75rem;border-radius:4px;border-left:6px solid #8c959f}
li.window.active{border-left-color:#0b57d0}
li.window .matchers code{display:inline-block;margin:.15rem .35rem .15rem 0}
li.window form{margin-top:.35rem}
.badge.public{background:#e6f0ff;color:#0b3d91}
.window-form .when{display:flex;flex-wrap:wrap;gap:.35rem 1rem}
.window-form .when>div{flex:1 1 14rem}
.window-form .choice{display:flex;align-items:flex-start;gap:.5rem}
.window-form .choice input{width:1.3rem;height:1.3rem;flex:0 0 auto;margin-top:.1rem}
.preview{background:#fff;padding:.5rem .75rem;border-radius:4px;margin:.75rem 0}
.preview li{margin:.25rem 0}
p.read-only{background:#f1f3f5;border-left:4px solid #57606a;padding:.4rem .6rem;margin:.25rem 0 .5rem;font-size:.9rem}
.step-state{font-weight:600;flex:0 0 auto}
p.review-text{white-space:pre-wrap;background:#fff;padding:.4rem .6rem;border-radius:4px;margin:.25rem 0}
/* /me: your numbers, rules, failed pages (views/me-contact.ts) */
.me-number>div{flex:1 1 100%}
.me-number ul{list-style:none;padding:0;margin:.25rem 0}
.me-number .ok{color:#2c6e2f;font-weight:600}
.me-code{margin:.5rem 0}
.me-code input{max-width:10rem;letter-spacing:.2em}
.me-add,.me-rules{margin-top:.75rem}
.me-uses,.me-severity{border:1px solid #d0d7de;border-radius:4px;padding:.5rem .75rem;margin:0 0 .75rem}
.me-uses legend,.me-severity legend{font-weight:600}
.me-uses .choice,.me-severity .choice{display:flex;align-items:center;gap:.5rem;margin:.35rem 0}
.me-uses .choice input,.me-severity .choice input{width:1.3rem;height:1.3rem;flex:0 0 auto}
.me-step{display:grid;grid-template-columns:3.5rem 1fr;gap:.25rem .5rem;align-items:center;margin:.35rem 0}
.me-step label{font-size:.85rem;color:#57606a}
@media (min-width:40rem){.me-step{grid-template-columns:3.5rem 1fr 2.5rem 6rem}}

`;

/**
 * Progressive enhancement only: the pages work without it. It ticks a step as soon as its box
 * changes, counts deadlines down, and keeps the page current: every few seconds it asks the
 * page's live URL for a version (read from the store, so a change made on another replica counts)
 * and, when it moved, fetches the page again and swaps the parts marked data-live.
 */
export const APP_JS = `
(function () {
  'use strict';
  function fmt(ms) {
    var s = Math.round(Math.abs(ms) / 1000), out;
    if (s < 60) out = s + 's';
    else if (s < 3600) out = Math.floor(s / 60) + 'm';
    else out = Math.floor(s / 3600) + 'h' + (Math.floor(s / 60) % 60 ? (Math.floor(s / 60) % 60) + 'm' : '');
    return ms >= 0 ? 'in ' + out : out + ' ago';
  }
  function tick() {
    var els = document.querySelectorAll('[data-deadline]');
    for (var i = 0; i < els.length; i++) {
      var left = Number(els[i].getAttribute('data-deadline')) - Date.now();
      if (left <= 0) { els[i].textContent = 'breached'; els[i].className = 'breached'; els[i].removeAttribute('data-deadline'); }
      else els[i].textContent = fmt(left);
    }
  }
  // A checklist box is sent alone as soon as it changes (the one step's form), so the whole
  // checklist's "Save checklist" button, which is for pages without this script, is hidden.
  document.documentElement.className += ' js';
  function field(form, name, value) {
    var input = document.createElement('input');
    input.type = 'hidden'; input.name = name; input.value = value;
    form.appendChild(input);
  }
  function sendStep(box) {
    var save = box.form, f = document.createElement('form');
    f.method = 'post'; f.action = save.getAttribute('data-step-action'); f.hidden = true;
    field(f, '_csrf', save.querySelector('input[name=_csrf]').value);
    field(f, 'step', box.getAttribute('data-step'));
    if (box.checked) field(f, 'done', 'on');
    document.body.appendChild(f);
    f.submit();
  }
  function bindAutosubmit(root) {
    var boxes = root.querySelectorAll('input[data-step]');
    for (var i = 0; i < boxes.length; i++) {
      boxes[i].addEventListener('change', function (ev) { sendStep(ev.target); });
    }
  }
  var liveUrl = document.body.getAttribute('data-live-url');
  // The version the page was rendered at: a change between the render and the first poll counts.
  var version = document.body.getAttribute('data-live-version'), busy = false;
  function refresh() {
    return fetch(location.href, { credentials: 'same-origin', headers: { accept: 'text/html' } })
      .then(function (r) { if (!r.ok || r.redirected) throw new Error('page ' + r.status); return r.text(); })
      .then(function (text) {
        var doc = new DOMParser().parseFromString(text, 'text/html');
        version = doc.body.getAttribute('data-live-version') || version;
        var parts = document.querySelectorAll('[data-live]');
        for (var i = 0; i < parts.length; i++) {
          var fresh = parts[i].id && doc.getElementById(parts[i].id);
          if (fresh && !parts[i].contains(document.activeElement)) { parts[i].replaceWith(fresh); bindAutosubmit(fresh); }
        }
        tick();
      });
  }
  function poll() {
    if (busy || document.hidden) return;
    busy = true;
    // The version this page has: an incident's live URL answers 304, no body, while it stands.
    fetch(liveUrl, { credentials: 'same-origin', headers: { accept: 'application/json', 'if-none-match': '"' + version + '"' } })
      .then(function (r) { if (r.status === 304) return null; if (!r.ok) throw new Error('live ' + r.status); return r.json(); })
      .then(function (body) {
        return body && body.version !== version ? refresh() : null;
      })
      .catch(function () {})
      .then(function () { busy = false; });
  }
  // Times shown in a rotation's zone get the browser's own beside them when its zone differs.
  function localTimes() {
    var els = document.querySelectorAll('time[data-zone]'), zone, f;
    if (!els.length) return;
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
      f = new Intl.DateTimeFormat('en-GB', { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    } catch (e) { return; }
    var differs = false;
    for (var i = 0; i < els.length; i++) {
      if (els[i].getAttribute('data-zone') === zone) continue;
      differs = true;
      var span = document.createElement('span');
      span.className = 'yours';
      span.textContent = ' (yours: ' + f.format(new Date(els[i].getAttribute('datetime'))).replace(',', '') + ')';
      els[i].after(span);
    }
    var note = document.getElementById('viewer-zone');
    if (note) note.textContent = differs ? 'Yours, in ' + zone + ', in brackets.' : 'Your browser is in that zone too.';
  }
  bindAutosubmit(document);
  localTimes();
  tick();
  setInterval(tick, 1000);
  if (liveUrl) { poll(); setInterval(poll, 2000); }
})();
`;

/**
 * /favicon.ico: a 32×32 red square with a white "!" (a PNG inside an ICO, 172 bytes), so that the
 * browser's own request for it is not a 404 in every log.
 */
export const FAVICON_ICO = Buffer.from(
  'AAABAAEAICAAAAEAIACWAAAAFgAAAIlQTkcNChoKAAAADUlIRFIAAAAgAAAAIAgGAAAAc3p69AAAAF1JREFUeNpjYMABNjAo/KcmZiAGUNtSkhxDL8uxOoLelmM4YmQ7gFzN6IBsR4w6YNQBow4YdcCoA0YdMGQdQLUqedQBo4lwwB1AbruQGg4YbZYPnq7ZoOicDlT3HABGSnPKJLtMvgAAAABJRU5ErkJggg==',
  'base64',
);
