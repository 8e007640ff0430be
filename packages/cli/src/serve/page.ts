/**
 * The live viewer's page: one self-contained HTML document (its style and script inline, nothing
 * fetched from anywhere but the viewer's own API), served from memory.
 *
 * It draws the memory map on a <canvas> as the SVG renderer lays it out — the layout, colours and
 * outline styles come from `/api/info`, computed by the same functions — one cell per frame, or
 * per pageblock with slices in proportion to what its frames hold; free buddy blocks outlined.
 * It follows the state over Server-Sent Events and fetches the frames' bytes when they changed;
 * a click on a cell describes that frame. With `?snapshot` in its address it draws the state once
 * and follows nothing (for a screenshot).
 *
 * The script is plain ES2017 in a raw string (no template literals inside: the string is one).
 */

/** The page's HTML. */
export function viewerPage(): string {
  return PAGE;
}

const PAGE = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Folio — live memory map</title>
<style>
  :root { font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #222; }
  body { margin: 0; background: #fafafa; }
  header { padding: 10px 16px; background: #fff; border-bottom: 1px solid #ddd; }
  header h1 { font-size: 16px; margin: 0 0 2px 0; }
  header .sub { color: #555; }
  #banner { display: none; background: #fde2e2; color: #8a1f1f; padding: 6px 16px; border-bottom: 1px solid #e5b3b3; }
  main { display: flex; gap: 16px; padding: 16px; align-items: flex-start; }
  @media (max-width: 900px) { main { flex-wrap: wrap; } }
  #mapbox { flex: 0 1 auto; min-width: 0; background: #fff; border: 1px solid #ddd; padding: 8px; }
  #map { display: block; max-width: 100%; height: auto; image-rendering: pixelated; cursor: crosshair; }
  #hover { color: #555; min-height: 1.4em; margin-top: 6px; font-variant-numeric: tabular-nums; }
  aside { flex: 1 0 360px; display: flex; flex-direction: column; gap: 12px; }
  .card { background: #fff; border: 1px solid #ddd; padding: 8px 10px; }
  .card h2 { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: #666; margin: 0 0 6px 0; }
  button, select { font: inherit; padding: 3px 8px; }
  .row { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; margin-bottom: 6px; }
  #status { font-variant-numeric: tabular-nums; }
  #status .phase { font-weight: 600; }
  table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
  td { padding: 1px 4px; vertical-align: top; }
  td.n { text-align: right; white-space: nowrap; }
  tr.group td { padding-top: 6px; font-weight: 600; color: #444; }
  .swatch { display: inline-block; width: 12px; height: 12px; border: 1px solid #888; vertical-align: -2px; margin-right: 6px; }
  #legend div { white-space: nowrap; }
  #legend .zero { color: #aaa; }
  pre { margin: 0; white-space: pre-wrap; word-break: break-word; font: 12px/1.35 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
  #log { max-height: 180px; overflow: auto; }
  #result { color: #444; margin-top: 4px; }
  .muted { color: #777; }
</style>
</head>
<body>
<header>
  <h1>Folio — physical memory, live</h1>
  <div class="sub" id="machine">connecting…</div>
  <div class="sub" id="workload"></div>
</header>
<div id="banner">Disconnected: the viewer stopped (folio serve ended). Reload when it runs again.</div>
<main>
  <section id="mapbox">
    <canvas id="map" width="256" height="64" aria-label="memory map"></canvas>
    <div id="hover">Point at a cell to see its frame; click it to describe it.</div>
  </section>
  <aside>
    <div class="card">
      <h2>Run</h2>
      <div class="row">
        <button id="pause" title="space">Pause</button>
        <button id="step" title="s or →">Step</button>
        <button id="step100">Step ×100</button>
        <label>speed <select id="speed">
          <option value="10">10 ops/s</option>
          <option value="100">100 ops/s</option>
          <option value="500">500 ops/s</option>
          <option value="2000">2,000 ops/s</option>
          <option value="10000">10,000 ops/s</option>
          <option value="100000">100,000 ops/s</option>
          <option value="0">as fast as it runs</option>
        </select></label>
      </div>
      <div id="status">…</div>
    </div>
    <div class="card">
      <h2>Inject</h2>
      <div class="row">
        <select id="kind">
          <option value="compact">compact all memory now (compact_memory)</option>
          <option value="hard-offline">memory failure: hard-offline a frame</option>
          <option value="soft-offline">soft-offline a frame</option>
          <option value="unpoison">unpoison a frame</option>
          <option value="drop-caches">drop caches (sync; echo 3 &gt; drop_caches)</option>
          <option value="sync">sync</option>
        </select>
        <button id="inject">Inject</button>
      </div>
      <div class="muted" id="target"></div>
      <div id="result"></div>
    </div>
    <div class="card">
      <h2>Selected frame</h2>
      <pre id="describe" class="muted">Click a cell of the map.</pre>
    </div>
    <div class="card">
      <h2>Counters</h2>
      <table id="counters"></table>
    </div>
    <div class="card">
      <h2>Legend</h2>
      <div id="legend"></div>
    </div>
    <div class="card">
      <h2>Events</h2>
      <pre id="log"></pre>
    </div>
  </aside>
</main>
<script>
"use strict";
(function () {
  var info = null;
  var state = null;
  var frames = null;
  var drawnSeq = -1;
  var fetching = false;
  var again = false;
  var selected = -1;
  var lastDescribe = 0;
  var colors = [];
  var canvas = document.getElementById("map");
  var ctx = canvas.getContext("2d");
  var $ = function (id) { return document.getElementById(id); };

  function fmt(n) { return Math.round(n).toLocaleString("en-US"); }
  function mib(bytes) { return (bytes / 1048576).toFixed(1) + " MiB"; }
  function seconds(ns) { return (ns / 1e9).toFixed(3) + " s"; }
  function rgb(hex) { var n = parseInt(hex.slice(1), 16); return [(n >> 16) & 255, (n >> 8) & 255, n & 255]; }
  function post(path, body) {
    return fetch(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
      .then(function (r) { return r.json().then(function (v) { if (!r.ok) throw new Error(v.error || r.statusText); return v; }); });
  }

  fetch("/api/info").then(function (r) { return r.json(); }).then(init).catch(function (e) { $("machine").textContent = "cannot load the machine: " + e.message; });

  function init(i) {
    info = i;
    colors = info.categories.map(function (c) { return rgb(c.color); });
    var L = info.layout;
    canvas.width = L.columns * L.cellPx;
    canvas.height = L.rows * L.cellPx;
    $("machine").textContent = info.machine + " — " + fmt(info.frames) + " frames, " +
      (L.framesPerCell === 1 ? "one cell per 4 KiB frame" : "one cell per 2 MiB pageblock, slices in proportion") + ", " + L.columns + " cells per row";
    $("workload").textContent = info.workload ? "workload " + info.workload.name + " (" + info.workload.kind + "): " + info.workload.description : "no workload: the machine idles";
    buildCounters();
    connect();
  }

  function connect() {
    // ?snapshot: draw the state once and stop (a screenshot waits for no stream to end).
    if (/[?&]snapshot\b/.test(location.search)) {
      fetch("/api/state").then(function (r) { return r.json(); }).then(onState);
      return;
    }
    var es = new EventSource("/api/events");
    es.onmessage = function (e) { $("banner").style.display = "none"; onState(JSON.parse(e.data)); };
    es.onerror = function () { $("banner").style.display = "block"; };
  }

  function onState(s) {
    state = s;
    renderStatus();
    renderCounters();
    renderLegend();
    $("log").textContent = s.log.join("\n");
    $("log").scrollTop = $("log").scrollHeight;
    if (s.seq !== drawnSeq) loadFrames();
  }

  function loadFrames() {
    if (fetching) { again = true; return; }
    fetching = true;
    fetch("/api/frames").then(function (r) {
      var seq = Number(r.headers.get("x-folio-seq"));
      return r.arrayBuffer().then(function (b) { frames = new Uint8Array(b); drawnSeq = seq; draw(); });
    }).catch(function () {}).then(function () {
      fetching = false;
      if (again) { again = false; if (state && state.seq !== drawnSeq) loadFrames(); }
      if (selected >= 0 && performance.now() - lastDescribe > 500) describe(selected);
    });
  }

  // ── drawing ──────────────────────────────────────────────────────────────────────────────
  function draw() {
    var L = info.layout, px = L.cellPx, cols = L.columns;
    var img = ctx.createImageData(canvas.width, canvas.height), d = img.data, W = canvas.width;
    var x, y, i, c;
    function fill(x0, y0, w, h, col) {
      for (y = y0; y < y0 + h; y++) {
        i = (y * W + x0) * 4;
        for (x = 0; x < w; x++, i += 4) { d[i] = col[0]; d[i + 1] = col[1]; d[i + 2] = col[2]; d[i + 3] = 255; }
      }
    }
    if (L.framesPerCell === 1) {
      for (var pfn = 0; pfn < frames.length; pfn++) fill((pfn % cols) * px, Math.floor(pfn / cols) * px, px, px, colors[frames[pfn] & 15]);
    } else {
      var counts = new Uint32Array(colors.length);
      for (var cell = 0; cell < L.cells; cell++) {
        cellCounts(cell, counts);
        var total = 0;
        for (c = 0; c < counts.length; c++) total += counts[c];
        var x0 = (cell % cols) * px, y0 = Math.floor(cell / cols) * px, at = 0;
        for (c = 0; c < counts.length; c++) {
          if (counts[c] === 0) continue;
          // Every slice gets at least one column, as in the PNG: a few offline frames still show.
          var from = Math.min(px - 1, Math.floor(at)), to = Math.max(from + 1, Math.round(at + (counts[c] / total) * px));
          fill(x0 + from, y0, Math.min(px, to) - from, px, colors[c]);
          at += (counts[c] / total) * px;
        }
      }
    }
    ctx.putImageData(img, 0, 0);
    outlineFreeBlocks();
    if (selected >= 0) {
      var r = cellRect(selected);
      ctx.lineWidth = 2;
      ctx.strokeStyle = "#000";
      ctx.strokeRect(r.x - 1, r.y - 1, r.w + 2, r.h + 2);
      ctx.strokeStyle = "#fff";
      ctx.lineWidth = 1;
      ctx.strokeRect(r.x - 2.5, r.y - 2.5, r.w + 5, r.h + 5);
    }
  }

  function cellCounts(cell, counts) {
    counts.fill(0);
    var fpc = info.layout.framesPerCell, start = cell * fpc, end = Math.min(frames.length, start + fpc);
    for (var pfn = start; pfn < end; pfn++) counts[frames[pfn] & 15]++;
  }

  /** Free buddy blocks outlined as the SVG does: the darker and thicker, the higher the order. */
  function outlineFreeBlocks() {
    var L = info.layout, px = L.cellPx;
    for (var pfn = 0; pfn < frames.length; pfn++) {
      var b = frames[pfn] >> 4;
      if (b === 0) continue;
      var order = b - 1;
      var shown = L.framesPerCell === 1 ? order >= 1 && (1 << order) * px >= 6 : order >= 9;
      if (!shown) continue;
      var first = Math.floor(pfn / L.framesPerCell), size = Math.max(1, (1 << order) / L.framesPerCell);
      var col = first % L.columns, row = Math.floor(first / L.columns), cw = size, ch = 1;
      if (size > L.columns) { col = 0; cw = L.columns; ch = Math.ceil(size / L.columns); }
      var st = info.outlines[order], sw = st.width;
      ctx.lineWidth = sw;
      ctx.strokeStyle = "rgb(" + st.rgb.join(",") + ")";
      ctx.strokeRect(col * px + sw / 2, row * px + sw / 2, cw * px - sw, ch * px - sw);
    }
  }

  function cellRect(pfn) {
    var L = info.layout, cell = Math.floor(pfn / L.framesPerCell);
    return { x: (cell % L.columns) * L.cellPx, y: Math.floor(cell / L.columns) * L.cellPx, w: L.cellPx, h: L.cellPx };
  }

  /** The frame under a point of the canvas: the cell's, or in a pageblock cell the first frame of the slice's kind. */
  function frameAt(ev) {
    if (!frames) return -1;
    var L = info.layout, rect = canvas.getBoundingClientRect();
    var x = (ev.clientX - rect.left) * canvas.width / rect.width, y = (ev.clientY - rect.top) * canvas.height / rect.height;
    var col = Math.floor(x / L.cellPx), row = Math.floor(y / L.cellPx), cell = row * L.columns + col;
    if (col < 0 || col >= L.columns || row < 0 || cell >= L.cells) return -1;
    if (L.framesPerCell === 1) return cell < frames.length ? cell : -1;
    var counts = new Uint32Array(colors.length), total = 0, c;
    cellCounts(cell, counts);
    for (c = 0; c < counts.length; c++) total += counts[c];
    var at = (x - col * L.cellPx) / L.cellPx * total, want = -1;
    for (c = 0; c < counts.length; c++) { if (at < counts[c]) { want = c; break; } at -= counts[c]; }
    var start = cell * L.framesPerCell, end = Math.min(frames.length, start + L.framesPerCell);
    for (var pfn = start; pfn < end; pfn++) if ((frames[pfn] & 15) === want) return pfn;
    return start;
  }

  canvas.addEventListener("mousemove", function (ev) {
    var pfn = frameAt(ev);
    if (pfn < 0) { $("hover").textContent = ""; return; }
    var cat = info.categories[frames[pfn] & 15];
    var head = frames[pfn] >> 4 ? ", first frame of a free order-" + ((frames[pfn] >> 4) - 1) + " block" : "";
    var where = info.layout.framesPerCell === 1 ? "" : "pageblock " + (pfn >> 9) + ", ";
    $("hover").textContent = where + "pfn " + pfn + " (0x" + (pfn * 4096).toString(16) + "): " + cat.label + head;
  });
  canvas.addEventListener("click", function (ev) {
    var pfn = frameAt(ev);
    if (pfn < 0) return;
    selected = pfn;
    describe(pfn);
    renderTarget();
    draw();
  });

  function describe(pfn) {
    lastDescribe = performance.now();
    fetch("/api/describe?pfn=" + pfn).then(function (r) { return r.json(); }).then(function (v) {
      if (pfn !== selected) return;
      $("describe").classList.remove("muted");
      $("describe").textContent = v.error ? v.error : v.text;
    });
  }

  // ── status, counters, legend ─────────────────────────────────────────────────────────────
  function renderStatus() {
    var s = state;
    $("pause").textContent = s.paused ? "Resume" : "Pause";
    $("speed").value = String(s.speed);
    var phase = s.phase === "workload" ? (s.paused ? "paused" : "running") : s.phase === "idle" ? (s.paused ? "paused, workload done" : "idle: time passes") : "stopped by an error";
    var step = s.step ? "step " + s.step.step + (s.steps ? " of " + s.steps : "") + ": " + s.step.op + (s.step.target ? " " + s.step.target : "") : "not started";
    var el = $("status");
    el.textContent = "";
    var b = document.createElement("span");
    b.className = "phase";
    b.textContent = phase;
    el.appendChild(b);
    el.appendChild(document.createTextNode(" — " + step + " — " + fmt(s.ops) + " operations — virtual time " + seconds(s.virtualNs)));
    if (s.error) { el.appendChild(document.createElement("br")); el.appendChild(document.createTextNode(s.error)); }
  }

  function buildCounters() {
    var t = $("counters"), group = "";
    info.counters.forEach(function (c) {
      if (c.group !== group) {
        group = c.group;
        var g = t.insertRow();
        g.className = "group";
        var gc = g.insertCell();
        gc.colSpan = 2;
        gc.textContent = group;
      }
      var r = t.insertRow();
      r.insertCell().textContent = c.label;
      var v = r.insertCell();
      v.className = "n";
      v.id = "c-" + c.key;
    });
  }

  function renderCounters() {
    info.counters.forEach(function (c) {
      var v = state.counters[c.key] || 0;
      $("c-" + c.key).textContent = c.unit === "pages" ? fmt(v) + " pages, " + mib(v * 4096) : c.unit === "bytes" ? mib(v) : fmt(v);
    });
  }

  function renderLegend() {
    var el = $("legend");
    el.textContent = "";
    info.categories.forEach(function (c) {
      var n = state.categories[c.key] || 0;
      var row = document.createElement("div");
      if (n === 0) row.className = "zero";
      var sw = document.createElement("span");
      sw.className = "swatch";
      sw.style.background = c.color;
      row.appendChild(sw);
      row.appendChild(document.createTextNode(c.label + ": " + fmt(n) + " frames, " + mib(n * 4096) + ", " + (100 * n / info.frames).toFixed(1) + "%"));
      el.appendChild(row);
    });
    var key = document.createElement("div");
    key.className = "muted";
    key.textContent = info.layout.framesPerCell === 1 ? "outlined: a free buddy block of order 1 or more (the darker, the higher the order)" : "outlined: a free buddy block of a whole pageblock (order 9) or more";
    el.appendChild(key);
  }

  function renderTarget() {
    var kind = $("kind").value;
    var needs = kind === "hard-offline" || kind === "soft-offline" || kind === "unpoison";
    $("target").textContent = !needs ? "" : selected >= 0 ? "target: the selected frame, pfn " + selected : kind === "unpoison" ? "target: the first poisoned frame (click a cell to choose one)" : "target: a random frame in use (click a cell to choose one)";
  }

  // ── controls ────────────────────────────────────────────────────────────────────────────
  function act(body) { return post("/api/control", body).then(onState).catch(showError); }
  function showError(e) { $("result").textContent = "error: " + e.message; }
  function togglePause() { if (state) act({ action: state.paused ? "resume" : "pause" }); }
  $("pause").onclick = togglePause;
  $("step").onclick = function () { act({ action: "step", count: 1 }); };
  $("step100").onclick = function () { act({ action: "step", count: 100 }); };
  $("speed").onchange = function () { post("/api/speed", { speed: Number($("speed").value) }).then(onState).catch(showError); };
  $("kind").onchange = renderTarget;
  $("inject").onclick = function () {
    var kind = $("kind").value, body = { kind: kind };
    if (selected >= 0 && (kind === "hard-offline" || kind === "soft-offline" || kind === "unpoison")) body.pfn = selected;
    $("result").textContent = "…";
    post("/api/inject", body).then(function (v) { $("result").textContent = v.result; onState(v.state); }).catch(showError);
  };
  document.addEventListener("keydown", function (ev) {
    if (ev.target && (ev.target.tagName === "SELECT" || ev.target.tagName === "INPUT")) return;
    if (ev.key === " ") { ev.preventDefault(); togglePause(); }
    else if (ev.key === "s" || ev.key === "ArrowRight") act({ action: "step", count: 1 });
    else if (ev.key === "Escape") { selected = -1; renderTarget(); if (frames) draw(); }
  });
  renderTarget();
})();
</script>
</body>
</html>
`;
