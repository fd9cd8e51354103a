// QTS portal: the price board. No framework and no build step: this file is served as is by
// the portal service (embedded in its binary). The session comes from the SSO-UI (the
// qts_session cookie, traded for access tokens); the board is a snapshot, then a stream of
// changed rows (NDJSON over fetch, so the token travels in the Authorization header).

const API = "/api/portal/v1";
const SSO_UI = "/api/sso-ui/v1";

const I18N = {
  vi: {
    filter: "Lọc mã", language: "Ngôn ngữ", theme: "Sáng/Tối", account: "Tài khoản",
    symbol: "Mã", ref: "TC", ceil: "Trần", floor: "Sàn", bids: "Bên mua", asks: "Bên bán",
    matched: "Khớp lệnh", volume: "Tổng KL", high: "Cao", low: "Thấp", room: "Room NN",
    p1: "Giá 1", p2: "Giá 2", p3: "Giá 3", v1: "KL 1", v2: "KL 2", v3: "KL 3",
    price: "Giá", vol: "KL", change: "+/-", pct: "%", watch: "Theo dõi", board: "Bảng giá",
    legend: "Trần tím · Sàn xanh lơ · Tham chiếu vàng · Tăng xanh lá · Giảm đỏ",
    star: "☆ thêm vào danh mục theo dõi", live: "Trực tuyến", connecting: "Đang kết nối…",
    offline: "Mất kết nối, đang thử lại…", rows: "mã", star_label: "Theo dõi",
    back: "← Bảng giá", depth: "Độ sâu", sales: "Khớp lệnh gần nhất", time: "Giờ",
    chart: "Biểu đồ nến", timeframes: "Khung thời gian", no_bars: "Chưa có nến cho khung này",
    indicators: "Chỉ báo", mine: "Lệnh của tôi", side: "M/B", qty: "KL", filled: "Khớp",
    status: "Trạng thái", buy: "Mua", sell: "Bán", no_orders: "Chưa có lệnh",
  },
  en: {
    filter: "Filter", language: "Language", theme: "Light/Dark", account: "Account",
    symbol: "Symbol", ref: "Ref", ceil: "Ceil", floor: "Floor", bids: "Bids", asks: "Asks",
    matched: "Matched", volume: "Volume", high: "High", low: "Low", room: "Foreign room",
    p1: "Price 1", p2: "Price 2", p3: "Price 3", v1: "Vol 1", v2: "Vol 2", v3: "Vol 3",
    price: "Price", vol: "Vol", change: "+/-", pct: "%", watch: "Watch list", board: "Price board",
    legend: "Ceiling purple · Floor cyan · Reference yellow · Up green · Down red",
    star: "☆ add to the watch list", live: "Live", connecting: "Connecting…",
    offline: "Disconnected, retrying…", rows: "symbols", star_label: "Watch",
    back: "← Price board", depth: "Depth", sales: "Time and sales", time: "Time",
    chart: "Candlestick chart", timeframes: "Timeframe", no_bars: "No candles for this timeframe yet",
    indicators: "Indicators", mine: "My orders", side: "Side", qty: "Qty", filled: "Filled",
    status: "Status", buy: "Buy", sell: "Sell", no_orders: "No orders yet",
  },
};

const TABS = ["HOSE", "HNX", "UPCOM", "VN30", "HNX30", "watch"];

// `?measure` (qts bench portal): each update's latency from its publication on the bus to the
// frame that shows it, and every frame's time. Off otherwise: nothing runs per frame.
const MEASURE = new URLSearchParams(location.search).has("measure");
const metrics = { latencies: [], frames: [], updates: 0, work: [] };
if (MEASURE) {
  window.qtsMetrics = metrics;
  let last = performance.now();
  const frame = (now) => {
    metrics.frames.push(now - last);
    last = now;
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}
// The cells of a row, in column order: [key, class].
const COLUMNS = [
  ["ref", "ref"], ["ceil", "ceil"], ["floor", "floor"],
  ["b3p", "depth"], ["b3v", "depth"], ["b2p", "depth"], ["b2v", "depth"], ["b1p", ""], ["b1v", ""],
  ["last", "last"], ["last_vol", ""], ["change", ""], ["change_pct", ""],
  ["a1p", ""], ["a1v", ""], ["a2p", "depth"], ["a2v", "depth"], ["a3p", "depth"], ["a3v", "depth"],
  ["volume", ""], ["high", ""], ["low", ""], ["foreign_room", ""],
];

const store = (key, fallback) => {
  try { return JSON.parse(localStorage.getItem(key)) ?? fallback; } catch { return fallback; }
};
const save = (key, value) => localStorage.setItem(key, JSON.stringify(value));

const state = {
  lang: store("qts.lang", "vi"),
  theme: store("qts.theme", "dark"),
  tab: store("qts.tab", "HOSE"),
  watch: new Set(store("qts.watch", [])),
  sort: store("qts.sort", { key: "symbol", dir: 1 }),
  filter: "",
  token: null,
  rows: new Map(), // symbol -> row (the API's shape)
  view: new Map(), // symbol -> { tr, cells: Map(key -> td) }
  seq: 0,
};

const t = (key) => I18N[state.lang][key] ?? key;
const $ = (id) => document.getElementById(id);

// ---- formatting and colours ----------------------------------------------------------------

const price = (p) => (p ? (p / 1000).toFixed(2) : "");
const volume = (v) => (v ? v.toLocaleString("en-US") : "");

/** The board's colour of a price against the day's reference, ceiling and floor. */
function tone(row, p) {
  if (!p || !row.ref) return "";
  if (row.ceil && p >= row.ceil) return "ceil";
  if (row.floor && p <= row.floor) return "floor";
  if (p === row.ref) return "ref";
  return p > row.ref ? "up" : "down";
}

/** Cell key -> [text, colour] for a row. */
function cells(row) {
  const lv = (side, i) => (row[side] && row[side][i]) || [0, 0];
  const out = {
    ref: [price(row.ref), "ref"], ceil: [price(row.ceil), "ceil"], floor: [price(row.floor), "floor"],
    last: [price(row.last), tone(row, row.last)], last_vol: [volume(row.last_vol), tone(row, row.last)],
    change: [row.last ? (row.change / 1000).toFixed(2) : "", tone(row, row.last)],
    change_pct: [row.last ? row.change_pct.toFixed(2) : "", tone(row, row.last)],
    volume: [volume(row.volume), ""], high: [price(row.high), tone(row, row.high)],
    low: [price(row.low), tone(row, row.low)], foreign_room: [volume(row.foreign_room), ""],
  };
  for (const [side, k] of [["bids", "b"], ["asks", "a"]]) {
    for (let i = 0; i < 3; i++) {
      const [p, v] = lv(side, i);
      out[`${k}${i + 1}p`] = [price(p), tone(row, p)];
      out[`${k}${i + 1}v`] = [volume(v), tone(row, p)];
    }
  }
  return out;
}

// ---- rendering --------------------------------------------------------------------------------

function inTab(row) {
  if (state.tab === "watch") return state.watch.has(row.symbol);
  if (["HOSE", "HNX", "UPCOM"].includes(state.tab)) return row.exchange === state.tab;
  return (row.indexes || []).includes(state.tab);
}

function visible(row) {
  return inTab(row) && (!state.filter || row.symbol.startsWith(state.filter));
}

function makeRow(row) {
  const tr = document.createElement("tr");
  tr.dataset.symbol = row.symbol;
  const sym = document.createElement("td");
  sym.className = "sym";
  const star = document.createElement("button");
  star.type = "button";
  star.textContent = state.watch.has(row.symbol) ? "★" : "☆";
  star.setAttribute("aria-pressed", String(state.watch.has(row.symbol)));
  star.setAttribute("aria-label", `${t("star_label")} ${row.symbol}`);
  star.addEventListener("click", () => toggleWatch(row.symbol, star));
  const link = document.createElement("a");
  link.href = `#/s/${row.symbol}`;
  link.textContent = row.symbol;
  sym.append(star, link);
  sym.title = row.name || "";
  tr.append(sym);
  const map = new Map();
  const values = cells(row);
  for (const [key, cls] of COLUMNS) {
    const td = document.createElement("td");
    const [text, colour] = values[key];
    td.textContent = text;
    td.className = [cls, colour].filter(Boolean).join(" ");
    td.dataset.base = cls;
    tr.append(td);
    map.set(key, td);
  }
  state.view.set(row.symbol, { tr, cells: map });
  return tr;
}

function sortValue(row, key) {
  const v = row[key];
  return v === undefined || v === null ? -Infinity : v;
}

/** Rebuilds the table body: tab, filter and sort. */
function render() {
  const rows = [...state.rows.values()].filter(visible);
  const { key, dir } = state.sort;
  rows.sort((a, b) => {
    const x = sortValue(a, key), y = sortValue(b, key);
    return (x < y ? -1 : x > y ? 1 : 0) * dir || a.symbol.localeCompare(b.symbol);
  });
  state.view.clear();
  const body = $("rows");
  body.replaceChildren(...rows.map(makeRow));
  for (const th of document.querySelectorAll("th[data-sort]")) {
    th.setAttribute("aria-sort", th.dataset.sort === key ? (dir > 0 ? "ascending" : "descending") : "none");
  }
  setStatus(`${rows.length} ${t("rows")} · ${t("live")}`);
}

/** Applies changed rows: only the cells whose text changed, each flashed. */
function apply(changed) {
  const started = MEASURE ? performance.now() : 0;
  let rerender = false;
  // Publication times of the rows shown (MEASURE): the next frame is the one that shows them.
  const shown = [];
  // The cells that changed flash for a moment (one timer for all of them).
  const flashed = [];
  for (const row of changed) {
    const known = state.rows.has(row.symbol);
    state.rows.set(row.symbol, row);
    const view = state.view.get(row.symbol);
    if (!view) {
      if (!known && visible(row)) rerender = true;
      continue;
    }
    if (MEASURE) shown.push(row.at);
    const values = cells(row);
    for (const [key, td] of view.cells) {
      const [text, colour] = values[key];
      if (td.textContent !== text) {
        td.textContent = text;
        td.className = [td.dataset.base, colour, "flash"].filter(Boolean).join(" ");
        flashed.push(td);
      }
    }
  }
  if (flashed.length) setTimeout(() => flashed.forEach((td) => td.classList.remove("flash")), 400);
  if (view.symbol) {
    const mine = changed.find((row) => row.symbol === view.symbol);
    if (mine) symbolChanged(mine);
  }
  if (rerender) render();
  if (MEASURE) metrics.work.push(performance.now() - started);
  if (MEASURE && shown.length) {
    metrics.updates += shown.length;
    requestAnimationFrame(() => {
      const now = Date.now();
      for (const at of shown) metrics.latencies.push(now - at);
    });
  }
}

function toggleWatch(symbol, star) {
  if (state.watch.has(symbol)) state.watch.delete(symbol);
  else state.watch.add(symbol);
  save("qts.watch", [...state.watch]);
  star.textContent = state.watch.has(symbol) ? "★" : "☆";
  star.setAttribute("aria-pressed", String(state.watch.has(symbol)));
  if (state.tab === "watch") render();
}

function setStatus(text, bad = false) {
  const s = $("status");
  s.textContent = text;
  s.classList.toggle("bad", bad);
}

function translate() {
  document.documentElement.lang = state.lang;
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  $("tabs").setAttribute("aria-label", t("board"));
  $("timeframes").setAttribute("aria-label", t("timeframes"));
  for (const b of $("tabs").children) b.textContent = b.dataset.tab === "watch" ? t("watch") : b.dataset.tab;
  $("lang").value = state.lang;
}

function setupControls() {
  document.documentElement.dataset.theme = state.theme;
  const tabs = $("tabs");
  for (const tab of TABS) {
    const b = document.createElement("button");
    b.type = "button";
    b.setAttribute("role", "tab");
    b.dataset.tab = tab;
    b.setAttribute("aria-selected", String(tab === state.tab));
    b.addEventListener("click", () => {
      state.tab = tab;
      save("qts.tab", tab);
      for (const o of tabs.children) o.setAttribute("aria-selected", String(o === b));
      render();
    });
    tabs.append(b);
  }
  $("filter").addEventListener("input", (e) => {
    state.filter = e.target.value.trim().toUpperCase();
    render();
  });
  $("lang").addEventListener("change", (e) => {
    state.lang = e.target.value;
    save("qts.lang", state.lang);
    translate();
    render();
  });
  $("theme").addEventListener("click", () => {
    state.theme = state.theme === "dark" ? "light" : "dark";
    save("qts.theme", state.theme);
    document.documentElement.dataset.theme = state.theme;
  });
  for (const th of document.querySelectorAll("th[data-sort]")) {
    th.tabIndex = 0;
    const sort = () => {
      const key = th.dataset.sort;
      state.sort = { key, dir: state.sort.key === key ? -state.sort.dir : key === "symbol" ? 1 : -1 };
      save("qts.sort", state.sort);
      render();
    };
    th.addEventListener("click", sort);
    th.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); } });
  }
  translate();
}

// ---- the symbol view ----------------------------------------------------------------------------

// Timeframe -> [resolution, days of bars before the trading day, seconds per bar].
const TIMEFRAMES = {
  "1m": ["1m", 0, 60], "5m": ["5m", 2, 300], "15m": ["15m", 6, 900],
  "1h": ["1h", 20, 3600], "1D": ["1D", 365, 86400],
};
// Charts show Vietnam time (UTC+7) on their axis.
const VN = 7 * 3600;

// Indicators computed by the TA service (TA-Lib's functions and defaults): overlays on the
// candles (pane 0) or panes of their own; prices come in đồng, shown in thousands.
const INDICATORS = {
  sma20: { label: "SMA 20", fn: "SMA", params: { timeperiod: 20 }, pane: 0, scale: 1000, colors: ["#f2c94c"] },
  ema50: { label: "EMA 50", fn: "EMA", params: { timeperiod: 50 }, pane: 0, scale: 1000, colors: ["#5aa9ff"] },
  bb20: { label: "Bollinger 20", fn: "BBANDS", params: { timeperiod: 20, nbdevup: 2, nbdevdn: 2 }, pane: 0, scale: 1000,
    colors: ["#9b8cff", "#9b8cff", "#9b8cff"] },
  rsi14: { label: "RSI 14", fn: "RSI", params: { timeperiod: 14 }, pane: 1, scale: 1, colors: ["#e36cf0"] },
  macd: { label: "MACD", fn: "MACD", params: {}, pane: 2, scale: 1000, colors: ["#5aa9ff", "#ff9f43", "#8a949e"], histogram: 2 },
};

const view = {
  symbol: null,
  timeframe: store("qts.timeframe", "1m"),
  indicators: new Set(store("qts.indicators", ["sma20"])),
  chart: null, candles: null, volumes: null, last: null, refresh: 0, lwc: null, overlays: [],
  markers: null, mineAt: 0,
};

function isoDay(day, minusDays) {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - minusDays);
  return d.toISOString().slice(0, 10);
}

function setText(id, text, cls) {
  const el = $(id);
  el.textContent = text;
  if (cls !== undefined) el.className = cls;
}

function renderSymbol(row, trades) {
  setText("sym-title", row.symbol);
  setText("sym-name", `${row.name || ""} · ${row.exchange}`);
  setText("sym-last", price(row.last), `big ${tone(row, row.last)}`);
  setText("sym-change", row.last ? `${(row.change / 1000).toFixed(2)} (${row.change_pct.toFixed(2)}%)` : "", tone(row, row.last));
  setText("sym-ref", price(row.ref));
  setText("sym-ceil", price(row.ceil));
  setText("sym-floor", price(row.floor));
  setText("sym-volume", volume(row.volume));
  const depth = $("depth").tBodies[0];
  const lines = [];
  for (let i = 2; i >= 0; i--) lines.push(["", row.asks?.[i], "ask"]);
  for (let i = 0; i < 3; i++) lines.push(["bid", row.bids?.[i], ""]);
  depth.replaceChildren(...lines.map(([side, level]) => {
    const tr = document.createElement("tr");
    const [p, v] = level || [0, 0];
    const cells = side === "bid" ? [volume(v), price(p), ""] : ["", price(p), volume(v)];
    for (const text of cells) {
      const td = document.createElement("td");
      td.textContent = text;
      td.className = tone(row, p);
      tr.append(td);
    }
    return tr;
  }));
  if (trades) {
    const clock = (ms) => new Date(ms + VN * 1000).toISOString().slice(11, 19);
    $("sales").tBodies[0].replaceChildren(...trades.slice(0, 20).map((t) => {
      const tr = document.createElement("tr");
      for (const [text, cls] of [[clock(t.time), ""], [price(t.price), tone(row, t.price)], [volume(t.quantity), ""]]) {
        const td = document.createElement("td");
        td.textContent = text;
        td.className = cls;
        tr.append(td);
      }
      return tr;
    }));
  }
}

async function loadBars(row) {
  const [resolution, back, seconds] = TIMEFRAMES[view.timeframe];
  const day = row.day;
  if (!day || !view.candles) return;
  const from = isoDay(day, back), to = day;
  const bars = await (await api(`/symbols/${row.symbol}/bars?resolution=${resolution}&from=${from}&to=${to}`)).json();
  const candles = bars.map((b) => ({ time: b.t + VN, open: b.o / 1000, high: b.h / 1000, low: b.l / 1000, close: b.c / 1000 }));
  view.candles.setData(candles);
  view.volumes.setData(bars.map((b) => ({ time: b.t + VN, value: b.v, color: b.c >= b.o ? "rgba(47,210,122,0.5)" : "rgba(255,91,91,0.5)" })));
  view.last = candles.length ? { ...candles[candles.length - 1], seconds } : { seconds };
  $("chart").dataset.bars = String(candles.length);
  $("chart").setAttribute("aria-label", candles.length ? `${t("chart")} ${row.symbol} ${view.timeframe}` : t("no_bars"));
  view.chart.timeScale().fitContent();
  await loadIndicators(row.symbol, resolution, from, to);
}

/** The chosen indicators over the same bars, from the TA service. */
async function loadIndicators(symbol, resolution, from, to) {
  for (const series of view.overlays) view.chart.removeSeries(series);
  view.overlays = [];
  let points = 0;
  for (const id of view.indicators) {
    const ind = INDICATORS[id];
    if (!ind) continue;
    const r = await authed("/api/ta/v1/compute", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ symbol, resolution, from, to, function: ind.fn, params: ind.params }),
    });
    const c = await r.json();
    c.outputs.forEach((_, k) => {
      const kind = k === ind.histogram ? view.lwc.HistogramSeries : view.lwc.LineSeries;
      const series = view.chart.addSeries(kind, {
        color: ind.colors[k % ind.colors.length], lineWidth: 1,
        priceLineVisible: false, lastValueVisible: false, title: k === 0 ? ind.label : "",
      }, ind.pane);
      const data = c.points
        .filter((p) => p.values[k] !== null)
        .map((p) => ({ time: Date.parse(p.time) / 1000 + VN, value: p.values[k] / ind.scale }));
      series.setData(data);
      points += data.length;
      view.overlays.push(series);
    });
  }
  $("chart").dataset.indicators = String(points);
}

/** The last trade extends (or starts) the newest candle. */
function extendCandle(trade) {
  if (!view.candles || !view.last || !trade) return;
  const seconds = view.last.seconds;
  const at = Math.floor(trade.time / 1000) + VN;
  const start = at - (at % seconds);
  const p = trade.price / 1000;
  if (view.last.time === start) {
    view.last = { ...view.last, high: Math.max(view.last.high, p), low: Math.min(view.last.low, p), close: p };
  } else if (!view.last.time || start > view.last.time) {
    view.last = { time: start, open: p, high: p, low: p, close: p, seconds };
  } else {
    return;
  }
  view.candles.update(view.last);
}

const OMS = "/api/oms/v1";
const clockVN = (ms) => new Date(ms + VN * 1000).toISOString().slice(11, 19);

/** The user's orders in the symbol (the OMS answers only their accounts) and their fills as
 * markers on the candles. */
async function loadMine(symbol) {
  view.mineAt = Date.now();
  const [orders, fills] = await Promise.all([
    authed(`${OMS}/orders?symbol=${symbol}&limit=20`).then((r) => r.json()),
    authed(`${OMS}/fills?limit=200`).then((r) => r.json()),
  ]);
  if (view.symbol !== symbol) return;
  const body = $("mine").tBodies[0];
  if (!orders.length) {
    const tr = document.createElement("tr");
    const td = document.createElement("td");
    td.colSpan = 6;
    td.textContent = t("no_orders");
    td.className = "muted";
    tr.append(td);
    body.replaceChildren(tr);
  } else {
    const row = state.rows.get(symbol) || {};
    body.replaceChildren(...orders.map((o) => {
      const tr = document.createElement("tr");
      const buy = o.side === "buy";
      const cells = [
        [clockVN(Date.parse(o.created_at)), ""], [t(buy ? "buy" : "sell"), buy ? "up" : "down"],
        [o.price ? price(o.price) : o.order_type, tone(row, o.price)], [volume(o.quantity), ""],
        [volume(o.filled) || "0", ""], [o.status, ""],
      ];
      for (const [text, cls] of cells) {
        const td = document.createElement("td");
        td.textContent = text;
        td.className = cls;
        tr.append(td);
      }
      return tr;
    }));
  }
  $("mine").dataset.loaded = String(orders.length);
  if (!view.candles || !view.last) return;
  const seconds = view.last.seconds;
  const markers = fills
    .filter((f) => f.symbol === symbol)
    .map((f) => {
      const at = Math.floor(Date.parse(f.time) / 1000) + VN;
      const buy = f.side === "buy";
      return {
        time: at - (at % seconds), position: buy ? "belowBar" : "aboveBar",
        color: buy ? "#2fd27a" : "#ff5b5b", shape: buy ? "arrowUp" : "arrowDown",
        text: `${t(buy ? "buy" : "sell")} ${volume(f.quantity)} @ ${price(f.price)}`,
      };
    })
    .sort((a, b) => a.time - b.time);
  if (view.markers) view.markers.setMarkers(markers);
  else view.markers = view.lwc.createSeriesMarkers(view.candles, markers);
}

/** The row of the open symbol changed: its header and depth now, its trades at most once a second. */
function symbolChanged(row) {
  renderSymbol(row);
  const now = Date.now();
  if (now - view.refresh < 1000) return;
  view.refresh = now;
  api(`/symbols/${row.symbol}`).then((r) => r.json()).then((s) => {
    if (s.row.symbol !== view.symbol) return;
    renderSymbol(s.row, s.trades);
    extendCandle(s.trades[0]);
  }).catch((e) => console.warn("symbol", e));
  if (now - view.mineAt > 3000) loadMine(row.symbol).catch((e) => console.warn("orders", e));
}

async function makeChart() {
  const lwc = await import("/api/portal/assets/lightweight-charts.mjs");
  view.lwc = lwc;
  const css = getComputedStyle(document.documentElement);
  const colour = (name) => css.getPropertyValue(name).trim();
  const chart = lwc.createChart($("chart"), {
    autoSize: true,
    layout: { background: { color: colour("--bg") }, textColor: colour("--fg") },
    grid: { vertLines: { color: colour("--line") }, horzLines: { color: colour("--line") } },
    timeScale: { timeVisible: true, secondsVisible: false },
  });
  view.candles = chart.addSeries(lwc.CandlestickSeries, {
    upColor: colour("--up"), downColor: colour("--down"), borderVisible: false,
    wickUpColor: colour("--up"), wickDownColor: colour("--down"),
  });
  view.volumes = chart.addSeries(lwc.HistogramSeries, { priceScaleId: "", priceFormat: { type: "volume" } });
  view.volumes.priceScale().applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
  view.chart = chart;
}

async function openSymbol(symbol) {
  view.symbol = symbol;
  $("boardview").hidden = true;
  $("symbolview").hidden = false;
  document.title = `${symbol} · QTS`;
  const s = await (await api(`/symbols/${symbol}`)).json();
  renderSymbol(s.row, s.trades);
  if (view.chart) view.chart.remove();
  view.overlays = [];
  view.markers = null;
  await makeChart();
  await loadBars(s.row);
  extendCandle(s.trades[0]);
  await loadMine(symbol).catch((e) => console.warn("orders", e));
}

function closeSymbol() {
  view.symbol = null;
  if (view.chart) view.chart.remove();
  view.chart = view.candles = view.volumes = view.last = view.markers = null;
  view.overlays = [];
  $("symbolview").hidden = true;
  $("boardview").hidden = false;
  document.title = "QTS";
}

async function route() {
  const m = location.hash.match(/^#\/s\/([A-Z0-9]{1,20})$/);
  if (m) {
    await openSymbol(m[1]).catch((e) => {
      console.error(e);
      setStatus(String(e.message || e), true);
    });
  } else {
    closeSymbol();
  }
}

function setupTimeframes() {
  const box = $("timeframes");
  for (const tf of Object.keys(TIMEFRAMES)) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = tf;
    b.dataset.tf = tf;
    b.setAttribute("aria-pressed", String(tf === view.timeframe));
    b.addEventListener("click", () => {
      view.timeframe = tf;
      save("qts.timeframe", tf);
      for (const o of box.children) o.setAttribute("aria-pressed", String(o === b));
      const row = state.rows.get(view.symbol);
      if (row) loadBars(row).catch((e) => console.warn("bars", e));
    });
    box.append(b);
  }
  const picks = $("indicators");
  for (const [id, ind] of Object.entries(INDICATORS)) {
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.value = id;
    box.checked = view.indicators.has(id);
    box.addEventListener("change", () => {
      if (box.checked) view.indicators.add(id);
      else view.indicators.delete(id);
      save("qts.indicators", [...view.indicators]);
      const row = state.rows.get(view.symbol);
      if (row) loadBars(row).catch((e) => console.warn("indicators", e));
    });
    label.append(box, document.createTextNode(` ${ind.label}`));
    picks.append(label);
  }
}

// ---- session and data --------------------------------------------------------------------------

function signIn() {
  const back = encodeURIComponent(location.pathname + location.search);
  location.href = `${SSO_UI}/login?lang=${state.lang}&return_to=${back}`;
}

/** An access token from the SSO-UI session; renewed before it expires. */
async function session() {
  const csrf = await (await fetch(`${SSO_UI}/session/csrf`, { credentials: "same-origin" })).json();
  const r = await fetch(`${SSO_UI}/session/token`, {
    method: "POST",
    credentials: "same-origin",
    headers: { "X-CSRF-Token": csrf.csrf_token },
  });
  if (r.status === 401) {
    signIn();
    throw new Error("signed out");
  }
  if (!r.ok) throw new Error(`session: HTTP ${r.status}`);
  const s = await r.json();
  state.token = s.access_token;
  $("user").textContent = s.username;
  setTimeout(() => session().catch(() => signIn()), Math.max(5, s.expires_in * 0.8) * 1000);
}

/** `url` with the session's token; a 401 renews the token once and tries again. */
async function authed(url, init = {}, renewed = false) {
  const r = await fetch(url, {
    ...init,
    headers: { ...(init.headers || {}), Authorization: `Bearer ${state.token}` },
  });
  if (r.status === 401 && !renewed) {
    await session();
    return authed(url, init, true);
  }
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r;
}

const api = (path, init) => authed(`${API}${path}`, init);

async function snapshot() {
  const board = await (await api("/board")).json();
  state.rows = new Map(board.rows.map((row) => [row.symbol, row]));
  state.seq = board.seq;
  render();
  document.documentElement.dataset.seq = String(state.seq);
}

/** Follows the board's changes; reconnects (from the last seen sequence) after a failure. */
async function stream() {
  for (let wait = 500; ; wait = Math.min(wait * 2, 10000)) {
    try {
      const r = await api(`/board/stream?since=${state.seq}`);
      setStatus(`${$("rows").children.length} ${t("rows")} · ${t("live")}`);
      wait = 500;
      const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let nl;
        while ((nl = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          if (!line) continue;
          const msg = JSON.parse(line);
          if (msg.reset) {
            await snapshot();
          } else if (msg.rows) {
            state.seq = msg.seq;
            apply(msg.rows);
            // What the page is current to (browser tests and measurements read it).
            document.documentElement.dataset.seq = String(state.seq);
          }
        }
      }
    } catch (e) {
      console.warn("board stream", e);
    }
    setStatus(t("offline"), true);
    await new Promise((done) => setTimeout(done, wait));
  }
}

async function main() {
  setupControls();
  setupTimeframes();
  setStatus(t("connecting"));
  await session();
  await snapshot();
  performance.mark("qts-board-ready");
  stream();
  window.addEventListener("hashchange", route);
  await route();
}

main().catch((e) => {
  console.error(e);
  setStatus(String(e.message || e), true);
});
