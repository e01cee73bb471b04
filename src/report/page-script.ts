/**
 * The page's script, inline. It reads the one JSON script tag and draws everything from it:
 * lanes on a canvas (only the visible lanes and time range), the frame list virtualised (only
 * the rows in view exist), details built when opened. Plain ES2017, no libraries.
 */
export const PAGE_SCRIPT = String.raw`
(function () {
'use strict';
var D = JSON.parse(document.getElementById('arcp-data').textContent);
var NAMES = D.names;
function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; }
function link(text, fn) { var a = el('span', 'link', text); a.addEventListener('click', fn); return a; }
function ms(us) { return (us / 1000).toFixed(3) + ' ms'; }
var extra = document.getElementById('extra');
var api = { select: function () {} };

if (D.tape) renderTape(D.tape);
if (D.divergence) renderDivergence(D.divergence);
if (D.conform) renderConform(D.conform);
if (D.tree) renderTree(D.tree);
document.body.setAttribute('data-ready', '1');

function renderTape(T) {
  var F = T.frames, N = F.seq.length, L = T.lanes.length;
  var LANE_H = 18, AXIS_H = 18, ROW_H = 20;
  var sel = -1, filtered = null, matched = null, hay = null;
  var laneFrames = T.lanes.map(function () { return []; });
  for (var i = 0; i < N; i++) laneFrames[F.lane[i]].push(i);
  laneFrames.forEach(function (a) { a.sort(function (x, y) { return F.t[x] - F.t[y]; }); });
  var laneSse = T.lanes.map(function () { return []; });
  for (var k = 0; k < T.sse.length; k += 2) laneSse[T.sse[k]].push(T.sse[k + 1]);
  var tMax = N ? Math.max.apply(null, laneFrames.map(function (a) { return a.length ? F.t[a[a.length - 1]] : 0; })) : 0;
  var v0 = 0, v1 = Math.max(tMax, 1) * 1.02;

  function seqIndex(seq) { var lo = 0, hi = N - 1; while (lo <= hi) { var m = (lo + hi) >> 1; if (F.seq[m] === seq) return m; if (F.seq[m] < seq) lo = m + 1; else hi = m - 1; } return -1; }
  function laneLabel(l) { var x = T.lanes[l]; return x.label + (x.job !== undefined ? ' · job #' + x.job : ''); }

  // Header facts.
  document.getElementById('facts').textContent = [T.path, N + ' frames', L + ' lanes', T.jobs.length + ' jobs', T.fingerprint || 'unsealed', T.startedAt || ''].filter(Boolean).join(' · ');
  if (T.limits.textless || T.limits.clipped) document.getElementById('limits').textContent = 'To keep this file bounded: ' + T.limits.clipped + ' frames clipped to ' + T.limits.frameChars + ' characters, ' + T.limits.textless + ' frames without their text (budget ' + T.limits.budget + ' characters); arcp tape show ' + T.path + ' --frame N shows any frame whole.';

  // Timeline: a canvas over the visible lanes, labels for those lanes only.
  var box = document.getElementById('timeline'), inner = document.getElementById('tl-inner'), labels = document.getElementById('tl-labels'), canvas = document.getElementById('tl-canvas');
  box.setAttribute('data-lanes', String(L));
  box.setAttribute('data-frames', String(N));
  inner.style.height = (AXIS_H + L * LANE_H) + 'px';
  box.style.height = Math.min(AXIS_H + L * LANE_H + 6, Math.max(120, window.innerHeight * 0.42)) + 'px';
  var ctx = canvas.getContext('2d');
  function visibleLanes() { var top = box.scrollTop; var first = Math.max(0, Math.floor(top / LANE_H)); var count = Math.ceil(box.clientHeight / LANE_H) + 1; return [first, Math.min(L, first + count)]; }
  function drawLabels() {
    var r = visibleLanes(); labels.textContent = '';
    for (var l = r[0]; l < r[1]; l++) {
      var d = el('div', 'lane ' + T.lanes[l].kind + (T.lanes[l].job !== undefined ? ' nested' : ''), laneLabel(l) + ' (' + T.lanes[l].frames + ')');
      d.style.top = (AXIS_H + l * LANE_H) + 'px'; d.title = laneLabel(l); d.setAttribute('data-lane', String(l)); labels.appendChild(d);
    }
  }
  function xOf(t, W) { return ((t - v0) / (v1 - v0)) * W; }
  function firstAtOrAfter(a, t) { var lo = 0, hi = a.length; while (lo < hi) { var m = (lo + hi) >> 1; if (F.t[a[m]] < t) lo = m + 1; else hi = m; } return lo; }
  function draw() {
    var W = Math.max(100, box.clientWidth - 220), H = box.clientHeight, dpr = window.devicePixelRatio || 1;
    canvas.style.top = box.scrollTop + 'px'; canvas.style.position = 'absolute'; canvas.style.left = '0px';
    canvas.width = W * dpr; canvas.height = H * dpr; canvas.style.width = W + 'px'; canvas.style.height = H + 'px';
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0); ctx.clearRect(0, 0, W, H);
    var r = visibleLanes(), top = box.scrollTop;
    for (var l = r[0]; l < r[1]; l++) {
      var y = AXIS_H + l * LANE_H - top;
      if (l % 2) { ctx.fillStyle = '#f7f8fa'; ctx.fillRect(0, y, W, LANE_H); }
      var a = laneFrames[l];
      for (var j = firstAtOrAfter(a, v0); j < a.length && F.t[a[j]] <= v1; j++) {
        var i = a[j]; var x = xOf(F.t[i], W);
        ctx.fillStyle = matched && !matched[i] ? '#d9dde3' : (F.dir[i] === 0 ? '#1f5fa8' : F.dir[i] === 1 ? '#1d7a3a' : '#888');
        ctx.fillRect(x, y + 3, 2, LANE_H - 8);
      }
      var s = laneSse[l]; ctx.fillStyle = '#e08a00';
      for (var q = 0; q < s.length; q++) if (s[q] >= v0 && s[q] <= v1) ctx.fillRect(xOf(s[q], W), y + LANE_H - 5, 1, 4);
    }
    if (sel >= 0) { var sy = AXIS_H + F.lane[sel] * LANE_H - top; ctx.fillStyle = '#b3261e'; ctx.fillRect(xOf(F.t[sel], W) - 1, sy, 4, LANE_H); }
    ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, W, AXIS_H); ctx.fillStyle = '#555'; ctx.font = '10px sans-serif';
    for (var g = 0; g <= 5; g++) { var tt = v0 + (g / 5) * (v1 - v0); var gx = (g / 5) * (W - 60); ctx.fillText(ms(tt), gx + 2, 12); ctx.fillRect(gx, 13, 1, 5); }
  }
  function redraw() { drawLabels(); draw(); }
  box.addEventListener('scroll', redraw);
  window.addEventListener('resize', function () { redraw(); renderRows(); });
  function zoom(f, at) { var c = at === undefined ? (v0 + v1) / 2 : at; v0 = c - (c - v0) * f; v1 = c + (v1 - c) * f; if (v0 < 0) { v1 -= v0; v0 = 0; } draw(); }
  document.getElementById('zoom-in').addEventListener('click', function () { zoom(0.5); });
  document.getElementById('zoom-out').addEventListener('click', function () { zoom(2); });
  document.getElementById('zoom-reset').addEventListener('click', function () { v0 = 0; v1 = Math.max(tMax, 1) * 1.02; draw(); });
  var drag = null;
  canvas.addEventListener('mousedown', function (e) { drag = { x: e.clientX, v0: v0, v1: v1, moved: false }; });
  window.addEventListener('mousemove', function (e) { if (!drag) return; var dx = e.clientX - drag.x; if (Math.abs(dx) > 3) drag.moved = true; if (!drag.moved) return; var W = canvas.clientWidth; var dt = (dx / W) * (drag.v1 - drag.v0); v0 = drag.v0 - dt; v1 = drag.v1 - dt; draw(); });
  window.addEventListener('mouseup', function (e) {
    if (!drag) return; var wasDrag = drag.moved; drag = null; if (wasDrag) return;
    var rect = canvas.getBoundingClientRect(); var x = e.clientX - rect.left, y = e.clientY - rect.top;
    if (x < 0 || y < AXIS_H || x > rect.width || y > rect.height) return;
    var l = Math.floor((y - AXIS_H + box.scrollTop) / LANE_H); if (l < 0 || l >= L) return;
    var W = canvas.clientWidth, t = v0 + (x / W) * (v1 - v0), a = laneFrames[l]; if (!a.length) return;
    var j = firstAtOrAfter(a, t), best = -1, bd = 1e18;
    [j - 1, j].forEach(function (c) { if (c >= 0 && c < a.length) { var d = Math.abs(F.t[a[c]] - t); if (d < bd) { bd = d; best = a[c]; } } });
    if (best >= 0 && Math.abs(xOf(F.t[best], W) - x) <= 8) select(best, true);
  });
  canvas.addEventListener('wheel', function (e) { if (!e.ctrlKey && !e.metaKey) return; e.preventDefault(); var W = canvas.clientWidth; zoom(e.deltaY > 0 ? 1.25 : 0.8, v0 + (e.offsetX / W) * (v1 - v0)); }, { passive: false });

  // The frame list: only the rows in view are in the DOM.
  var list = document.getElementById('frames'), spacer = document.getElementById('frames-spacer'), count = document.getElementById('match-count');
  function rowCount() { return filtered ? filtered.length : N; }
  function rowAt(p) { return filtered ? filtered[p] : p; }
  function renderRows() {
    spacer.style.height = (rowCount() * ROW_H) + 'px';
    var first = Math.max(0, Math.floor(list.scrollTop / ROW_H) - 5), last = Math.min(rowCount(), first + Math.ceil(list.clientHeight / ROW_H) + 10);
    var old = list.querySelectorAll('.frow'); for (var o = 0; o < old.length; o++) old[o].remove();
    for (var p = first; p < last; p++) {
      var i = rowAt(p), row = el('div', 'frow' + (i === sel ? ' sel' : ''));
      row.style.top = (p * ROW_H) + 'px'; row.setAttribute('data-seq', String(F.seq[i])); row.setAttribute('data-i', String(i));
      row.appendChild(el('span', 'd' + F.dir[i], F.dir[i] === 0 ? '→ ' : F.dir[i] === 1 ? '← ' : '· '));
      row.appendChild(document.createTextNode('#' + F.seq[i] + '  ' + ms(F.t[i]) + '  ' + laneLabel(F.lane[i]) + '  ' + F.summary[i]));
      list.appendChild(row);
    }
    count.textContent = filtered ? filtered.length + ' of ' + N + ' frames match' : N + ' frames';
    count.setAttribute('data-count', String(rowCount()));
  }
  list.addEventListener('scroll', renderRows);
  list.addEventListener('click', function (e) { var r = e.target.closest('.frow'); if (r) select(Number(r.getAttribute('data-i')), false); });

  // Search: over each frame's summary, seq and embedded text.
  var search = document.getElementById('search'), timer = 0;
  search.addEventListener('input', function () { clearTimeout(timer); timer = setTimeout(applySearch, 120); });
  function applySearch() {
    var q = search.value.trim().toLowerCase();
    if (!q) { filtered = null; matched = null; }
    else {
      if (!hay) { hay = new Array(N); for (var i = 0; i < N; i++) hay[i] = ('#' + F.seq[i] + ' ' + F.summary[i] + ' ' + laneLabel(F.lane[i]) + '\n' + (F.text[i] || '')).toLowerCase(); }
      filtered = []; matched = new Uint8Array(N);
      for (var j = 0; j < N; j++) if (hay[j].indexOf(q) >= 0) { filtered.push(j); matched[j] = 1; }
    }
    list.scrollTop = 0; renderRows(); draw();
  }

  // The selected frame's bytes: pretty JSON when they are whole JSON, else as they are.
  var detail = document.getElementById('detail'), enc = new TextEncoder();
  function flagNames(f) { return NAMES.flags.filter(function (n, b) { return f & (1 << b); }); }
  function select(i, scroll) {
    sel = i; detail.textContent = '';
    detail.appendChild(el('div', 'frame-head', '#' + F.seq[i] + ' · ' + NAMES.kinds[F.kind[i]] + ' · ' + NAMES.dirs[F.dir[i]] + ' · ' + laneLabel(F.lane[i]) + ' · ' + F.size[i] + ' bytes · +' + ms(F.t[i])));
    var fl = flagNames(F.flags[i]); if (fl.length) detail.appendChild(el('div', 'note', 'flags: ' + fl.join(', ')));
    detail.appendChild(el('div', '', F.summary[i]));
    var text = F.text[i], show = 'arcp tape show ' + T.path + ' --frame ' + F.seq[i];
    var pre = el('pre', 'frame-bytes'); pre.id = 'frame-bytes';
    if (text === null) { pre.textContent = '(not embedded: the page budget was spent)'; detail.appendChild(pre); detail.appendChild(el('div', 'note', 'its bytes: ' + show)); }
    else {
      var whole = enc.encode(text).length >= F.size[i] || text.indexOf('(binary, ') === 0, out = text;
      if (whole) { try { out = JSON.stringify(JSON.parse(text), null, 2); } catch (e) { out = text; } }
      pre.textContent = out; detail.appendChild(pre);
      if (!whole) detail.appendChild(el('div', 'note', 'the first ' + text.length + ' characters of ' + F.size[i] + ' bytes; all of it: ' + show));
    }
    if (scroll && filtered === null) { var top = i * ROW_H; if (top < list.scrollTop || top > list.scrollTop + list.clientHeight - ROW_H) list.scrollTop = Math.max(0, top - 3 * ROW_H); }
    if (F.t[i] < v0 || F.t[i] > v1) { var w = v1 - v0; v0 = Math.max(0, F.t[i] - w / 2); v1 = v0 + w; }
    var lt = AXIS_H + F.lane[i] * LANE_H; if (lt < box.scrollTop || lt > box.scrollTop + box.clientHeight - LANE_H) box.scrollTop = Math.max(0, lt - 2 * LANE_H);
    renderRows(); redraw();
  }
  function selectSeq(seq) { var i = seqIndex(seq); if (i >= 0) select(i, true); }
  api.select = selectSeq;
  function seqLink(seq, label) { return link(label || ('#' + seq), function () { selectSeq(seq); }); }

  // Jobs, their LLM calls and events, and their records with evidence links; built when opened.
  var jobsBox = document.getElementById('jobs'), shown = 0, PAGE = 200;
  function recordEl(r) {
    var d = el('div', 'rec' + (r.status === 'error' ? ' error' : ''));
    d.appendChild(el('div', '', r.kind + ' · ' + r.action + ' · ' + r.status + ' · ' + r.durationMs + ' ms'));
    if (r.error) d.appendChild(el('div', 'bad', r.error));
    var ev = el('div', 'note', 'evidence: ');
    var seen = {};
    r.evidence.forEach(function (x) { var key = x[0] + x[1]; if (seen[key]) return; seen[key] = 1; ev.appendChild(document.createTextNode(' ' + x[0] + ' ')); ev.appendChild(seqLink(x[1])); });
    d.appendChild(ev);
    if (r.event !== null) { var det = el('details'); det.appendChild(el('summary', 'note', 'the ExecutionEvent')); var p = el('pre', 'pre'); try { p.textContent = JSON.stringify(JSON.parse(r.event), null, 2); } catch (e) { p.textContent = r.event + ' …'; } det.appendChild(p); d.appendChild(det); }
    return d;
  }
  function fillJob(j, body) {
    var facts = el('div', 'sub');
    [['submitted', j.submitSeq], ['accepted', j.acceptedSeq], ['ended', j.terminalSeq]].forEach(function (x) { if (x[1] !== undefined) { facts.appendChild(document.createTextNode(x[0] + ' ')); facts.appendChild(seqLink(x[1])); facts.appendChild(document.createTextNode('  ')); } });
    if (j.parent) facts.appendChild(el('div', 'note', 'delegated by ' + j.parent));
    if (j.error) facts.appendChild(el('div', 'bad', j.error));
    body.appendChild(facts);
    var calls = el('div', 'sub calls'); calls.appendChild(el('h3', '', 'LLM calls (' + j.calls.length + ')'));
    j.calls.forEach(function (c) { var line = el('div', 'call'); line.appendChild(seqLink(c.firstSeq, c.method + ' ' + c.path)); line.appendChild(document.createTextNode(' → ' + (c.status === undefined ? 'no response' : c.status) + (c.sse ? ' · ' + c.sse + ' SSE events' : '') + ' · lane ' + laneLabel(c.lane) + (c.linkedBy ? ' (linked by ' + c.linkedBy + ')' : ''))); calls.appendChild(line); });
    body.appendChild(calls);
    var evs = el('div', 'sub events'); evs.appendChild(el('h3', '', 'events (' + j.eventCount + ')'));
    j.events.forEach(function (e) { var line = el('div', 'event'); line.appendChild(seqLink(e[0])); line.appendChild(document.createTextNode(' ' + e[1] + ' ' + e[2])); evs.appendChild(line); });
    if (j.eventCount > j.events.length) evs.appendChild(el('div', 'note', (j.eventCount - j.events.length) + ' more in the frame list'));
    body.appendChild(evs);
    var recs = el('div', 'sub records'); recs.appendChild(el('h3', '', 'records (' + j.records.length + ')'));
    j.records.forEach(function (r) { recs.appendChild(recordEl(r)); });
    body.appendChild(recs);
  }
  function more() {
    var end = Math.min(T.jobs.length, shown + PAGE);
    for (; shown < end; shown++) (function (j) {
      var d = el('details', 'job'); d.setAttribute('data-job', j.id);
      var s = el('summary'); s.appendChild(document.createTextNode('#' + j.n + ' ' + (j.agent || '?') + ' ')); s.appendChild(el('span', j.status === 'success' ? 'ok' : j.status ? 'bad' : 'note', j.status || 'no end')); s.appendChild(el('span', 'note', ' ' + j.id + ' · ' + j.calls.length + ' LLM calls · ' + j.records.length + ' records'));
      d.appendChild(s); var body = el('div'); d.appendChild(body); var filled = false;
      d.addEventListener('toggle', function () { if (d.open && !filled) { filled = true; fillJob(j, body); } });
      jobsBox.insertBefore(d, moreBtn);
    })(T.jobs[shown]);
    moreBtn.style.display = shown < T.jobs.length ? '' : 'none';
    moreBtn.textContent = 'show more jobs (' + (T.jobs.length - shown) + ' left)';
  }
  var moreBtn = el('button', '', ''); jobsBox.appendChild(moreBtn); moreBtn.addEventListener('click', more);
  if (!T.jobs.length) jobsBox.insertBefore(el('div', 'note', 'no jobs on this tape'), moreBtn);
  more();
  if (T.unowned.length) { var u = el('div', 'sub'); u.appendChild(el('h3', '', 'records no job can be named for (' + T.unowned.length + ')')); T.unowned.forEach(function (r) { u.appendChild(recordEl(r)); }); jobsBox.appendChild(u); }
  if (T.recordsError) jobsBox.appendChild(el('div', 'bad', 'records could not be derived: ' + T.recordsError));

  redraw(); renderRows();
}

function renderDivergence(V) {
  var s = el('section', 'divergence'); s.id = 'divergence';
  s.appendChild(el('h2', '', V.ok ? 'Replay matched the tape' : 'First divergence'));
  var b = el('div', 'sub');
  b.appendChild(el('div', V.ok ? 'ok' : 'bad', V.headline));
  if (V.seq !== undefined) { var p = el('div'); p.appendChild(document.createTextNode('at recorded frame ')); p.appendChild(link('#' + V.seq, function () { api.select(V.seq); })); if (V.path) p.appendChild(document.createTextNode(', at ' + V.path)); b.appendChild(p); }
  if (V.reason) b.appendChild(el('div', '', V.reason));
  s.appendChild(b);
  if (!V.ok) {
    var side = el('div', 'side');
    [['expected (the tape)', V.expected, 'expected'], ['actual (live)', V.actual, 'actual']].forEach(function (x) { var c = el('div'); c.appendChild(el('h2', '', x[0])); var pre = el('pre', 'pre'); pre.id = x[2]; pre.textContent = x[1] === null ? '(nothing)' : pretty(x[1]); c.appendChild(pre); side.appendChild(c); });
    s.appendChild(side);
  }
  var det = el('details', 'sub'); det.appendChild(el('summary', 'note', 'the whole replay report')); var pre2 = el('pre', 'pre'); pre2.textContent = pretty(V.outcome); det.appendChild(pre2); s.appendChild(det);
  extra.appendChild(s);
  if (V.seq !== undefined) api.select(V.seq);
}

function renderConform(C) {
  var s = el('section', 'conform'); s.id = 'conform';
  s.appendChild(el('h2', '', 'Conformance: ' + C.summary));
  C.sections.forEach(function (sec) {
    var t = el('table'); var cap = el('caption', '', '§' + sec.section + ' ' + sec.title); cap.style.textAlign = 'left'; cap.style.fontWeight = '600'; cap.style.padding = '6px'; t.appendChild(cap);
    sec.results.forEach(function (r) {
      var tr = el('tr', 'result ' + r.verdict); tr.setAttribute('data-verdict', r.verdict);
      tr.appendChild(el('td', r.verdict === 'pass' ? 'ok' : r.verdict === 'fail' ? 'bad' : 'note', r.verdict));
      tr.appendChild(el('td', '', r.id)); var td = el('td', '', r.title);
      if (r.detail) td.appendChild(el('div', 'bad', r.detail));
      if (r.tape) td.appendChild(el('div', 'note', 'exchange: ' + r.tape + (r.seqs.length ? ' frames ' + r.seqs.join(', ') : '') + ' (arcp report ' + r.tape + ')'));
      tr.appendChild(td); t.appendChild(tr);
    });
    s.appendChild(t);
  });
  extra.appendChild(s);
}

function renderTree(R) {
  var s = el('section', 'tree'); s.id = 'tree';
  s.appendChild(el('h2', '', 'Fork family (' + R.nodes.length + ' tapes)'));
  R.nodes.forEach(function (n) { var d = el('details', 'node'); d.style.marginLeft = (n.depth * 18 + 8) + 'px'; d.appendChild(el('summary', '', n.line)); var p = el('pre', 'pre'); p.textContent = n.detail; d.appendChild(p); s.appendChild(d); });
  extra.appendChild(s);
}

function pretty(text) { try { return JSON.stringify(JSON.parse(text), null, 2); } catch (e) { return text; } }
})();
`;
