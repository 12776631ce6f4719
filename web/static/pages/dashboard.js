// Dashboard: messages per time bucket by status (an SVG chart with a table
// fallback), what is failing, outbound deliveries and the queues, from
// GET /stats?hours=N, refreshed every 15 s.
import { h, api, can, clear, badge, fmtTime } from "../app.js";

const STATUSES = ["SUCCESS", "FAILED", "UNMATCHED", "PENDING"];
const COLORS = { SUCCESS: "#2e9e5b", FAILED: "#d0392e", UNMATCHED: "#d39a00", PENDING: "#7d8bb0" };
const HOURS = [1, 6, 24, 48];
const REFRESH_MS = 15000;
const SVG = "http://www.w3.org/2000/svg";

let uid = 0;

// s("rect", {x: 1}, ...children): an SVG element.
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  for (const c of children) if (c !== undefined && c !== null) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

const pad = (n) => String(n).padStart(2, "0");
function clock(d) {
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
function dayClock(d) {
  return `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clock(d)}`;
}
function bucketName(seconds) {
  if (seconds % 3600 === 0) return `${seconds / 3600}-hour`;
  return `${Math.round(seconds / 60)}-minute`;
}
function sum(counts) {
  return STATUSES.reduce((n, st) => n + ((counts && counts[st]) || 0), 0);
}

// A rounded-up axis maximum and its ticks.
function niceScale(max) {
  if (max <= 4) return { top: Math.max(1, max), ticks: Array.from({ length: Math.max(1, max) + 1 }, (_, i) => i) };
  const rough = max / 4;
  const mag = Math.pow(10, Math.floor(Math.log10(rough)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((x) => x >= rough);
  const top = Math.ceil(max / step) * step;
  const ticks = [];
  for (let v = 0; v <= top + 1e-9; v += step) ticks.push(Math.round(v * 100) / 100);
  return { top, ticks };
}

function drawChart(stats, width) {
  const series = stats.series || [];
  const H = 240;
  const W = Math.max(280, Math.round(width));
  const m = { top: 12, right: 12, bottom: 28, left: 40 };
  const iw = W - m.left - m.right;
  const ih = H - m.top - m.bottom;
  const max = Math.max(0, ...series.map((b) => sum(b.counts)));
  const { top, ticks } = niceScale(max);
  const n = Math.max(1, series.length);
  const slot = iw / n;
  const barW = Math.max(1, slot * (n > 60 ? 0.9 : 0.75));
  const y = (v) => m.top + ih - (v / top) * ih;

  const titleId = `dm-chart-title-${++uid}`;
  const descId = `dm-chart-desc-${uid}`;
  const totals = STATUSES.map((st) => `${(stats.totals && stats.totals[st]) || 0} ${st.toLowerCase()}`).join(", ");
  const title = `Messages per ${bucketName(stats.bucket_seconds)} bucket by status, ${fmtTime(stats.from)} to ${fmtTime(stats.to)}`;
  const svg = s(
    "svg",
    { class: "dm-chart", viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img", "aria-labelledby": `${titleId} ${descId}` },
    s("title", { id: titleId }, title),
    s("desc", { id: descId }, `Totals: ${totals}. Peak ${max} in one bucket. The table view lists every bucket.`),
  );

  // Grid and y labels.
  for (const t of ticks) {
    svg.append(
      s("line", { x1: m.left, x2: W - m.right, y1: y(t), y2: y(t), class: "dm-grid" }),
      s("text", { x: m.left - 6, y: y(t) + 4, "text-anchor": "end", class: "dm-axis" }, t),
    );
  }

  // Bars, stacked SUCCESS at the bottom.
  const multiDay = stats.bucket_seconds * n > 20 * 3600;
  series.forEach((b, i) => {
    const x = m.left + i * slot + (slot - barW) / 2;
    const total = sum(b.counts);
    const g = s("g", { class: "dm-bar" });
    const when = new Date(b.t);
    const end = new Date(when.getTime() + stats.bucket_seconds * 1000);
    g.append(
      s(
        "title",
        null,
        `${multiDay ? dayClock(when) : clock(when)}–${clock(end)}: ${total} message${total === 1 ? "" : "s"}` +
          STATUSES.filter((st) => b.counts && b.counts[st]).map((st) => `, ${b.counts[st]} ${st.toLowerCase()}`).join(""),
      ),
    );
    // An invisible full-height target so small bars still show their title.
    g.append(s("rect", { x: m.left + i * slot, y: m.top, width: slot, height: ih, fill: "transparent" }));
    let acc = 0;
    for (const st of STATUSES) {
      const v = (b.counts && b.counts[st]) || 0;
      if (!v) continue;
      const y0 = y(acc);
      const y1 = y(acc + v);
      g.append(s("rect", { x, y: y1, width: barW, height: Math.max(1, y0 - y1), fill: COLORS[st] }));
      acc += v;
    }
    svg.append(g);
  });

  // Baseline and time labels on round local times, about one per 100 px.
  svg.append(s("line", { x1: m.left, x2: W - m.right, y1: y(0), y2: y(0), class: "dm-baseline" }));
  const from = new Date(stats.from).getTime();
  const span = Math.max(1, stats.bucket_seconds * n * 1000);
  const maxLabels = Math.max(2, Math.floor(iw / 100));
  const MIN = 60000;
  const step = [5, 10, 15, 30, 60, 120, 180, 360, 720, 1440].map((x) => x * MIN).find((x) => span / x <= maxLabels) || 1440 * MIN;
  const tz = new Date(from).getTimezoneOffset() * MIN; // round in local time
  for (let t = Math.ceil((from - tz) / step) * step + tz; t <= from + span; t += step) {
    const x = m.left + ((t - from) / span) * iw;
    const d = new Date(t);
    const label = multiDay && d.getHours() === 0 && d.getMinutes() === 0 ? dayClock(d).slice(0, 5) : clock(d);
    const anchor = x - m.left < 20 ? "start" : W - m.right - x < 20 ? "end" : "middle";
    svg.append(
      s("line", { x1: x, x2: x, y1: y(0), y2: y(0) + 4, class: "dm-baseline" }),
      s("text", { x, y: H - 8, "text-anchor": anchor, class: "dm-axis" }, label),
    );
  }
  return svg;
}

function legend() {
  return h(
    "ul.dm-legend",
    { "aria-label": "Legend" },
    STATUSES.map((st) => h("li", h("span.dm-swatch", { style: `background:${COLORS[st]}`, "aria-hidden": "true" }), st)),
  );
}

function dataTable(stats) {
  const multiDay = stats.bucket_seconds * (stats.series || []).length > 20 * 3600;
  const rows = (stats.series || []).filter((b) => sum(b.counts) > 0);
  if (!rows.length) return h("p.muted", "No messages in this period.");
  return h(
    "div.table-wrap",
    h(
      "table",
      h("caption.dm-sr", "Messages per bucket by status (buckets without messages left out)"),
      h("thead", h("tr", h("th", { scope: "col" }, "Bucket starts"), STATUSES.map((st) => h("th.dm-num", { scope: "col" }, st)), h("th.dm-num", { scope: "col" }, "Total"))),
      h(
        "tbody",
        rows.map((b) =>
          h(
            "tr",
            h("th", { scope: "row", "data-label": "Bucket starts" }, multiDay ? dayClock(new Date(b.t)) : clock(new Date(b.t))),
            STATUSES.map((st) => h("td.dm-num", { "data-label": st }, String((b.counts && b.counts[st]) || 0))),
            h("td.dm-num", { "data-label": "Total" }, String(sum(b.counts))),
          ),
        ),
      ),
    ),
  );
}

function statList(items, empty) {
  if (!items.length) return h("p.muted", empty);
  return h("ul.dm-list", items);
}

function failingList(list, hrefOf, empty) {
  return statList(
    (list || []).map((f) =>
      h("li", h("a", { href: hrefOf(f) }, f.name || f.id), h("span.dm-count", { title: `${f.failed} failed` }, String(f.failed))),
    ),
    empty,
  );
}

function card(title, ...body) {
  const id = `dm-card-${++uid}`;
  return h("section.card.dm-card", { "aria-labelledby": id }, h("h2", { id }, title), body);
}

// nodesCard lists the live nodes sharing the store (GET /cluster, admins
// only); the node that answered is marked.
function nodesCard(cluster) {
  return card(
    "Nodes",
    h(
      "ul.dm-list.dm-nodes",
      cluster.nodes.map((n) =>
        h(
          "li",
          h("span", h("code", n.address), n.id === cluster.self ? h("span.muted", " (this node)") : null),
          h("span.muted", `${n.version}, seen ${fmtTime(new Date(n.last_seen))}`),
        ),
      ),
    ),
  );
}

function cards(stats, hours, cluster) {
  const since = encodeURIComponent(new Date(stats.from).toISOString());
  const totals = stats.totals || {};
  const all = sum(totals);
  const deliveries = stats.deliveries || {};
  const q = stats.queue || {};
  return [
    card(
      `Messages, last ${hours} h`,
      h("p.dm-big", String(all), h("span.muted", ` message${all === 1 ? "" : "s"}`)),
      h(
        "ul.dm-list",
        STATUSES.map((st) =>
          h("li", h("a", { href: `#/messages?status=${st}&since=${since}` }, badge(st)), h("span.dm-count", String(totals[st] || 0))),
        ),
      ),
    ),
    card("Failing providers", failingList(stats.failing_providers, (f) => `#/providers/${encodeURIComponent(f.id)}`, "No provider has failed messages.")),
    card("Failing functions", failingList(stats.failing_functions, (f) => `#/functions/${encodeURIComponent(f.id)}`, "No function has failed.")),
    card(
      "Outbound deliveries",
      h(
        "ul.dm-list",
        ["SUCCESS", "FAILED", "PENDING"].map((st) => h("li", badge(st), h("span.dm-count", String(deliveries[st] || 0)))),
      ),
      h("h3", "Failing endpoints"),
      failingList(stats.failing_endpoints, (f) => `#/outbound/endpoints/${encodeURIComponent(f.id)}`, "No endpoint is failing."),
    ),
    card(
      "Queues",
      h(
        "ul.dm-list",
        h("li", "Messages waiting", h("span.dm-count", String(q.messages || 0))),
        h("li", "Deliveries in flight", h("span.dm-count", String(q.deliveries_in_flight || 0))),
        h(
          "li",
          "Outbound",
          q.outbound_paused ? h("span.badge.st-failed", "Paused") : h("span.badge.st-success", "Running"),
        ),
      ),
      h("p", h("a", { href: "#/outbound" }, "Outbound settings")),
    ),
    cluster ? nodesCard(cluster) : null,
  ].filter(Boolean);
}

export async function render({ main }) {
  let hours = Number(localStorage.getItem("switchyard.dashboard.hours")) || 6;
  if (!HOURS.includes(hours)) hours = 6;
  let stats = null;
  let cluster = null;
  let showTable = false;
  let disposed = false;
  let loading = false;

  const select = h(
    "select#dm-hours",
    { name: "hours" },
    HOURS.map((n) => h("option", { value: n, selected: n === hours ? "" : null }, `Last ${n} hour${n === 1 ? "" : "s"}`)),
  );
  select.value = String(hours);
  const refreshBtn = h("button.secondary", { type: "button" }, "Refresh");
  const updated = h("span.muted.dm-updated");
  const tableBtn = h("button.secondary", { type: "button", "aria-expanded": "false", "aria-controls": "dm-table" }, "Show as table");
  const chartBox = h("div.dm-chart-box");
  const tableBox = h("div#dm-table", { hidden: true });
  const note = h("div");
  const grid = h("div.dm-cards");

  main.append(
    h(
      "div.dm-scope",
      h("div.page-head", h("h1", "Dashboard"), h("div.actions.dm-controls", h("label.dm-inline", h("span", "Period"), select), refreshBtn)),
      note,
      h(
        "section.card",
        { "aria-labelledby": "dm-chart-h" },
        h("div.dm-chart-head", h("h2#dm-chart-h", "Messages by status"), h("div.dm-chart-tools", legend(), tableBtn)),
        chartBox,
        tableBox,
        updated,
      ),
      grid,
    ),
  );

  function drawChartNow() {
    if (!stats) return;
    const w = chartBox.clientWidth || 800;
    clear(chartBox).append(drawChart(stats, w));
  }

  let cardKeys = [];
  function paint() {
    drawChartNow();
    clear(tableBox).append(dataTable(stats));
    // Replace only the cards that changed, so focus on a link survives a refresh.
    const fresh = cards(stats, hours, cluster);
    const keys = fresh.map((c) => c.textContent + "|" + [...c.querySelectorAll("a")].map((a) => a.href).join());
    if (grid.children.length !== fresh.length) {
      clear(grid).append(...fresh);
    } else {
      fresh.forEach((c, i) => {
        if (keys[i] !== cardKeys[i]) grid.children[i].replaceWith(c);
      });
    }
    cardKeys = keys;
    clear(note);
    if (stats.sampled) {
      note.append(h("p.muted", "This instance is busy: the figures come from a sample of the most recent records. /metrics has exact counters."));
    }
  }

  async function load() {
    if (loading || disposed) return;
    loading = true;
    refreshBtn.disabled = true;
    try {
      const [data, nodes] = await Promise.all([
        api("GET", `/stats?hours=${hours}`),
        can("admin") ? api("GET", "/cluster").catch(() => null) : null,
      ]);
      if (disposed) return;
      stats = data;
      cluster = nodes;
      paint();
      updated.textContent = `Updated ${fmtTime(new Date())}; refreshes every 15 s.`;
    } catch (e) {
      if (disposed || e.status === 401) return;
      clear(note).append(h("p.error", { role: "alert" }, `Could not load the figures: ${e.message}`));
    } finally {
      loading = false;
      refreshBtn.disabled = false;
    }
  }

  select.addEventListener("change", () => {
    hours = Number(select.value);
    localStorage.setItem("switchyard.dashboard.hours", String(hours));
    load();
  });
  refreshBtn.addEventListener("click", load);
  tableBtn.addEventListener("click", () => {
    showTable = !showTable;
    tableBox.hidden = !showTable;
    tableBtn.setAttribute("aria-expanded", String(showTable));
    tableBtn.textContent = showTable ? "Hide table" : "Show as table";
  });

  let lastWidth = 0;
  const ro = new ResizeObserver(() => {
    const w = chartBox.clientWidth;
    if (Math.abs(w - lastWidth) > 4) {
      lastWidth = w;
      drawChartNow();
    }
  });
  ro.observe(chartBox);

  await load();
  const timer = setInterval(() => {
    if (!document.hidden) load();
  }, REFRESH_MS);

  return () => {
    disposed = true;
    clearInterval(timer);
    ro.disconnect();
  };
}
