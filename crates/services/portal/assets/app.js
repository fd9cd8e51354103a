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
    orders: "Sổ lệnh", portfolio: "Danh mục", ticket: "Đặt lệnh", buy_key: "Mua (B)", sell_key: "Bán (S)",
    order_type: "Loại lệnh", price_k: "Giá (nghìn đ)", send_buy: "Đặt lệnh mua", send_sell: "Đặt lệnh bán",
    otp_needed: "Phiên giao dịch đã hết: nhập mã OTP để đặt lệnh.", otp_send: "Gửi mã OTP", otp_code: "Mã OTP",
    otp_login: "Xác thực", otp_sent: "Đã gửi OTP", working: "Lệnh chờ khớp", today_orders: "Lệnh trong ngày",
    fills: "Lệnh khớp", actions: "Thao tác", avg: "Giá khớp TB", value: "Giá trị", holdings: "Chứng khoán nắm giữ (lệnh qua QTS)",
    sellable: "Khả dụng", broker_positions: "Vị thế tại công ty chứng khoán", avg_cost: "Giá vốn", market_value: "Giá trị", unrealised: "Lãi/lỗ tạm tính",
    realised: "Lãi/lỗ đã thực hiện", fees: "Phí", tax: "Thuế", confirm_title: "Xác nhận lệnh", back_out: "Huỷ",
    confirm: "Xác nhận (Enter)", cancel: "Huỷ lệnh", amend: "Sửa", save: "Lưu", cash: "Tiền mặt",
    buying_power: "Sức mua", withdrawable: "Có thể rút", nav: "Tài sản ròng (NAV)", total_pnl: "Tổng lãi/lỗ",
    max_buy: "Mua tối đa", max_sell: "Bán tối đa", gross: "Giá trị lệnh", fee: "Phí", total: "Tổng tiền",
    proceeds: "Tiền về", lot: "Lô", tick: "Bước giá", phase: "Phiên", no_rows: "Không có dữ liệu",
    sent: "Đã gửi lệnh", refused: "Bị từ chối", cancel_sent: "Đã gửi yêu cầu huỷ", amend_sent: "Đã gửi yêu cầu sửa",
    one_change: "Sửa giá hoặc khối lượng, mỗi lần một thứ", no_account: "Chưa có tài khoản giao dịch",
    p_untradable: (s) => `Mã không được giao dịch (trạng thái ${s})`,
    p_type: (ty, ph) => `Sàn không nhận lệnh ${ty} lúc này (phiên ${ph})`,
    p_price: "Nhập giá", p_qty: "Nhập khối lượng",
    p_tick: (p, k, lo, hi) => `Giá ${p} không đúng bước giá ${k}: chọn ${lo} hoặc ${hi}`,
    p_ceil: (p, c) => `Giá ${p} cao hơn giá trần ${c}`, p_floor: (p, f) => `Giá ${p} thấp hơn giá sàn ${f}`,
    p_lot: (q, l) => `Khối lượng ${q} không là bội số của lô ${l} (lệnh lô lẻ: dưới ${l})`,
    p_max_qty: (q, m) => `Khối lượng ${q} vượt mức tối đa ${m} mỗi lệnh`,
    p_max_buy: (q, m) => `Khối lượng ${q} vượt sức mua (tối đa ${m})`,
    p_max_sell: (q, m) => `Khối lượng ${q} vượt số chứng khoán khả dụng (${m})`,
    p_closed: "Hệ thống chưa nhận lệnh", p_session: "Cần xác thực OTP trước khi đặt lệnh",
    mode: "Kiểu lệnh", m_normal: "Thường", m_stop: "Dừng lỗ (stop)", m_stop_limit: "Dừng lỗ giới hạn",
    m_take_profit: "Chốt lời", m_trailing_stop: "Dừng lỗ động", m_iceberg: "Lệnh tảng băng",
    trigger_k: "Giá kích hoạt (nghìn đ)", trail_k: "Khoảng cách (nghìn đ)", slices: "Số lần chia",
    minutes: "Trong (phút)", display: "KL hiển thị", held: "Lệnh điều kiện và thuật toán", kind: "Kiểu",
    trigger: "Kích hoạt", progress: "Tiến độ",
    p_trigger: "Nhập giá kích hoạt", p_trail: "Nhập khoảng cách dừng động",
    p_whole: (q, l) => `Khối lượng ${q} phải là bội số của lô ${l}`,
    p_slices: (n) => `Số lần chia từ 1 đến ${n}`, p_minutes: "Thời gian từ 1 đến 10080 phút",
    p_display: (l) => `KL hiển thị là bội số của lô ${l}, không quá khối lượng lệnh`,
    company: "Công ty", sector: "Ngành", listed: "KL niêm yết", market_cap: "Vốn hoá", billion: "tỷ đ",
    prediction: "Dự báo", pred_call: "Khuyến nghị", pred_long: "Mua", pred_exit: "Bán", pred_hold: "Giữ",
    pred_return: "Lợi suất dự báo", pred_days: "phiên", pred_rank: "Xếp hạng", pred_model: "Mô hình",
    sentiment: "Tâm lý tin tức", sent_value: "Điểm tâm lý", sent_items: "Tin 24 giờ", sent_positive: "Tích cực",
    sent_negative: "Tiêu cực", sent_neutral: "Trung lập",
    params: "Tham số", sizing: "Khối lượng mỗi lệnh (JSON)", symbols_all: "Mã (trống: tất cả)", saved: "Đã lưu",
    signals: "Tín hiệu kỹ thuật", use_price: "Đặt giá này vào lệnh", use_max: "Đặt khối lượng tối đa", strategies: "Chiến lược", risk: "Rủi ro", strategy: "Chiến lược",
    rules: "Tín hiệu mua / bán", positions: "Vị thế", decided: "Quyết định (gửi/từ chối/lỗi)", state: "Trạng thái",
    decisions: "Quyết định gần nhất", reason: "Lý do", enabled: "Đang chạy", disabled: "Đã tắt", enable: "Bật",
    disable: "Tắt", kill_all: "Dừng toàn bộ giao dịch", books: "Tài khoản và chiến lược", scope: "Phạm vi",
    key: "Mã", exposure: "Mức rủi ro", open_orders: "Lệnh mở", pnl_today: "Lãi/lỗ hôm nay", drawdown: "Sụt giảm",
    margin: "Ký quỹ", kill: "Dừng khẩn cấp", halts: "Ngắt mạch và tạm ngừng", engage: "Dừng", release: "Cho chạy lại",
    engaged: "Đang dừng", kill_reason: "Nhập lý do dừng khẩn cấp", none: "Không có",
    rule_sets: "Bộ quy tắc đang áp dụng", rule_set: "Bộ quy tắc", rule_target: "Áp dụng cho", rule_active: "Phiên bản hiệu lực",
    rule_latest: "Phiên bản mới nhất", rule_desc: "Mô tả", rule_updated: "Thay đổi lúc", rule_rollback: "Quay lại phiên bản trước",
    rule_refusals: "Bị quy tắc từ chối gần đây", rule_subject: "Lệnh / quyết định", rule_rule: "Quy tắc",
    target_order: "Lệnh", target_decision: "Quyết định chiến lược", rolled_back: "Đã quay lại",
    target_alert: "Cảnh báo", rule_editor: "Soạn bộ quy tắc", rule_new: "Bộ quy tắc mới", rule_doc: "Tài liệu bộ quy tắc (JSON)",
    rule_save: "Lưu bản nháp", rule_submit: "Gửi duyệt", rule_approve: "Duyệt và áp dụng", rule_edit: "Sửa",
    rule_variables: "Biến dùng được", rule_valid: (c) => `Hợp lệ · chi phí ước tính ${c} bước`, rule_json: "JSON không hợp lệ",
    rule_editing: (n, v, st) => `${n} v${v} (${st})`, rule_unsaved: "chưa lưu",
    reports: "Báo cáo", from: "Từ ngày", to: "Đến ngày", show: "Xem", daily: "Lãi/lỗ theo ngày", csv: "Xuất CSV",
    date: "Ngày", bought: "Giá trị mua", sold: "Giá trị bán", history: "Lịch sử giao dịch", sum: "Tổng",
    person: "(lệnh tay)", backtest: "Kiểm thử lịch sử (backtest)", bt_symbols: "Mã (cách nhau dấu phẩy)", run: "Chạy",
    running: "Đang chạy…", return: "Lợi nhuận", max_dd: "Sụt giảm tối đa", win_rate: "Tỷ lệ thắng",
    end_equity: "Tài sản cuối kỳ", bt_done: (b, n, o) => `${b} nến, ${n} mã, ${o} lệnh`,
    ph_closed: "Đóng cửa", ph_pre_open: "Trước giờ mở cửa", ph_opening_auction: "ATO", ph_continuous: "Khớp lệnh liên tục",
    ph_break: "Nghỉ trưa", ph_closing_auction: "ATC", ph_plo_collection: "PLO (nhận lệnh)", ph_plo_matching: "PLO (khớp)",
    ph_put_through: "Thoả thuận", ph_put_through_after_hours: "Thoả thuận sau giờ", ph_put_through_only: "Chỉ thoả thuận",
    ph_halted: "Tạm ngừng",
    ind_any: "Chỉ báo khác", ind_fn: "Hàm", ind_add: "Thêm vào biểu đồ", ind_remove: (n) => `Bỏ ${n}`,
    notifications: "Thông báo", unread: (n) => `${n} chưa đọc`, read_all: "Đánh dấu đã đọc tất cả",
    unread_only: "Chỉ thông báo chưa đọc", mark_read: "Đã đọc", n_kind: "Loại", n_severity: "Mức độ",
    n_subject: "Tiêu đề", n_body: "Nội dung", n_settings: "Cài đặt thông báo", n_contacts: "Liên hệ",
    n_language: "Ngôn ngữ thông báo", email: "E-mail", telegram: "Telegram (chat id)", phone: "Điện thoại (SMS, +84…)",
    n_events: "Gửi thông báo qua", n_symbols: "Mã theo dõi (dự báo, tâm lý tin tức, cảnh báo; cách nhau dấu phẩy)",
    n_quiet: "Giờ yên lặng (chỉ thông báo khẩn)", n_quiet_on: "Bật", n_from: "Từ", n_to: "Đến",
    webhooks: "Webhook", wh_name: "Tên", wh_url: "URL", wh_kind: "Kiểu", wh_secret: "Khoá ký (generic, để trống: giữ nguyên)",
    wh_add: "Thêm webhook", remove: "Xoá", n_from_watch: "Lấy từ danh mục theo dõi", n_saved: "Đã lưu cài đặt thông báo",
    ch_email: "E-mail", ch_telegram: "Telegram", ch_webhook: "Webhook", ch_sms: "SMS", ch_inbox: "Hộp thư",
    ev_order: "Lệnh và khớp lệnh", ev_risk: "Rủi ro", ev_system: "Hệ thống", ev_ops: "Vận hành", ev_prediction: "Dự báo",
    ev_sentiment: "Tâm lý tin tức", ev_alert: "Cảnh báo kỹ thuật", ev_account: "Tài khoản",
    sev_info: "Thông tin", sev_warning: "Cảnh báo", sev_critical: "Khẩn",
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
    orders: "Orders", portfolio: "Portfolio", ticket: "Order entry", buy_key: "Buy (B)", sell_key: "Sell (S)",
    order_type: "Order type", price_k: "Price (thousand VND)", send_buy: "Place buy order", send_sell: "Place sell order",
    otp_needed: "The trading session has ended: enter an OTP to place orders.", otp_send: "Send OTP", otp_code: "OTP code",
    otp_login: "Verify", otp_sent: "OTP sent", working: "Working orders", today_orders: "Today's orders",
    fills: "Fills", actions: "Actions", avg: "Avg fill", value: "Value", holdings: "Holdings (QTS orders)",
    sellable: "Sellable", broker_positions: "Positions at the broker", avg_cost: "Avg cost", market_value: "Market value", unrealised: "Unrealised P&L",
    realised: "Realised P&L", fees: "Fees", tax: "Tax", confirm_title: "Confirm the order", back_out: "Back",
    confirm: "Confirm (Enter)", cancel: "Cancel", amend: "Amend", save: "Save", cash: "Cash",
    buying_power: "Buying power", withdrawable: "Withdrawable", nav: "Net asset value", total_pnl: "Total P&L",
    max_buy: "Max buy", max_sell: "Max sell", gross: "Order value", fee: "Fee", total: "Total",
    proceeds: "Proceeds", lot: "Lot", tick: "Tick", phase: "Phase", no_rows: "Nothing here",
    sent: "Order sent", refused: "Refused", cancel_sent: "Cancel sent", amend_sent: "Amendment sent",
    one_change: "Change the price or the quantity, one at a time", no_account: "No trading account",
    p_untradable: (s) => `Not tradable now (status ${s})`,
    p_type: (ty, ph) => `The exchange takes no ${ty} order now (${ph})`,
    p_price: "Enter a price", p_qty: "Enter a quantity",
    p_tick: (p, k, lo, hi) => `Price ${p} is off the ${k} tick: ${lo} or ${hi}`,
    p_ceil: (p, c) => `Price ${p} is above the ceiling ${c}`, p_floor: (p, f) => `Price ${p} is below the floor ${f}`,
    p_lot: (q, l) => `Quantity ${q} is not a multiple of the ${l} lot (odd lots: under ${l})`,
    p_max_qty: (q, m) => `Quantity ${q} is over the ${m} largest order`,
    p_max_buy: (q, m) => `Quantity ${q} is over the buying power (max ${m})`,
    p_max_sell: (q, m) => `Quantity ${q} is over what is sellable (${m})`,
    p_closed: "Orders are not taken now", p_session: "Verify with an OTP before placing orders",
    mode: "Order kind", m_normal: "Regular", m_stop: "Stop", m_stop_limit: "Stop-limit",
    m_take_profit: "Take-profit", m_trailing_stop: "Trailing stop", m_iceberg: "Iceberg",
    trigger_k: "Trigger (thousand VND)", trail_k: "Trail (thousand VND)", slices: "Slices",
    minutes: "Over (minutes)", display: "Shown quantity", held: "Conditional and algorithmic orders", kind: "Kind",
    trigger: "Trigger", progress: "Progress",
    p_trigger: "Enter a trigger price", p_trail: "Enter the trailing distance",
    p_whole: (q, l) => `Quantity ${q} must be whole lots of ${l}`,
    p_slices: (n) => `Slices from 1 to ${n}`, p_minutes: "From 1 to 10080 minutes",
    p_display: (l) => `The shown quantity is whole lots of ${l}, at most the order's`,
    company: "Company", sector: "Sector", listed: "Listed shares", market_cap: "Market cap", billion: "bn VND",
    prediction: "Prediction", pred_call: "Call", pred_long: "Buy", pred_exit: "Sell", pred_hold: "Hold",
    pred_return: "Predicted return", pred_days: "day(s)", pred_rank: "Rank", pred_model: "Model",
    sentiment: "News sentiment", sent_value: "Sentiment", sent_items: "News, 24 h", sent_positive: "Positive",
    sent_negative: "Negative", sent_neutral: "Neutral",
    params: "Parameters", sizing: "Sizing (JSON)", symbols_all: "Symbols (empty: all)", saved: "Saved",
    signals: "Technical signals", use_price: "Use this price in the ticket", use_max: "Use the largest quantity", strategies: "Strategies", risk: "Risk", strategy: "Strategy",
    rules: "Buy / sell on", positions: "Positions", decided: "Decisions (sent/rejected/failed)", state: "State",
    decisions: "Latest decisions", reason: "Reason", enabled: "Running", disabled: "Off", enable: "Enable",
    disable: "Disable", kill_all: "Stop all trading", books: "Accounts and strategies", scope: "Scope",
    key: "Id", exposure: "Exposure", open_orders: "Open orders", pnl_today: "P&L today", drawdown: "Drawdown",
    margin: "Margin", kill: "Kill switch", halts: "Breakers and halts", engage: "Stop", release: "Release",
    engaged: "Stopped", kill_reason: "Enter why it is stopped", none: "None",
    rule_sets: "Rule sets in force", rule_set: "Rule set", rule_target: "Judges", rule_active: "Active version",
    rule_latest: "Latest version", rule_desc: "Description", rule_updated: "Changed", rule_rollback: "Roll back",
    rule_refusals: "Recently refused by a rule", rule_subject: "Order / decision", rule_rule: "Rule",
    target_order: "Orders", target_decision: "Strategy decisions", rolled_back: "Rolled back",
    target_alert: "Alerts", rule_editor: "Edit a rule set", rule_new: "New rule set", rule_doc: "Rule set document (JSON)",
    rule_save: "Save draft", rule_submit: "Submit for review", rule_approve: "Approve and activate", rule_edit: "Edit",
    rule_variables: "Variables", rule_valid: (c) => `Valid · estimated cost ${c} steps`, rule_json: "Not valid JSON",
    rule_editing: (n, v, st) => `${n} v${v} (${st})`, rule_unsaved: "not saved",
    reports: "Reports", from: "From", to: "To", show: "Show", daily: "Daily P&L", csv: "Export CSV",
    date: "Date", bought: "Bought", sold: "Sold", history: "Trade history", sum: "Total",
    person: "(manual)", backtest: "Backtest", bt_symbols: "Symbols (comma-separated)", run: "Run",
    running: "Running…", return: "Return", max_dd: "Max drawdown", win_rate: "Win rate",
    end_equity: "End equity", bt_done: (b, n, o) => `${b} bars, ${n} symbols, ${o} orders`,
    ph_closed: "Closed", ph_pre_open: "Pre-open", ph_opening_auction: "Opening auction (ATO)", ph_continuous: "Continuous",
    ph_break: "Lunch break", ph_closing_auction: "Closing auction (ATC)", ph_plo_collection: "PLO collection",
    ph_plo_matching: "PLO matching", ph_put_through: "Put-through", ph_put_through_after_hours: "Put-through after hours",
    ph_put_through_only: "Put-through only", ph_halted: "Halted",
    ind_any: "More indicators", ind_fn: "Function", ind_add: "Add to the chart", ind_remove: (n) => `Remove ${n}`,
    notifications: "Notifications", unread: (n) => `${n} unread`, read_all: "Mark all read",
    unread_only: "Unread only", mark_read: "Read", n_kind: "Kind", n_severity: "Severity",
    n_subject: "Subject", n_body: "Message", n_settings: "Notification settings", n_contacts: "Contacts",
    n_language: "Language of messages", email: "E-mail", telegram: "Telegram (chat id)", phone: "Phone (SMS, +84…)",
    n_events: "Send notifications by", n_symbols: "Symbols I follow (predictions, news sentiment, alerts; comma-separated)",
    n_quiet: "Quiet hours (critical messages only)", n_quiet_on: "On", n_from: "From", n_to: "To",
    webhooks: "Webhooks", wh_name: "Name", wh_url: "URL", wh_kind: "Kind", wh_secret: "Signing secret (generic; empty: unchanged)",
    wh_add: "Add a webhook", remove: "Remove", n_from_watch: "Use my watch list", n_saved: "Notification settings saved",
    ch_email: "E-mail", ch_telegram: "Telegram", ch_webhook: "Webhook", ch_sms: "SMS", ch_inbox: "Inbox",
    ev_order: "Orders and fills", ev_risk: "Risk", ev_system: "System", ev_ops: "Operations", ev_prediction: "Predictions",
    ev_sentiment: "News sentiment", ev_alert: "Technical alerts", ev_account: "Account",
    sev_info: "Info", sev_warning: "Warning", sev_critical: "Critical",
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
  accounts: [], // the accounts the user trades (portal /v1/me)
  amending: null, // the id of the working order being amended
  editingStrategy: null, // the strategy whose parameters are being edited
};

/** A market phase's name in the user's language (`periodic_auction_N` as is). */
const phase = (name) => (I18N[state.lang][`ph_${name}`] ? t(`ph_${name}`) : name);
const t = (key, ...args) => {
  const v = I18N[state.lang][key] ?? key;
  return typeof v === "function" ? v(...args) : v;
};
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
  $("t-send").textContent = t(ticket.side === "buy" ? "send_buy" : "send_sell");
  labelPreferences();
  if (!$("inboxview").hidden) loadInbox().catch(() => {});
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
  markers: null, mineAt: 0, fills: [], signals: [],
};

function isoDay(day, minusDays) {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - minusDays);
  return d.toISOString().slice(0, 10);
}

/** `pairs` ([term, value]) as the terms and values of the list `dl`; `grouped` wraps each pair
 * in a div (a grid of pairs). */
function showFacts(dl, pairs, grouped = false) {
  dl.replaceChildren(...pairs.flatMap(([k, v]) => {
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.textContent = v;
    if (!grouped) return [dt, dd];
    const div = document.createElement("div");
    div.append(dt, dd);
    return [div];
  }));
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
    // A price of the book goes into the ticket.
    if (p) {
      tr.children[1].classList.add("pick");
      tr.children[1].title = t("use_price");
      tr.children[1].addEventListener("click", () => {
        $("t-price").value = (p / 1000).toFixed(2);
        askPreview();
      });
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
  loadSignals(row.symbol, resolution).catch((e) => console.warn("signals", e));
  await loadIndicators(row.symbol, resolution, from, to);
}

/** Indicators the user added from the TA service's whole function list: `{fn, group, params}`. */
const custom = { list: store("qts.custom", []), functions: null };
const CUSTOM_COLORS = ["#2fd27a", "#ff9f43", "#3fd2f2", "#e36cf0", "#f2c94c", "#9b8cff"];
// Groups drawn over the candles (price units); the rest get a pane of their own.
const ON_PRICE = ["Overlap Studies", "Price Transform"];

const customLabel = (c) => `${c.fn}(${Object.values(c.params).join(", ")})`;

/** A custom indicator as the chart draws it. */
function customSpec(c, i) {
  const onPrice = ON_PRICE.includes(c.group);
  return {
    label: customLabel(c), fn: c.fn, params: c.params, pane: onPrice ? 0 : `custom${i}`,
    scale: onPrice ? 1000 : 1, colors: [CUSTOM_COLORS[i % CUSTOM_COLORS.length], ...CUSTOM_COLORS],
    histogram: c.group === "Pattern Recognition" ? 0 : undefined,
  };
}

/** The chosen indicators over the same bars, from the TA service. Each pane below the candles
 * is numbered in the order the indicators come (no empty panes). */
async function loadIndicators(symbol, resolution, from, to) {
  for (const series of view.overlays) view.chart.removeSeries(series);
  view.overlays = [];
  let points = 0;
  const specs = [
    ...[...view.indicators].map((id) => INDICATORS[id]).filter(Boolean),
    ...custom.list.map(customSpec),
  ];
  const panes = new Map();
  const drawn = [];
  for (const ind of specs) {
    if (ind.pane !== 0 && !panes.has(ind.pane)) panes.set(ind.pane, panes.size + 1);
  }
  for (const ind of specs) {
    const r = await authed("/api/ta/v1/compute", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ symbol, resolution, from, to, function: ind.fn, params: ind.params }),
    });
    const c = await r.json();
    if (!r.ok) {
      console.warn("indicator", ind.label, c.message);
      continue;
    }
    drawn.push(ind.fn);
    c.outputs.forEach((_, k) => {
      const kind = k === ind.histogram ? view.lwc.HistogramSeries : view.lwc.LineSeries;
      const series = view.chart.addSeries(kind, {
        color: ind.colors[k % ind.colors.length], lineWidth: 1,
        priceLineVisible: false, lastValueVisible: false, title: k === 0 ? ind.label : "",
      }, ind.pane === 0 ? 0 : panes.get(ind.pane));
      const data = c.points
        .filter((p) => p.values[k] !== null)
        .map((p) => ({ time: Date.parse(p.time) / 1000 + VN, value: p.values[k] / ind.scale }));
      series.setData(data);
      points += data.length;
      view.overlays.push(series);
    });
  }
  $("chart").dataset.indicators = String(points);
  // What was computed, in order (browser tests read it).
  $("chart").dataset.studies = drawn.join(",");
}

/** The function list (asked once) as grouped options. */
async function loadFunctions() {
  if (custom.functions) return;
  const r = await call("/api/ta/v1/functions");
  if (!r.ok) {
    $("ind-problem").textContent = r.body.message || `HTTP ${r.status}`;
    return;
  }
  custom.functions = new Map(r.body.map((f) => [f.name, f]));
  const groups = new Map();
  for (const f of r.body) {
    if (!groups.has(f.group)) groups.set(f.group, []);
    groups.get(f.group).push(f);
  }
  $("ind-fn").replaceChildren(...[...groups].map(([group, fns]) => {
    const og = document.createElement("optgroup");
    og.label = group;
    og.append(...fns.map((f) => new Option(`${f.name} — ${f.description}`, f.name)));
    return og;
  }));
  showParams();
}

/** The chosen function's parameters, at their defaults, within their bounds. */
function showParams() {
  const f = custom.functions && custom.functions.get($("ind-fn").value);
  $("ind-params").replaceChildren(...(f ? f.params : []).map((p) => {
    const label = document.createElement("label");
    const input = document.createElement("input");
    input.type = "number";
    input.name = p.name;
    input.value = String(p.default);
    input.min = String(p.min);
    input.max = String(p.max);
    input.step = p.kind === "real" ? "any" : "1";
    input.className = "param";
    label.append(document.createTextNode(`${p.name} `), input);
    return label;
  }));
}

function showCustom() {
  $("ind-custom").replaceChildren(...custom.list.map((c, i) => {
    const chip = document.createElement("span");
    chip.className = "chip";
    chip.dataset.fn = c.fn;
    chip.append(document.createTextNode(customLabel(c)), " ");
    const x = button("×", "amend", () => {
      custom.list.splice(i, 1);
      save("qts.custom", custom.list);
      showCustom();
      reloadChart();
    });
    x.setAttribute("aria-label", t("ind_remove", customLabel(c)));
    chip.append(x);
    return chip;
  }));
}

function reloadChart() {
  const row = state.rows.get(view.symbol);
  if (row) loadBars(row).catch((e) => console.warn("indicators", e));
}

function setupAnyIndicator() {
  $("anyind").addEventListener("toggle", () => { if ($("anyind").open) loadFunctions().catch((e) => console.warn("functions", e)); });
  $("ind-fn").addEventListener("change", showParams);
  $("ind-add").addEventListener("click", () => {
    const f = custom.functions && custom.functions.get($("ind-fn").value);
    if (!f) return;
    const params = {};
    for (const input of $("ind-params").querySelectorAll("input")) {
      const v = Number(input.value);
      const p = f.params.find((q) => q.name === input.name);
      if (input.value === "" || !Number.isFinite(v) || v < p.min || v > p.max || (p.kind !== "real" && !Number.isInteger(v))) {
        $("ind-problem").textContent = `${input.name}: ${p.min} … ${p.max}`;
        input.focus();
        return;
      }
      params[input.name] = v;
    }
    $("ind-problem").textContent = "";
    custom.list.push({ fn: f.name, group: f.group, params });
    if (custom.list.length > 8) custom.list.shift();
    save("qts.custom", custom.list);
    showCustom();
    reloadChart();
  });
  showCustom();
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
    // A new candle: counted like the loaded ones (a view opened before the first bar of the
    // day closed starts empty and fills from the trades).
    const chart = $("chart");
    chart.dataset.bars = String(Number(chart.dataset.bars || 0) + 1);
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
  // The ticket's account (a trader with several must name one).
  const of = account() ? `&account=${encodeURIComponent(account())}` : "";
  const [orders, fills] = await Promise.all([
    authed(`${OMS}/orders?symbol=${symbol}&limit=20${of}`).then((r) => r.json()),
    authed(`${OMS}/fills?limit=200${of}`).then((r) => r.json()),
  ]);
  if (view.symbol !== symbol) return;
  const body = $("mine").tBodies[0];
  if (!orders.length) {
    const tr = document.createElement("tr");
    const td = document.createElement("td");
    td.colSpan = 7;
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
      const actions = document.createElement("td");
      if (WORKING.includes(o.status) && !o.pending) {
        const cancel = document.createElement("button");
        cancel.type = "button";
        cancel.className = "cancel";
        cancel.textContent = "✕";
        cancel.title = t("cancel");
        cancel.setAttribute("aria-label", `${t("cancel")} ${o.id}`);
        cancel.addEventListener("click", () => cancelOrder(o.id));
        actions.append(cancel);
      }
      tr.append(actions);
      return tr;
    }));
  }
  $("mine").dataset.loaded = String(orders.length);
  view.fills = fills.filter((f) => f.symbol === symbol);
  showMarkers();
}

/** The user's fills and the TA service's signals as markers on the candles. */
function showMarkers() {
  if (!view.candles || !view.last) return;
  const seconds = view.last.seconds;
  const bar = (ms) => {
    const at = Math.floor(ms / 1000) + VN;
    return at - (at % seconds);
  };
  const fills = view.fills.map((f) => {
    const buy = f.side === "buy";
    return {
      time: bar(Date.parse(f.time)), position: buy ? "belowBar" : "aboveBar",
      color: buy ? "#2fd27a" : "#ff5b5b", shape: buy ? "arrowUp" : "arrowDown",
      text: `${t(buy ? "buy" : "sell")} ${volume(f.quantity)} @ ${price(f.price)}`,
    };
  });
  // An alert (a rule set's condition that became true) has no direction: a yellow square.
  const signals = view.signals.map((g) => ({
    time: bar(Date.parse(g.bar_start)), position: g.direction > 0 ? "belowBar" : "aboveBar",
    color: g.kind === "alert" ? "#f5c542" : g.direction > 0 ? "#5aa9ff" : "#ff9f43",
    shape: g.kind === "alert" ? "square" : "circle", text: g.name,
  }));
  const markers = [...fills, ...signals].sort((a, b) => a.time - b.time);
  $("chart").dataset.markers = String(markers.length);
  if (view.markers) view.markers.setMarkers(markers);
  else view.markers = view.lwc.createSeriesMarkers(view.candles, markers);
}

/** The TA service's signals (crossovers, levels, band breaks, candlestick patterns, rule-set
 * alerts) of the symbol at the chart's timeframe. */
async function loadSignals(symbol, resolution) {
  const r = await call(`/api/ta/v1/signals?symbol=${symbol}&limit=200`);
  if (view.symbol !== symbol) return;
  view.signals = r.ok ? r.body.filter((g) => g.timeframe === resolution) : [];
  $("signals").replaceChildren(...view.signals.slice(0, 8).map((g) => {
    const li = document.createElement("li");
    li.className = g.kind === "alert" ? "alert" : g.direction > 0 ? "up" : "down";
    li.textContent = `${clockVN(Date.parse(g.bar_start))} ${g.name}${g.detail ? ` — ${g.detail}` : ""}`;
    return li;
  }));
  showMarkers();
}

/** What master data holds about the company. */
async function loadCompany(symbol) {
  const r = await call(`/api/master-data/v1/securities/${symbol}`);
  if (view.symbol !== symbol || !r.ok) return;
  const s = r.body;
  const row = state.rows.get(symbol) || {};
  const cap = s.listed_shares && (row.last || s.reference) ? s.listed_shares * (row.last || s.reference) : 0;
  const facts = [
    [t("company"), state.lang === "en" && s.name_en ? s.name_en : s.name], [t("sector"), s.sector],
    [t("kind"), s.kind], [t("status"), s.status], [t("listed"), volume(s.listed_shares)],
    [t("market_cap"), cap ? `${money(cap / 1e9)} ${t("billion")}` : ""], [t("room"), volume(s.foreign_room)],
  ].filter(([, v]) => v);
  showFacts($("company"), facts);
}

/**
 * The prediction service's latest call on the symbol, when it predicts it: asked again every
 * 10 s while its models are still training (422) and the symbol stays open.
 */
async function loadPrediction(symbol) {
  const r = await call(`/api/prediction/v1/predictions?symbols=${symbol}`);
  if (view.symbol !== symbol) return;
  const p = r.ok ? (r.body.predictions || []).find((x) => x.symbol === symbol) : null;
  $("predictionbox").hidden = !p;
  if (!p) {
    if (r.status === 422 || r.status === 0) setTimeout(() => loadPrediction(symbol).catch(() => {}), 10000);
    return;
  }
  const calls = { prediction_long: t("pred_long"), prediction_exit: t("pred_exit"), prediction_hold: t("pred_hold") };
  showFacts($("prediction"), [
    [t("pred_call"), calls[p.name] || p.name],
    [t("pred_return"), `${p.score >= 0 ? "+" : ""}${(p.score * 100).toFixed(2)}% / ${r.body.horizon} ${t("pred_days")}`],
    [t("pred_rank"), `${Math.round(p.percentile * 100)}%`],
    [t("pred_model"), `v${r.body.model_version} · ${r.body.date}`],
  ]);
  $("prediction").title = p.detail;
  $("prediction").dataset.call = p.name;
}

/**
 * The emotion service's time-decayed sentiment of the symbol and its latest news, when any item
 * has mentioned it (404 otherwise: the panel stays hidden).
 */
async function loadSentiment(symbol) {
  const [p, items] = await Promise.all([
    call(`/api/emotion/v1/sentiment/${symbol}`),
    call(`/api/emotion/v1/items?symbol=${symbol}&limit=5`),
  ]);
  if (view.symbol !== symbol) return;
  $("sentimentbox").hidden = !p.ok;
  if (!p.ok) return;
  const s = p.body;
  const mood = s.value > 0.05 ? "positive" : s.value < -0.05 ? "negative" : "neutral";
  showFacts($("sentiment"), [
    [t("sent_value"), `${s.value >= 0 ? "+" : ""}${s.value.toFixed(2)} · ${t(`sent_${mood}`)}`],
    [t("sent_items"), String(s.items_24h)],
  ]);
  $("sentiment").dataset.mood = mood;
  const list = items.ok ? items.body : [];
  $("news").replaceChildren(...list.map((n) => {
    const li = document.createElement("li");
    li.dataset.label = n.sentiment.label;
    const when = document.createElement("time");
    when.dateTime = n.published;
    when.textContent = new Date(n.published).toLocaleString(state.lang === "en" ? "en-GB" : "vi-VN",
      { day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit" });
    const title = document.createElement(n.url ? "a" : "span");
    if (n.url) { title.href = n.url; title.target = "_blank"; title.rel = "noopener noreferrer"; }
    title.textContent = n.title || n.body.slice(0, 120);
    title.title = `${t(`sent_${n.sentiment.label}`)} ${n.sentiment.compound.toFixed(2)} · ${n.source}`;
    li.append(when, " ", title);
    return li;
  }));
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
  if (now - view.mineAt > 10000) loadMine(row.symbol).catch((e) => console.warn("orders", e));
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
  showPage("symbol");
  document.title = `${symbol} · QTS`;
  const s = await (await api(`/symbols/${symbol}`)).json();
  renderSymbol(s.row, s.trades);
  openTicket(s.row);
  if (view.chart) view.chart.remove();
  view.overlays = [];
  view.markers = null;
  view.fills = view.signals = [];
  loadCompany(symbol).catch((e) => console.warn("company", e));
  $("predictionbox").hidden = true;
  delete $("prediction").dataset.call;
  loadPrediction(symbol).catch((e) => console.warn("prediction", e));
  $("sentimentbox").hidden = true;
  loadSentiment(symbol).catch((e) => console.warn("sentiment", e));
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
  ticket.symbol = null;
  document.title = "QTS";
}

const PAGES = {
  board: "boardview", symbol: "symbolview", orders: "ordersview", portfolio: "portfolioview",
  strategies: "strategiesview", risk: "riskview", reports: "reportsview", inbox: "inboxview",
};

function showPage(name) {
  for (const [page, id] of Object.entries(PAGES)) $(id).hidden = page !== name;
  for (const a of $("pages").children) {
    if (a.dataset.page === name) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  document.body.dataset.page = name;
}

// The orders and portfolio pages refresh while they are open.
const pageTimer = { id: 0, generation: 0 };

function keepLoading(load, every) {
  const generation = ++pageTimer.generation;
  const tick = async () => {
    await load().catch((e) => console.warn("page", e));
    if (generation === pageTimer.generation) pageTimer.id = setTimeout(tick, every);
  };
  tick();
}

async function route() {
  clearTimeout(pageTimer.id);
  pageTimer.generation++;
  const hash = location.hash;
  const m = hash.match(/^#\/s\/([A-Z0-9]{1,20})$/);
  if (m) {
    await openSymbol(m[1]).catch((e) => {
      console.error(e);
      setStatus(String(e.message || e), true);
    });
    return;
  }
  closeSymbol();
  if (hash === "#/orders") {
    showPage("orders");
    document.title = `${t("orders")} · QTS`;
    keepLoading(loadOrders, 10000);
  } else if (hash === "#/portfolio") {
    showPage("portfolio");
    document.title = `${t("portfolio")} · QTS`;
    keepLoading(loadPortfolio, 10000);
  } else if (hash === "#/strategies") {
    showPage("strategies");
    backtestDefaults();
    document.title = `${t("strategies")} · QTS`;
    keepLoading(loadStrategies, 5000);
  } else if (hash === "#/reports") {
    showPage("reports");
    document.title = `${t("reports")} · QTS`;
    loadReport().catch((e) => console.warn("report", e));
  } else if (hash === "#/inbox") {
    showPage("inbox");
    document.title = `${t("notifications")} · QTS`;
    loadPreferences().catch((e) => console.warn("preferences", e));
    keepLoading(() => Promise.all([loadInbox(), loadUnread()]), 10000);
  } else if (hash === "#/risk") {
    showPage("risk");
    document.title = `${t("risk")} · QTS`;
    keepLoading(loadRisk, 3000);
  } else {
    showPage("board");
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

// ---- trading: the order ticket, orders and portfolio ----------------------------------------------
// The ticket enforces the security's rules as the trader types (tick, lot, band, the order types
// the exchange takes now, max quantities) from the portal's preview, which also carries the risk
// service's dry-run verdict, the fees and tax and the session. The order goes to the OMS, which
// checks it again.

const PORTAL_PREVIEW = "/orders/preview";
const ORDER_TYPES = ["LO", "ATO", "ATC", "MTL", "MOK", "MAK", "PLO"];
// A price in thousands with every digit it has (25.001 is not 25.00).
const exact = (p) => (p / 1000).toFixed(p % 10 ? 3 : 2);
const money = (v) => (v === null || v === undefined ? "" : Math.round(v).toLocaleString("en-US"));

const ticket = {
  side: "buy", symbol: null, rules: null, preview: null, asked: 0, answered: 0, timer: 0,
  // What the last preview was asked for: the send button needs it to match the inputs.
  askedFor: "",
};

/** `fetch` with the session's token, answering { ok, status, body } (the API's error body too). */
async function call(url, init = {}) {
  let r;
  try {
    r = await authed(url, init, false, true);
  } catch (e) {
    return { ok: false, status: 0, body: { message: String(e.message || e) } };
  }
  const body = await r.json().catch(() => ({}));
  return { ok: r.ok, status: r.status, body };
}

function fillAccounts() {
  const pick = store("qts.account", null);
  const chosen = state.accounts.includes(pick) ? pick : state.accounts[0];
  const picks = ["t-account", "o-account", "p-account", "r-account"];
  for (const id of picks) {
    const sel = $(id);
    sel.replaceChildren(...state.accounts.map((a) => new Option(a, a, false, a === chosen)));
    sel.addEventListener("change", () => {
      save("qts.account", sel.value);
      for (const other of picks) $(other).value = sel.value;
      if (id === "t-account") {
        askPreview();
        if (view.symbol) loadMine(view.symbol).catch((e) => console.warn("orders", e));
      } else {
        route();
      }
    });
  }
}

const account = () => $("t-account").value;

async function loadMe() {
  const r = await call(`${API}/me`);
  state.accounts = r.ok ? r.body.accounts : [];
  state.roles = r.ok ? r.body.roles : [];
  // The risk officer's view: every account's exposure and the kill switches.
  $("risk-link").hidden = !state.roles.some((role) => role === "risk_officer" || role === "admin");
  fillAccounts();
}

function tickAt(rules, p) {
  let tick = 1;
  for (const band of rules.ticks) if (p >= band.from) tick = band.tick;
  return tick;
}

/** Thousands as typed ("25.35") to VND (25350); NaN when it is not a number. */
function parsePrice(text) {
  const s = text.trim().replace(",", ".");
  if (!/^\d+(\.\d{0,3})?$/.test(s)) return NaN;
  return Math.round(Number(s) * 1000);
}

// What each kind of order needs: a limit price (required or optional), a trigger, a trail, the
// algorithm's slices and time or shown quantity. Conditionals and algorithms are held by the OMS.
const MODES = {
  normal: { price: "LO" },
  stop: { trigger: true, conditional: true },
  stop_limit: { trigger: true, price: "required", conditional: true },
  take_profit: { trigger: true, price: "optional", conditional: true },
  trailing_stop: { trail: true, conditional: true },
  twap: { price: "required", slices: true, algo: true },
  vwap: { price: "required", slices: true, algo: true },
  iceberg: { price: "required", display: true, algo: true },
};

const count = (text) => {
  const s = text.trim().replaceAll(",", "");
  return /^\d{1,10}$/.test(s) ? Number(s) : s ? NaN : 0;
};
const typedPrice = (id) => ($(id).value.trim() ? parsePrice($(id).value) : 0);

function readTicket() {
  const mode = $("t-mode").value || "normal";
  const m = MODES[mode];
  const order_type = mode === "normal" ? $("t-type").value || "LO" : "LO";
  const usesPrice = m.price === "LO" ? order_type === "LO" : Boolean(m.price);
  return {
    account: account(), symbol: ticket.symbol, side: ticket.side, mode, order_type,
    price: usesPrice ? typedPrice("t-price") : null, quantity: count($("t-qty").value),
    trigger: m.trigger ? typedPrice("t-trigger") : null, trail: m.trail ? typedPrice("t-trail") : null,
    slices: m.slices ? count($("t-slices").value) : null, minutes: m.slices ? count($("t-minutes").value) : null,
    display: m.display ? count($("t-display").value) : null,
  };
}

/** Every rule the order as typed breaks, in the trader's language. */
function localProblems(o, rules, preview) {
  const out = [];
  if (!rules) return out;
  if (!rules.tradable) out.push(t("p_untradable", rules.status));
  const m = MODES[o.mode];
  const lot = rules.lot_size;
  if (o.mode === "normal") {
    const odd = o.quantity > 0 && o.quantity < lot;
    const board = rules.boards.find((b) => b.board === (odd ? "odd_lot" : "main"));
    if (board && !board.order_types.includes(o.order_type)) out.push(t("p_type", o.order_type, phase(board.phase)));
  }
  // A price on its tick and inside the band.
  const checkPrice = (p, missing) => {
    if (!p || Number.isNaN(p)) {
      out.push(t(missing));
      return;
    }
    const tick = tickAt(rules, p);
    if (p % tick) {
      const lo = p - (p % tick);
      out.push(t("p_tick", exact(p), tick, price(lo), price(lo + tick)));
    }
    if (rules.ceiling && p > rules.ceiling) out.push(t("p_ceil", exact(p), price(rules.ceiling)));
    if (rules.floor && p < rules.floor) out.push(t("p_floor", exact(p), price(rules.floor)));
  };
  if (o.price !== null && (m.price !== "optional" || o.price)) checkPrice(o.price, "p_price");
  if (m.trigger) checkPrice(o.trigger, "p_trigger");
  if (m.trail && (!o.trail || Number.isNaN(o.trail) || o.trail <= 0)) out.push(t("p_trail"));
  if (!o.quantity || Number.isNaN(o.quantity)) {
    out.push(t("p_qty"));
  } else {
    if (o.mode !== "normal" && o.quantity % lot) out.push(t("p_whole", volume(o.quantity), lot));
    else if (o.quantity >= lot && o.quantity % lot) out.push(t("p_lot", volume(o.quantity), lot));
    if (m.slices) {
      const most = Math.max(1, Math.min(1000, Math.floor(o.quantity / lot)));
      if (!o.slices || Number.isNaN(o.slices) || o.slices > most) out.push(t("p_slices", most));
      if (!o.minutes || Number.isNaN(o.minutes) || o.minutes > 10080) out.push(t("p_minutes"));
    }
    if (m.display && (!o.display || Number.isNaN(o.display) || o.display % lot || o.display > o.quantity)) {
      out.push(t("p_display", lot));
    }
    if (rules.max_order_quantity && o.quantity > rules.max_order_quantity) {
      out.push(t("p_max_qty", volume(o.quantity), volume(rules.max_order_quantity)));
    }
    if (preview && o.side === "buy" && preview.max_buy !== null && preview.max_buy !== undefined && o.quantity > preview.max_buy) {
      out.push(t("p_max_buy", volume(o.quantity), volume(preview.max_buy)));
    }
    if (preview && o.side === "sell" && preview.max_sell !== null && preview.max_sell !== undefined && o.quantity > preview.max_sell) {
      out.push(t("p_max_sell", volume(o.quantity), volume(preview.max_sell)));
    }
  }
  return out;
}

function setSide(side) {
  ticket.side = side;
  $("t-buy").setAttribute("aria-pressed", String(side === "buy"));
  $("t-sell").setAttribute("aria-pressed", String(side === "sell"));
  $("ticket").dataset.side = side;
  $("t-send").textContent = t(side === "buy" ? "send_buy" : "send_sell");
  askPreview();
}

/** A new symbol in the ticket: its price suggested from the book, its rules fetched. */
function openTicket(row) {
  const changed = ticket.symbol !== row.symbol;
  ticket.symbol = row.symbol;
  if (changed) {
    ticket.rules = ticket.preview = null;
    $("t-qty").value = "";
    const best = ticket.side === "buy" ? row.asks?.[0]?.[0] : row.bids?.[0]?.[0];
    const p = best || row.last || row.ref;
    $("t-price").value = p ? (p / 1000).toFixed(2) : "";
    $("t-result").textContent = "";
  }
  askPreview(0);
}

/** Asks for a preview of the order as typed, after `wait` ms without typing. */
function askPreview(wait = 120) {
  clearTimeout(ticket.timer);
  renderTicket();
  if (!ticket.symbol || !account()) return;
  ticket.timer = setTimeout(async () => {
    const o = readTicket();
    // A conditional is costed at its limit, else its trigger.
    const at = [o.price, o.trigger].find((p) => p && !Number.isNaN(p));
    const body = {
      account: o.account, symbol: o.symbol, side: o.side, order_type: o.order_type,
      price: at, quantity: o.quantity && !Number.isNaN(o.quantity) ? o.quantity : undefined,
    };
    const asked = ++ticket.asked;
    const key = JSON.stringify(body);
    const r = await call(`${API}${PORTAL_PREVIEW}`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: key,
    });
    if (asked < ticket.answered || o.symbol !== ticket.symbol) return;
    ticket.answered = asked;
    if (r.ok) {
      ticket.preview = r.body;
      ticket.rules = r.body.rules;
      ticket.askedFor = key;
      fillTypes();
      // The risk service did not answer (starting, catching up with the bus): ask again
      // shortly, so the ticket recovers without the trader retyping.
      if (r.body.risk_error) askPreview(2000);
    } else {
      ticket.preview = null;
      ticket.askedFor = "";
      $("t-result").textContent = r.body.message || `HTTP ${r.status}`;
    }
    renderTicket();
  }, wait);
}

/** The order types, those the exchange does not take now disabled. */
function fillTypes() {
  const sel = $("t-type");
  const chosen = sel.value || "LO";
  const main = ticket.rules?.boards.find((b) => b.board === "main");
  sel.replaceChildren(...ORDER_TYPES.map((ty) => {
    const o = new Option(ty, ty, false, ty === chosen);
    if (main && !main.order_types.includes(ty)) o.disabled = true;
    return o;
  }));
}

function renderTicket() {
  const o = readTicket();
  const rules = ticket.rules;
  const p = ticket.preview;
  const m = MODES[o.mode];
  $("t-price-box").hidden = o.price === null;
  $("t-type-box").hidden = o.mode !== "normal";
  $("t-trigger-box").hidden = !m.trigger;
  $("t-trail-box").hidden = !m.trail;
  $("t-slices-box").hidden = $("t-minutes-box").hidden = !m.slices;
  $("t-display-box").hidden = !m.display;
  if (rules) {
    const tick = o.price && !Number.isNaN(o.price) ? tickAt(rules, o.price) : rules.tick_at_price;
    const main = rules.boards.find((b) => b.board === "main");
    $("t-facts").textContent = [
      `${t("ceil")} ${price(rules.ceiling)}`, `${t("ref")} ${price(rules.reference)}`, `${t("floor")} ${price(rules.floor)}`,
      `${t("tick")} ${tick || ""}`, `${t("lot")} ${rules.lot_size}`, `${t("phase")} ${main ? phase(main.phase) : ""}`,
    ].join(" · ");
  }
  const costs = [];
  if (p) {
    costs.push([t("max_buy"), volume(p.max_buy) || "0"], [t("max_sell"), volume(p.max_sell) || "0"]);
    if (p.cost) {
      costs.push([t("gross"), money(p.cost.gross_value)], [t("fee"), money(p.cost.brokerage + p.cost.exchange_fee)],
        [t("tax"), money(p.cost.tax)], [t(o.side === "buy" ? "total" : "proceeds"), money(Math.abs(p.cost.net_cash))]);
    }
  }
  showFacts($("t-costs"), costs);
  // The max quantities fill the quantity (whole lots) when clicked.
  const lot = rules?.lot_size || 1;
  for (const [i, most] of [[1, p?.max_buy], [3, p?.max_sell]]) {
    const dd = $("t-costs").children[i];
    if (!dd || !most) continue;
    const b = document.createElement("button");
    b.type = "button";
    b.className = "linklike";
    b.textContent = dd.textContent;
    b.title = t("use_max");
    b.addEventListener("click", () => {
      $("t-qty").value = String(Math.floor(most / lot) * lot);
      askPreview();
    });
    dd.replaceChildren(b);
  }
  let problems = localProblems(o, rules, p);
  const current = p && ticket.askedFor && JSON.parse(ticket.askedFor);
  const at = [o.price, o.trigger].find((x) => x && !Number.isNaN(x));
  const fresh = current && current.symbol === o.symbol && current.side === o.side && current.order_type === o.order_type
    && current.price === at && current.quantity === o.quantity && current.account === o.account;
  if (!problems.length && p) {
    if (!p.accepting) problems.push(`${t("p_closed")}${p.reason ? `: ${p.reason}` : ""}`);
    // A regular order is checked now; a conditional when it fires, an algorithm's slices each.
    if (o.mode === "normal") {
      if (p.verdict && !p.verdict.accepted) problems = p.verdict.rejections.map((r) => `${r.rule}: ${r.message}`);
      if (p.risk_error) problems.push(p.risk_error);
    }
  }
  if (!o.account) problems = [t("no_account")];
  const needsOtp = p && !p.session_open && !p.session_renews_itself;
  $("t-otp").hidden = !needsOtp;
  if (needsOtp) problems.push(t("p_session"));
  $("t-problems").replaceChildren(...problems.map((text) => {
    const li = document.createElement("li");
    li.textContent = text;
    return li;
  }));
  $("ticket").dataset.problems = String(problems.length);
  $("t-send").disabled = !(fresh && !problems.length && (o.mode !== "normal" || p.verdict?.accepted));
}

function stepPrice(dir) {
  const rules = ticket.rules;
  const o = readTicket();
  if (!rules || o.price === null) return;
  let p = o.price && !Number.isNaN(o.price) ? o.price : rules.reference || 0;
  const tick = tickAt(rules, dir > 0 ? p : Math.max(0, p - 1));
  p = dir > 0 ? Math.floor(p / tick) * tick + tick : Math.ceil(p / tick) * tick - tick;
  if (rules.ceiling) p = Math.min(p, rules.ceiling);
  if (rules.floor) p = Math.max(p, rules.floor);
  $("t-price").value = (p / 1000).toFixed(2);
  askPreview();
}

function stepQty(dir) {
  const lot = ticket.rules?.lot_size || 100;
  const q = readTicket().quantity || 0;
  const next = dir > 0 ? Math.floor(q / lot) * lot + lot : Math.max(0, Math.ceil(q / lot) * lot - lot);
  $("t-qty").value = next ? String(next) : "";
  askPreview();
}

/** Asks the trader to confirm in a dialog: true when they do. */
function confirmOrder(text) {
  return new Promise((done) => {
    const dialog = $("confirm");
    $("confirm-text").textContent = text;
    dialog.addEventListener("close", () => done(dialog.returnValue === "ok"), { once: true });
    dialog.showModal();
    $("confirm-ok").focus();
  });
}

async function sendOrder(e) {
  e.preventDefault();
  renderTicket();
  if ($("t-send").disabled) return;
  const o = readTicket();
  const p = ticket.preview;
  const m = MODES[o.mode];
  const kind = o.mode === "normal" ? (o.order_type === "LO" ? `@ ${price(o.price)}` : o.order_type)
    : `${t(`m_${o.mode}`)}${o.trigger ? ` ${t("trigger")} ${price(o.trigger)}` : ""}${o.price ? ` @ ${price(o.price)}` : ""}`
      + `${o.trail ? ` ±${price(o.trail)}` : ""}`;
  const what = `${t(o.side)} ${volume(o.quantity)} ${o.symbol} ${kind}`
    + (p.cost ? ` · ${t("gross")} ${money(p.cost.gross_value)} · ${t("fee")} ${money(p.cost.brokerage + p.cost.exchange_fee)}`
      + ` · ${t("tax")} ${money(p.cost.tax)}` : "") + ` · ${o.account}`;
  if (!(await confirmOrder(what))) return;
  $("t-send").disabled = true;
  const body = {
    client_id: `web-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
    account: o.account, symbol: o.symbol, side: o.side, quantity: o.quantity,
  };
  let path = "orders";
  if (m.conditional) {
    path = "conditionals";
    Object.assign(body, { kind: o.mode, trigger_price: o.trigger || undefined, limit_price: o.price || undefined,
      trail_amount: o.trail || undefined });
  } else if (m.algo) {
    path = "algos";
    Object.assign(body, { kind: o.mode, price: o.price });
    if (m.slices) {
      // The algorithm's times are in the market's clock (the simulator's may run fast).
      const start = Date.parse(ticket.rules?.at || "") || Date.now();
      Object.assign(body, { slices: o.slices, end_at: new Date(start + o.minutes * 60000).toISOString() });
    } else {
      body.display = o.display;
    }
  } else {
    body.order_type = o.order_type;
    if (o.order_type === "LO") body.price = o.price;
  }
  const r = await call(`${OMS}/${path}`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const result = $("t-result");
  if (r.ok && r.body.status !== "rejected") {
    result.textContent = `${t("sent")}: ${what} (${r.body.status})`;
    result.className = "result ok";
  } else {
    result.textContent = `${t("refused")}: ${r.body.reject_reason || r.body.message || `HTTP ${r.status}`}`;
    result.className = "result bad";
  }
  result.dataset.order = r.body.id || r.body.client_id || "";
  askPreview(0);
  loadMine(o.symbol).catch((err) => console.warn("orders", err));
}

async function otpSend() {
  const r = await call(`${OMS}/session/otp`, { method: "POST" });
  $("t-result").textContent = r.ok ? `${t("otp_sent")}: ${r.body.message || ""}` : r.body.message;
}

async function otpLogin() {
  const code = $("t-otp-code").value.trim();
  const r = await call(`${OMS}/session/login`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ code }),
  });
  $("t-otp-code").value = "";
  $("t-result").textContent = r.ok ? "" : r.body.message;
  askPreview(0);
}

function setupTicket() {
  $("t-buy").addEventListener("click", () => setSide("buy"));
  $("t-sell").addEventListener("click", () => setSide("sell"));
  $("t-price-up").addEventListener("click", () => stepPrice(1));
  $("t-price-down").addEventListener("click", () => stepPrice(-1));
  $("t-qty-up").addEventListener("click", () => stepQty(1));
  $("t-qty-down").addEventListener("click", () => stepQty(-1));
  for (const id of ["t-price", "t-qty"]) {
    $(id).addEventListener("input", () => askPreview());
    $(id).addEventListener("keydown", (e) => {
      if (e.key !== "ArrowUp" && e.key !== "ArrowDown") return;
      e.preventDefault();
      (id === "t-price" ? stepPrice : stepQty)(e.key === "ArrowUp" ? 1 : -1);
    });
  }
  $("t-type").addEventListener("change", () => askPreview(0));
  $("t-mode").addEventListener("change", () => askPreview(0));
  for (const id of ["t-trigger", "t-trail", "t-slices", "t-minutes", "t-display"]) {
    $(id).addEventListener("input", () => askPreview());
  }
  $("ticket").addEventListener("submit", sendOrder);
  $("t-otp-send").addEventListener("click", otpSend);
  $("t-otp-login").addEventListener("click", otpLogin);
  fillTypes();
}

/** Keyboard: B / F1 buy, S / F2 sell (the ticket, price focused), Esc leaves the ticket, C or
 * Delete cancels the focused working order, / goes to the board's filter. */
function setupKeys() {
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || $("confirm").open) return;
    const typing = ["INPUT", "SELECT", "TEXTAREA"].includes(e.target.tagName);
    const key = e.key;
    if (key === "F1" || key === "F2" || (!typing && (key === "b" || key === "s"))) {
      if (!ticket.symbol) return;
      e.preventDefault();
      setSide(key === "F1" || key === "b" ? "buy" : "sell");
      $(readTicket().price !== null ? "t-price" : "t-qty").focus();
    } else if (key === "Escape" && typing && $("ticket").contains(e.target)) {
      e.target.blur();
    } else if (!typing && (key === "c" || key === "Delete") && e.target.dataset?.orderId) {
      e.preventDefault();
      cancelOrder(e.target.dataset.orderId);
    } else if (!typing && key === "/" && !$("boardview").hidden) {
      e.preventDefault();
      $("filter").focus();
    }
  });
}

// ---- orders ---------------------------------------------------------------------------------------

function cell(text, cls = "") {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

function emptyRow(table, columns) {
  const tr = document.createElement("tr");
  const td = cell(t("no_rows"), "muted");
  td.colSpan = columns;
  tr.append(td);
  return tr;
}

const sideCell = (side) => cell(t(side === "buy" ? "buy" : "sell"), side === "buy" ? "up" : "down");
const WORKING = ["pending_new", "new", "partially_filled"];

async function cancelOrder(id) {
  const r = await call(`${OMS}/orders/${encodeURIComponent(id)}`, { method: "DELETE" });
  setStatus(r.ok ? `${t("cancel_sent")}: ${id}` : `${t("refused")}: ${r.body.message}`, !r.ok);
  if (!$("ordersview").hidden) loadOrders().catch(() => {});
  if (view.symbol) loadMine(view.symbol).catch(() => {});
}

function amendRow(tr, o) {
  const priceInput = document.createElement("input");
  priceInput.value = o.price ? (o.price / 1000).toFixed(2) : "";
  priceInput.setAttribute("aria-label", t("price"));
  priceInput.className = "amend-price";
  const qtyInput = document.createElement("input");
  qtyInput.value = String(o.quantity);
  qtyInput.setAttribute("aria-label", t("qty"));
  qtyInput.className = "amend-qty";
  tr.cells[4].replaceChildren(priceInput);
  tr.cells[5].replaceChildren(qtyInput);
  const save = document.createElement("button");
  save.type = "button";
  save.textContent = t("save");
  save.className = "save";
  save.addEventListener("click", async () => {
    const p = parsePrice(priceInput.value);
    const q = Number(qtyInput.value.replaceAll(",", ""));
    const change = {};
    if (o.price && p !== o.price) change.price = p;
    if (q !== o.quantity) change.quantity = q;
    if (Object.keys(change).length !== 1) {
      setStatus(t("one_change"), true);
      return;
    }
    const r = await call(`${OMS}/orders/${encodeURIComponent(o.id)}`, {
      method: "PATCH", headers: { "Content-Type": "application/json" }, body: JSON.stringify(change),
    });
    setStatus(r.ok ? `${t("amend_sent")}: ${o.id}` : `${t("refused")}: ${r.body.message}`, !r.ok);
    state.amending = null;
    // The row shows inputs: drawn again whatever the answer.
    $("working").dataset.json = "";
    loadOrders().catch(() => {});
  });
  tr.cells[8].replaceChildren(save);
  priceInput.focus();
}

async function loadOrders() {
  const a = $("o-account").value;
  if (!a) return;
  const q = `account=${encodeURIComponent(a)}&limit=100`;
  const [open, all, fills, conditionals, algos] = await Promise.all([
    call(`${OMS}/orders?${q}&open=true`), call(`${OMS}/orders?${q}`), call(`${OMS}/fills?${q}`),
    call(`${OMS}/conditionals?${q}`), call(`${OMS}/algos?${q}`),
  ]);
  if ($("ordersview").hidden) return;
  // Rows that did not change are not drawn again (a button being clicked stays).
  const same = (id, body) => {
    const text = JSON.stringify(body);
    if ($(id).dataset.json === text) return true;
    $(id).dataset.json = text;
    return false;
  };
  if (conditionals.ok && algos.ok && !same("held", [conditionals.body, algos.body])) {
    const held = [
      ...conditionals.body.map((c) => ({
        path: "conditionals", id: c.client_id, at: c.created_at, symbol: c.symbol, side: c.side, kind: c.kind,
        trigger: c.trigger_price ? price(c.trigger_price) : c.trail_amount ? `±${price(c.trail_amount)}` : c.trail_bps ? `±${c.trail_bps / 100}%` : "",
        price: c.limit_price ? price(c.limit_price) : "", quantity: c.quantity,
        progress: c.fired_at_price ? `@ ${price(c.fired_at_price)}` : c.extreme ? `${price(c.extreme)}` : "",
        status: c.status, live: c.status === "active",
      })),
      ...algos.body.map((a) => ({
        path: "algos", id: a.client_id, at: a.created_at, symbol: a.symbol, side: a.side, kind: a.kind, trigger: "",
        price: price(a.price), quantity: a.quantity,
        progress: `${a.slices_placed}/${a.slice_quantities.length || a.slices || ""}`, status: a.status, live: a.status === "active",
      })),
    ].sort((x, y) => y.at.localeCompare(x.at));
    $("held").tBodies[0].replaceChildren(...(held.length ? held.map((h) => {
      const tr = document.createElement("tr");
      tr.dataset.heldId = h.id;
      tr.dataset.status = h.status;
      tr.append(cell(clockVN(Date.parse(h.at))), cell(h.symbol), sideCell(h.side), cell(t(`m_${h.kind}`) === `m_${h.kind}` ? h.kind.toUpperCase() : t(`m_${h.kind}`)),
        cell(h.trigger), cell(h.price), cell(volume(h.quantity)), cell(h.progress), cell(h.status));
      const actions = document.createElement("td");
      if (h.live) {
        const cancel = document.createElement("button");
        cancel.type = "button";
        cancel.textContent = t("cancel");
        cancel.className = "cancel";
        cancel.addEventListener("click", async () => {
          const r = await call(`${OMS}/${h.path}/${encodeURIComponent(h.id)}`, { method: "DELETE" });
          setStatus(r.ok ? `${t("cancel_sent")}: ${h.id}` : `${t("refused")}: ${r.body.message}`, !r.ok);
          loadOrders().catch(() => {});
        });
        actions.append(cancel);
      }
      tr.append(actions);
      return tr;
    }) : [emptyRow("held", 10)]));
    $("held").dataset.loaded = String(held.length);
  }
  // An amendment being typed is not overwritten by the refresh.
  if (!state.amending && open.ok && !same("working", open.body)) {
    const body = $("working").tBodies[0];
    body.replaceChildren(...(open.body.length ? open.body.map((o) => {
      const tr = document.createElement("tr");
      tr.tabIndex = 0;
      tr.dataset.orderId = o.id;
      tr.append(cell(clockVN(Date.parse(o.created_at))), cell(o.symbol), sideCell(o.side), cell(o.order_type),
        cell(o.price ? price(o.price) : ""), cell(volume(o.quantity)), cell(volume(o.filled) || "0"),
        cell(o.pending ? `${o.status} (${o.pending})` : o.status));
      const actions = document.createElement("td");
      const amend = document.createElement("button");
      amend.type = "button";
      amend.textContent = t("amend");
      amend.className = "amend";
      amend.addEventListener("click", () => { state.amending = o.id; amendRow(tr, o); });
      const cancel = document.createElement("button");
      cancel.type = "button";
      cancel.textContent = t("cancel");
      cancel.className = "cancel";
      cancel.addEventListener("click", () => cancelOrder(o.id));
      actions.append(amend, " ", cancel);
      tr.append(actions);
      return tr;
    }) : [emptyRow("working", 9)]));
    $("working").dataset.loaded = String(open.body.length);
  }
  if (all.ok) {
    $("allorders").tBodies[0].replaceChildren(...(all.body.length ? all.body.map((o) => {
      const tr = document.createElement("tr");
      tr.dataset.orderId = o.id;
      tr.dataset.status = o.status;
      tr.append(cell(clockVN(Date.parse(o.created_at))), cell(o.symbol), sideCell(o.side), cell(o.order_type),
        cell(o.price ? price(o.price) : ""), cell(volume(o.quantity)), cell(volume(o.filled) || "0"),
        cell(o.avg_price ? price(o.avg_price) : ""), cell(o.reject_reason ? `${o.status}: ${o.reject_reason}` : o.status));
      return tr;
    }) : [emptyRow("allorders", 9)]));
    $("allorders").dataset.loaded = String(all.body.length);
  }
  if (fills.ok) {
    $("fills").tBodies[0].replaceChildren(...(fills.body.length ? fills.body.map((f) => {
      const tr = document.createElement("tr");
      tr.dataset.orderId = f.order_id;
      tr.append(cell(clockVN(Date.parse(f.time))), cell(f.symbol), sideCell(f.side), cell(price(f.price)),
        cell(volume(f.quantity)), cell(money(f.price * f.quantity)));
      return tr;
    }) : [emptyRow("fills", 6)]));
    $("fills").dataset.loaded = String(fills.body.length);
  }
}

// ---- portfolio ------------------------------------------------------------------------------------

const pnlClass = (v) => (v > 0 ? "up" : v < 0 ? "down" : "");

/** A chart of daily values in `el` (the NAV, a backtest's equity), in the page's colours. */
async function dayChart(el) {
  const lwc = await import("/api/portal/assets/lightweight-charts.mjs");
  const css = getComputedStyle(document.documentElement);
  const chart = lwc.createChart(el, {
    autoSize: true,
    layout: { background: { color: css.getPropertyValue("--bg").trim() }, textColor: css.getPropertyValue("--fg").trim() },
    grid: { vertLines: { visible: false }, horzLines: { color: css.getPropertyValue("--line").trim() } },
  });
  return { lwc, chart };
}

const navView = { chart: null, series: null, account: null };

/** The account's NAV by day (the OMS values it through the day and keeps each day's last). */
async function loadNav(path, account) {
  // Valued now the first time the page shows the account, then as the OMS values it.
  const fresh = navView.account !== account;
  const r = await call(`${path}/nav${fresh ? "?refresh=true" : ""}`);
  if (!r.ok || $("portfolioview").hidden) return null;
  if (fresh || !navView.chart) {
    if (navView.chart) navView.chart.remove();
    const { lwc, chart } = await dayChart($("p-nav"));
    navView.chart = chart;
    navView.series = navView.chart.addSeries(lwc.AreaSeries, {
      lineColor: "#5aa9ff", topColor: "rgba(90,169,255,0.35)", bottomColor: "rgba(90,169,255,0.02)", lineWidth: 2,
    });
    navView.account = account;
  }
  navView.series.setData(r.body.map((d) => ({ time: d.day, value: d.nav })));
  navView.chart.timeScale().fitContent();
  $("p-nav").dataset.points = String(r.body.length);
  return r.body[r.body.length - 1];
}

async function loadPortfolio() {
  const a = $("p-account").value;
  if (!a) return;
  const path = `${OMS}/accounts/${encodeURIComponent(a)}`;
  const [book, cash, positions, navNow] = await Promise.all([
    call(`${path}/portfolio`), call(`${path}/balance`), call(`${path}/positions`),
    loadNav(path, a).catch((e) => console.warn("nav", e)),
  ]);
  if ($("portfolioview").hidden) return;
  if (positions.ok) {
    $("positions").tBodies[0].replaceChildren(...(positions.body.length ? positions.body.map((p) => {
      const last = state.rows.get(p.symbol)?.last || p.avg_price || 0;
      const tr = document.createElement("tr");
      tr.dataset.symbol = p.symbol;
      tr.append(cell(p.symbol), cell(volume(p.quantity) || "0"), cell(volume(p.sellable) || "0"),
        cell(p.avg_price ? price(p.avg_price) : ""), cell(price(last)), cell(money(last * p.quantity)));
      return tr;
    }) : [emptyRow("positions", 6)]));
  }
  let marketValue = 0, unrealised = 0, realised = 0;
  if (book.ok) {
    const held = book.body.filter((h) => h.quantity > 0 || h.realised);
    $("holdings").tBodies[0].replaceChildren(...(held.length ? held.map((h) => {
      const value = (h.last || 0) * h.quantity;
      marketValue += value;
      unrealised += h.unrealised || 0;
      realised += h.realised;
      const tr = document.createElement("tr");
      tr.dataset.symbol = h.symbol;
      const link = document.createElement("a");
      link.href = `#/s/${h.symbol}`;
      link.textContent = h.strategy ? `${h.symbol} (${h.strategy})` : h.symbol;
      const sym = cell("");
      sym.append(link);
      // Index futures: the signed net position (a short is below zero).
      const held = h.net ? h.net.toLocaleString("en-US") : volume(h.quantity) || "0";
      tr.append(sym, cell(held, h.net < 0 ? "down" : ""), cell(volume(h.sellable) || "0"), cell(volume(h.settling_t0) || "0"),
        cell(volume(h.settling_t1) || "0"), cell(volume(h.settling_t2) || "0"), cell(h.avg_cost ? price(h.avg_cost) : ""),
        cell(h.last ? price(h.last) : ""), cell(money(value)), cell(money(h.unrealised), pnlClass(h.unrealised)),
        cell(money(h.realised), pnlClass(h.realised)), cell(money(h.fees)), cell(money(h.tax)));
      return tr;
    }) : [emptyRow("holdings", 13)]));
    $("holdings").dataset.loaded = String(held.length);
  }
  const facts = [];
  if (cash.ok) {
    facts.push([t("cash"), money(cash.body.cash)], [t("buying_power"), money(cash.body.buying_power)],
      [t("withdrawable"), money(cash.body.withdrawable)]);
    // Every position at the broker, as the OMS values the account (not only QTS's own).
    if (navNow) facts.push([t("nav"), money(navNow.nav)]);
  } else {
    facts.push([t("cash"), cash.body.message || ""]);
  }
  facts.push([t("market_value"), money(marketValue)], [t("unrealised"), money(unrealised)], [t("realised"), money(realised)]);
  showFacts($("p-summary"), facts, true);
}

// ---- notifications: the inbox and the settings -------------------------------------------------------
// The notification service's API with the user's token: the inbox (newest first; read one by one or
// all at once) and the preferences that decide which events reach the user and by which channels.
// The service checks every field again and names the one at fault.

const NOTIFY = "/api/notification/v1";
const EVENT_KINDS = ["order", "risk", "account", "alert", "prediction", "sentiment", "system", "ops"];
const CHANNELS = ["inbox", "email", "telegram", "webhook", "sms"];
const notes = { webhooks: [], timer: 0 };

/** A time in the market's clock (Vietnam), as the trader reads it. */
const vnTime = (iso) => new Date(iso).toLocaleString(state.lang === "en" ? "en-GB" : "vi-VN",
  { timeZone: "Asia/Ho_Chi_Minh", day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });

/** The unread count on the menu; asked again every 20 s and soon after each order event. */
async function loadUnread() {
  const r = await call(`${NOTIFY}/inbox/unread`);
  const badge = $("unread-badge");
  const n = r.ok ? r.body.count : 0;
  badge.hidden = n === 0;
  badge.textContent = n > 99 ? "99+" : String(n);
  badge.setAttribute("aria-label", t("unread", n));
  $("inbox-link").dataset.unread = String(n);
}

/** Asks for the unread count in `ms`, then every 20 s; a newer call replaces the pending one. */
function scheduleUnread(ms) {
  clearTimeout(notes.timer);
  notes.timer = setTimeout(async () => {
    notes.timer = 0;
    await loadUnread().catch(() => {});
    // Unless a newer call scheduled the next one while this one was asking.
    if (!notes.timer) scheduleUnread(20000);
  }, ms);
}

const followUnread = () => scheduleUnread(0);
/** A fill becomes a message within about a second: ask again soon after an order event. */
const unreadSoon = () => scheduleUnread(1500);

async function loadInbox() {
  const unreadOnly = $("n-unread").checked;
  const r = await call(`${NOTIFY}/inbox?limit=100${unreadOnly ? "&unread=true" : ""}`);
  if ($("inboxview").hidden) return;
  if (!r.ok) {
    setStatus(r.body.message || `HTTP ${r.status}`, true);
    return;
  }
  const items = r.body;
  $("n-items").tBodies[0].replaceChildren(...(items.length ? items.map((m) => {
    const tr = document.createElement("tr");
    tr.dataset.id = m.id;
    tr.dataset.kind = m.kind;
    tr.classList.toggle("unread", !m.read_at);
    const body = cell(m.body, "text");
    tr.append(cell(vnTime(m.created_at)), cell(t(`ev_${m.kind}`)), cell(t(`sev_${m.severity}`), `sev-${m.severity}`),
      cell(m.subject, "text"), body);
    const actions = cell("");
    if (!m.read_at) {
      actions.append(button(t("mark_read"), "amend", async () => {
        const a = await call(`${NOTIFY}/inbox/${encodeURIComponent(m.id)}/read`, { method: "POST" });
        if (!a.ok) setStatus(`${t("refused")}: ${a.body.message}`, true);
        await Promise.all([loadInbox(), loadUnread()]).catch(() => {});
      }));
    }
    tr.append(actions);
    return tr;
  }) : [emptyRow("n-items", 6)]));
  $("n-items").dataset.loaded = String(items.length);
  const unread = items.filter((m) => !m.read_at).length;
  $("n-count").textContent = t("unread", unread);
}

/** A row of the webhook table: name, URL, kind and a secret that is only ever typed, never shown. */
function webhookRow(w) {
  const tr = document.createElement("tr");
  const input = (value, label, attrs = {}) => {
    const td = document.createElement("td");
    const el = document.createElement("input");
    el.value = value;
    el.setAttribute("aria-label", label);
    Object.assign(el, attrs);
    td.append(el);
    return td;
  };
  const kind = document.createElement("select");
  kind.setAttribute("aria-label", t("wh_kind"));
  kind.replaceChildren(...["generic", "discord", "slack"].map((k) => new Option(k, k, false, k === w.kind)));
  const kindCell = document.createElement("td");
  kindCell.append(kind);
  const secret = input("", t("wh_secret"), { type: "password", autocomplete: "new-password", maxLength: 256,
    placeholder: w.secret_set ? "••••••••" : "" });
  tr.append(input(w.name, t("wh_name"), { maxLength: 40, className: "name" }),
    input(w.url, t("wh_url"), { type: "url", maxLength: 2000, className: "url" }), kindCell, secret);
  const actions = cell("");
  actions.append(button(t("remove"), "cancel", () => { tr.remove(); reachable(); }));
  tr.append(actions);
  return tr;
}

/** Greys out the channels whose contact is not filled in: the service refuses them. */
function reachable() {
  const has = {
    inbox: true, email: $("n-email").value.trim() !== "", telegram: $("n-telegram").value.trim() !== "",
    sms: $("n-phone").value.trim() !== "", webhook: $("n-webhooks").tBodies[0].children.length > 0,
  };
  for (const box of $("n-events").querySelectorAll("input[data-channel]")) {
    box.disabled = !has[box.dataset.channel];
    if (box.disabled) box.checked = false;
  }
}

function showPreferences(p) {
  $("n-language").value = p.language;
  $("n-email").value = p.email || "";
  $("n-telegram").value = p.telegram_chat_id || "";
  $("n-phone").value = p.phone || "";
  $("n-symbols").value = p.symbols.join(", ");
  $("n-quiet").checked = Boolean(p.quiet_hours);
  if (p.quiet_hours) {
    $("n-quiet-start").value = p.quiet_hours.start;
    $("n-quiet-end").value = p.quiet_hours.end;
  }
  const head = $("n-events").tHead.rows[0];
  head.replaceChildren(head.cells[0], ...CHANNELS.map((c) => {
    const th = document.createElement("th");
    th.dataset.channel = c;
    return th;
  }));
  $("n-events").tBodies[0].replaceChildren(...EVENT_KINDS.map((kind) => {
    const tr = document.createElement("tr");
    tr.dataset.kind = kind;
    tr.append(cell("", "text"));
    for (const c of CHANNELS) {
      const td = document.createElement("td");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.dataset.channel = c;
      box.checked = (p.events[kind] || []).includes(c);
      td.append(box);
      tr.append(td);
    }
    return tr;
  }));
  $("n-webhooks").tBodies[0].replaceChildren(...p.webhooks.map(webhookRow));
  labelPreferences();
  reachable();
}

/** The settings' generated labels in the page's language (again after a switch). */
function labelPreferences() {
  for (const th of $("n-events").tHead.querySelectorAll("th[data-channel]")) th.textContent = t(`ch_${th.dataset.channel}`);
  for (const tr of $("n-events").tBodies[0].rows) {
    tr.cells[0].textContent = t(`ev_${tr.dataset.kind}`);
    for (const box of tr.querySelectorAll("input[data-channel]")) {
      box.setAttribute("aria-label", `${t(`ev_${tr.dataset.kind}`)}: ${t(`ch_${box.dataset.channel}`)}`);
    }
  }
}

async function loadPreferences() {
  const r = await call(`${NOTIFY}/preferences`);
  if (!r.ok) {
    $("n-problem").textContent = r.body.message || `HTTP ${r.status}`;
    return;
  }
  $("n-problem").textContent = "";
  showPreferences(r.body);
  $("n-form").dataset.loaded = "true";
}

/** The form as the service's preferences body. */
function preferencesBody() {
  const events = {};
  for (const tr of $("n-events").tBodies[0].rows) {
    events[tr.dataset.kind] = [...tr.querySelectorAll("input[data-channel]:checked")].map((b) => b.dataset.channel);
  }
  const webhooks = [...$("n-webhooks").tBodies[0].rows].map((tr) => {
    const [name, url, secret] = [...tr.querySelectorAll("input")].map((i) => i.value.trim());
    return { name, url, kind: tr.querySelector("select").value, ...(secret ? { secret } : {}) };
  });
  const symbols = $("n-symbols").value.split(/[\s,;]+/).map((x) => x.trim().toUpperCase()).filter(Boolean);
  return {
    language: $("n-language").value, email: $("n-email").value.trim(),
    telegram_chat_id: $("n-telegram").value.trim(), phone: $("n-phone").value.trim(),
    webhooks, events, symbols,
    quiet_hours: $("n-quiet").checked ? { start: $("n-quiet-start").value, end: $("n-quiet-end").value } : null,
  };
}

async function savePreferences(e) {
  e.preventDefault();
  const r = await call(`${NOTIFY}/preferences`, {
    method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(preferencesBody()),
  });
  $("n-problem").textContent = r.ok ? "" : r.body.message || `HTTP ${r.status}`;
  if (r.ok) {
    showPreferences(r.body);
    setStatus(t("n_saved"));
    $("n-form").dataset.saved = String(Number($("n-form").dataset.saved || 0) + 1);
  }
}

function setupNotifications() {
  $("n-unread").addEventListener("change", () => loadInbox().catch((e) => console.warn("inbox", e)));
  $("n-read-all").addEventListener("click", async () => {
    const r = await call(`${NOTIFY}/inbox/read`, { method: "POST" });
    if (!r.ok) setStatus(`${t("refused")}: ${r.body.message}`, true);
    await Promise.all([loadInbox(), loadUnread()]).catch(() => {});
  });
  $("n-form").addEventListener("submit", savePreferences);
  $("n-webhook-add").addEventListener("click", () => {
    $("n-webhooks").tBodies[0].append(webhookRow({ name: "", url: "https://", kind: "generic", secret_set: false }));
    reachable();
  });
  $("n-symbols-watch").addEventListener("click", () => { $("n-symbols").value = [...state.watch].join(", "); });
  for (const id of ["n-email", "n-telegram", "n-phone"]) $(id).addEventListener("input", reachable);
}

// ---- strategies ------------------------------------------------------------------------------------

const DECISION = "/api/decision/v1";

function button(text, cls, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  b.className = cls;
  b.addEventListener("click", onClick);
  return b;
}

/** An editor of a strategy's timeframes, symbols and sizing (JSON, as in the settings) under
 * its row; the decision engine checks them and names every problem. */
function editParams(tr, st) {
  state.editingStrategy = st.id;
  if (tr.nextElementSibling?.classList.contains("params")) tr.nextElementSibling.remove();
  const row = document.createElement("tr");
  row.className = "params";
  const td = document.createElement("td");
  td.colSpan = 10;
  const field = (label, value, cls) => {
    const l = document.createElement("label");
    const input = document.createElement(cls === "p-sizing" ? "textarea" : "input");
    input.className = cls;
    input.value = value;
    l.append(`${label} `, input);
    return l;
  };
  const form = document.createElement("div");
  form.className = "filters";
  form.append(field(t("timeframes"), st.timeframes.join(","), "p-timeframes"),
    field(t("symbols_all"), st.symbols.join(","), "p-symbols"),
    field(t("sizing"), JSON.stringify(st.sizing), "p-sizing"));
  const list = (cls) => form.querySelector(cls).value.split(",").map((x) => x.trim()).filter(Boolean);
  form.append(button(t("save"), "save", async () => {
    let sizing;
    try {
      sizing = JSON.parse(form.querySelector(".p-sizing").value);
    } catch (e) {
      setStatus(`${t("sizing")}: ${e.message}`, true);
      return;
    }
    const r = await call(`${DECISION}/strategies/${encodeURIComponent(st.id)}/params`, {
      method: "PUT", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ timeframes: list(".p-timeframes"), symbols: list(".p-symbols").map((x) => x.toUpperCase()), sizing }),
    });
    setStatus(r.ok ? `${st.id}: ${t("saved")}` : `${t("refused")}: ${r.body.message}`, !r.ok);
    if (r.ok) {
      state.editingStrategy = null;
      loadStrategies().catch(() => {});
    }
  }), button(t("back_out"), "amend", () => {
    state.editingStrategy = null;
    row.remove();
  }));
  td.append(form);
  row.append(td);
  tr.after(row);
}

async function loadStrategies() {
  const [list, decisions] = await Promise.all([call(`${DECISION}/strategies`), call(`${DECISION}/decisions?limit=50`)]);
  if ($("strategiesview").hidden) return;
  // A parameter editor open stays until saved or closed.
  if (list.ok && !state.editingStrategy) {
    const perf = await Promise.all(list.body.map((st) => call(`${DECISION}/strategies/${encodeURIComponent(st.id)}/performance`)));
    $("strategylist").tBodies[0].replaceChildren(...(list.body.length ? list.body.map((st, i) => {
      const p = perf[i].ok ? perf[i].body : null;
      const tr = document.createElement("tr");
      tr.dataset.strategy = st.id;
      tr.dataset.enabled = String(st.enabled);
      tr.append(cell(st.id), cell(`${st.kind} · ${st.timeframes.join(",") || "*"} · ${st.symbols.length || "*"}`),
        cell(`${st.buy_on.join(", ")} / ${st.sell_on.join(", ")}`),
        cell(String(st.open_positions)), cell(p ? money(p.realised) : "", pnlClass(p?.realised)),
        cell(p ? money(p.unrealised) : "", pnlClass(p?.unrealised)), cell(p ? money(p.fees) : ""), cell(p ? money(p.tax) : ""),
        cell(p ? `${p.decisions_sent}/${p.decisions_rejected}/${p.decisions_failed}` : ""));
      const toggle = cell(`${t(st.enabled ? "enabled" : "disabled")} `);
      toggle.append(button(t(st.enabled ? "disable" : "enable"), "amend", async () => {
        const r = await call(`${DECISION}/strategies/${encodeURIComponent(st.id)}`, {
          method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ enabled: !st.enabled }),
        });
        setStatus(r.ok ? `${st.id}: ${t(r.body.enabled ? "enabled" : "disabled")}` : `${t("refused")}: ${r.body.message}`, !r.ok);
        loadStrategies().catch(() => {});
      }));
      toggle.append(" ", button(t("params"), "amend", () => editParams(tr, st)));
      tr.append(toggle);
      return tr;
    }) : [emptyRow("strategylist", 10)]));
    $("strategylist").dataset.loaded = String(list.body.length);
  }
  if (decisions.ok) {
    $("decisions").tBodies[0].replaceChildren(...(decisions.body.length ? decisions.body.map((d) => {
      const tr = document.createElement("tr");
      tr.append(cell(clockVN(Date.parse(d.at))), cell(d.strategy), cell(d.symbol), sideCell(d.side),
        cell(volume(d.quantity)), cell(price(d.price)), cell(d.reason),
        cell(d.detail ? `${d.status}: ${d.detail}` : d.status));
      return tr;
    }) : [emptyRow("decisions", 8)]));
  }
}

// ---- reports ---------------------------------------------------------------------------------------

const report = { data: null };

/** `rows` (arrays) as CSV text: fields with a comma, quote or line break quoted (RFC 4180). */
function csv(rows) {
  const field = (v) => {
    const s = v === null || v === undefined ? "" : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  return rows.map((r) => r.map(field).join(",")).join("\r\n") + "\r\n";
}

/** Offers `text` as a file download. */
function download(name, text) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
  a.download = name;
  document.body.append(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  // What was offered last (browser tests read it).
  document.documentElement.dataset.download = `${name}:${text.split("\r\n").length - 2}`;
}

async function loadReport() {
  const a = $("r-account").value;
  if (!a) return;
  const q = new URLSearchParams();
  if ($("r-from").value) q.set("from", $("r-from").value);
  if ($("r-to").value) q.set("to", $("r-to").value);
  if ($("r-strategy").value.trim()) q.set("strategy", $("r-strategy").value.trim());
  const r = await call(`${OMS}/accounts/${encodeURIComponent(a)}/report?${q}`);
  if (!r.ok) {
    setStatus(`${t("reports")}: ${r.body.message || r.status}`, true);
    return;
  }
  report.data = r.body;
  const { days, trades } = r.body;
  if (!$("r-from").value) $("r-from").value = r.body.from;
  if (!$("r-to").value) $("r-to").value = r.body.to;
  $("r-days").tBodies[0].replaceChildren(...(days.length ? days.map((d) => {
    const tr = document.createElement("tr");
    tr.append(cell(d.date), cell(d.strategy || t("person")), cell(String(d.fills)), cell(money(d.bought)),
      cell(money(d.sold)), cell(money(d.fees)), cell(money(d.tax)), cell(money(d.realised), pnlClass(d.realised)));
    return tr;
  }) : [emptyRow("r-days", 8)]));
  const sum = (k) => days.reduce((n, d) => n + d[k], 0);
  const foot = document.createElement("tr");
  foot.append(cell(t("sum")), cell(""), cell(String(sum("fills"))), cell(money(sum("bought"))), cell(money(sum("sold"))),
    cell(money(sum("fees"))), cell(money(sum("tax"))), cell(money(sum("realised")), pnlClass(sum("realised"))));
  $("r-days").tFoot.replaceChildren(foot);
  $("r-trades").tBodies[0].replaceChildren(...(trades.length ? trades.map((x) => {
    const tr = document.createElement("tr");
    tr.append(cell(`${x.time.slice(0, 10)} ${clockVN(Date.parse(x.time))}`), cell(x.symbol), sideCell(x.side), cell(price(x.price)),
      cell(volume(x.quantity)), cell(money(x.value)), cell(money(x.fee)), cell(money(x.tax)),
      cell(money(x.realised), pnlClass(x.realised)), cell(x.strategy || t("person")));
    return tr;
  }) : [emptyRow("r-trades", 10)]));
  $("r-trades").dataset.loaded = String(trades.length);
}

function setupReports() {
  $("r-form").addEventListener("submit", (e) => {
    e.preventDefault();
    loadReport().catch((err) => console.warn("report", err));
  });
  const name = (what) => `qts-${what}-${report.data.account}-${report.data.from}-${report.data.to}.csv`;
  $("r-days-csv").addEventListener("click", () => {
    if (!report.data) return;
    download(name("daily-pnl"), csv([
      ["date", "strategy", "fills", "bought", "sold", "fees", "tax", "realised"],
      ...report.data.days.map((d) => [d.date, d.strategy ?? "", d.fills, d.bought, d.sold, d.fees, d.tax, d.realised]),
    ]));
  });
  $("r-trades-csv").addEventListener("click", () => {
    if (!report.data) return;
    download(name("trades"), csv([
      ["time", "account", "symbol", "side", "price", "quantity", "value", "fee", "tax", "realised", "strategy"],
      ...report.data.trades.map((x) => [x.time, report.data.account, x.symbol, x.side, x.price, x.quantity, x.value,
        x.fee, x.tax, x.realised, x.strategy ?? ""]),
    ]));
  });
}

// ---- backtests ------------------------------------------------------------------------------------

const backtestView = { chart: null };
const pct = (x) => `${(x * 100).toFixed(2)}%`;

async function runBacktest(e) {
  e.preventDefault();
  const symbols = $("bt-symbols").value.split(",").map((x) => x.trim().toUpperCase()).filter(Boolean);
  const body = { symbols, resolution: $("bt-resolution").value, from: $("bt-from").value, to: $("bt-to").value };
  $("bt-run").disabled = true;
  $("bt-state").textContent = t("running");
  const r = await call(`${API}/backtests`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  $("bt-run").disabled = false;
  if (!r.ok) {
    $("bt-state").textContent = `${t("refused")}: ${r.body.message || r.status}`;
    return;
  }
  const b = r.body;
  $("bt-state").textContent = `${t("bt_done", volume(b.bars), b.symbols, b.orders)} · ${b.backfill}`;
  $("bt-metrics").tBodies[0].replaceChildren(...b.metrics.map((m) => {
    const tr = document.createElement("tr");
    tr.append(cell(m.name), cell(pct(m.total_return), pnlClass(m.total_return)), cell(pct(m.cagr)),
      cell(m.sharpe.toFixed(2)), cell(m.sortino.toFixed(2)), cell(pct(m.max_drawdown)), cell(String(m.trades)),
      cell(pct(m.win_rate)), cell(money(m.fees)), cell(money(m.tax)), cell(money(m.end_equity)));
    return tr;
  }));
  $("bt-metrics").dataset.loaded = String(b.metrics.length);
  if (backtestView.chart) backtestView.chart.remove();
  const { lwc, chart } = await dayChart($("bt-chart"));
  const line = chart.addSeries(lwc.LineSeries, { color: "#5aa9ff", lineWidth: 2 });
  line.setData(b.equity.map((d) => ({ time: d.date, value: d.equity })));
  chart.timeScale().fitContent();
  backtestView.chart = chart;
}

function setupBacktests() {
  $("bt-form").addEventListener("submit", (e) => runBacktest(e).catch((err) => {
    $("bt-run").disabled = false;
    $("bt-state").textContent = String(err.message || err);
  }));
}

/** The backtest's defaults: the watch list (else the board's first symbols), the last 60 days. */
function backtestDefaults() {
  if ($("bt-symbols").value) return;
  const rows = [...state.rows.values()];
  const picks = state.watch.size ? [...state.watch] : rows.filter((r) => r.exchange === "HOSE").slice(0, 5).map((r) => r.symbol);
  $("bt-symbols").value = picks.slice(0, 20).join(",");
  const day = rows.find((r) => r.day)?.day;
  if (day) {
    $("bt-to").value = day;
    $("bt-from").value = isoDay(day, 60);
  }
}

// ---- risk ----------------------------------------------------------------------------------------

const RISK = "/api/risk/v1";

async function setKill(scope, key, engaged) {
  const reason = engaged ? $("kill-reason").value.trim() : "";
  if (engaged && !reason) {
    setStatus(t("kill_reason"), true);
    $("kill-reason").focus();
    return;
  }
  const r = await call(`${RISK}/kill-switches/${scope}/${encodeURIComponent(key)}`, {
    method: "PUT", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ actor: $("user").textContent, engaged, reason }),
  });
  setStatus(r.ok ? `${t("kill")} ${scope} ${key}: ${t(engaged ? "engaged" : "release")}` : `${t("refused")}: ${r.body.message}`, !r.ok);
  loadRisk().catch(() => {});
}

async function loadRisk() {
  const [monitor, kills] = await Promise.all([call(`${RISK}/monitor`), call(`${RISK}/kill-switches`)]);
  if ($("riskview").hidden) return;
  const engaged = new Map((kills.ok ? kills.body : []).map((k) => [`${k.scope}/${k.key}`, k.reason]));
  const global = engaged.get("global/");
  const g = $("kill-global");
  g.textContent = global !== undefined ? `${t("engaged")}: ${global} — ${t("release")}` : t("engage");
  g.onclick = () => setKill("global", "-", global === undefined);
  g.dataset.engaged = String(global !== undefined);
  if (!monitor.ok) {
    setStatus(monitor.body.message || `HTTP ${monitor.status}`, true);
    return;
  }
  const m = monitor.body;
  $("books").tBodies[0].replaceChildren(...(m.books.length ? m.books.map((b) => {
    const tr = document.createElement("tr");
    tr.dataset.book = `${b.scope}/${b.key}`;
    const reason = engaged.get(`${b.scope}/${b.key}`);
    tr.append(cell(b.scope), cell(b.key), cell(money(b.exposure)), cell(String(b.open_orders)),
      cell(money(b.pnl_today), pnlClass(b.pnl_today)), cell(money(b.drawdown)), cell(money(b.margin_used)));
    const kill = cell(reason !== undefined ? `${t("engaged")}: ${reason} ` : "");
    kill.append(button(t(reason !== undefined ? "release" : "engage"), reason !== undefined ? "amend" : "cancel",
      () => setKill(b.scope, b.key, reason === undefined)));
    tr.append(kill);
    return tr;
  }) : [emptyRow("books", 8)]));
  const halts = [
    ...(m.market_breaker ? [`${m.market_breaker.code}: ${m.market_breaker.reason}`] : []),
    ...m.breakers.filter((b) => b.active).map((b) => `${b.code}: ${b.reason}`),
    ...m.halted.map((h) => `${h.symbol}: ${h.status} (${h.since})`),
  ];
  $("halts").replaceChildren(...(halts.length ? halts : [t("none")]).map((text) => {
    const li = document.createElement("li");
    li.textContent = text;
    return li;
  }));
  $("books").dataset.loaded = String(m.books.length);
  loadRules().catch((e) => setStatus(String(e.message || e), true));
}

const RULE = "/api/rule/v1";

/** The rule sets in force and the latest refusals (the rule service's audit). */
async function loadRules() {
  const [sets, refused] = await Promise.all([call(`${RULE}/sets`), call(`${RULE}/evaluations?limit=20`)]);
  if ($("riskview").hidden) return;
  const rows = sets.ok ? sets.body : [];
  $("rulesets").tBodies[0].replaceChildren(...(rows.length ? rows.map((r) => {
    const tr = document.createElement("tr");
    tr.dataset.set = r.name;
    tr.dataset.active = String(r.active_version);
    tr.append(cell(r.name), cell(t(`target_${r.target}`)), cell(r.active_version ? `v${r.active_version}` : t("none")),
      cell(`v${r.latest_version} (${r.latest_status})`), cell(r.description), cell(r.updated_at.replace("T", " ").slice(0, 19)));
    const back = cell("");
    if (r.active_version > 1) {
      back.append(button(t("rule_rollback"), "amend", async () => {
        const a = await call(`${RULE}/sets/${encodeURIComponent(r.name)}/rollback`, { method: "POST" });
        setStatus(a.ok ? `${r.name}: ${t("rolled_back")} → v${a.body.version}` : `${t("refused")}: ${a.body.message}`, !a.ok);
        loadRules().catch(() => {});
      }));
    }
    back.append(button(t("rule_edit"), "amend", () => editRuleSet(r.name, r.latest_version).catch((e) => setStatus(String(e.message || e), true))));
    tr.append(back);
    return tr;
  }) : [emptyRow("rulesets", 7)]));
  $("rulesets").dataset.loaded = String(rows.length);
  const list = refused.ok ? refused.body : [];
  $("rulerefusals").tBodies[0].replaceChildren(...(list.length ? list.map((e) => {
    const tr = document.createElement("tr");
    const f = e.rejections[0] || { set: "", rule: "", message: "" };
    tr.append(cell(e.at.replace("T", " ").slice(0, 19)), cell(e.subject), cell(e.owner),
      cell(`${f.set}/${f.rule}`), cell(f.message));
    return tr;
  }) : [emptyRow("rulerefusals", 5)]));
}

// The rule-set editor (risk officers): a set's document as JSON, checked by the rule service as
// it is typed (every problem named by where it is), saved as a draft, submitted and approved. The
// rule service keeps the lifecycle (four eyes when configured) and refuses what does not compile.

const RULE_TEMPLATES = {
  order: {
    name: "house-limits", target: "order", description: "Per-order limits",
    rules: [{ id: "max_value", condition: "order.value > 2000000000", action: "reject",
      message: "order value {{order.value}} above 2,000,000,000 VND" }],
  },
  decision: {
    name: "strategy-filters", target: "decision", description: "What strategies may not do",
    rules: [{ id: "max_buy_quantity", condition: "decision.side == 'buy' && decision.quantity > 10000",
      action: "reject", message: "{{decision.quantity}} {{decision.symbol}} on {{signal.name}}: above 10,000 shares" }],
  },
  alert: {
    name: "my-alerts", target: "alert", description: "Alerts on closed bars",
    rules: [{ id: "rsi_overbought", action: "warn",
      condition: "bar.timeframe == '15m' && 'rsi14' in ind && ind['rsi14'] > 70.0",
      message: "{{bar.symbol}} RSI above 70 (close {{bar.close}})" }],
  },
};

const editor = { name: "", version: 0, status: "", timer: 0, asked: 0, valid: false, schema: null };

function showEditorState() {
  $("re-state").textContent = editor.version
    ? t("rule_editing", editor.name, editor.version, editor.status) : t("rule_unsaved");
  $("re-submit").disabled = editor.status !== "draft";
  $("re-approve").disabled = editor.status !== "review";
  $("re-save").disabled = !editor.valid;
  $("re-doc").dataset.status = editor.status;
}

function editorDoc(doc, version) {
  editor.name = version ? version.name : "";
  editor.version = version ? version.version : 0;
  editor.status = version ? version.status : "";
  $("re-doc").value = JSON.stringify(doc, null, 2);
  $("re-target").value = doc.target;
  showVariables(doc.target).catch(() => {});
  checkRuleDoc(0);
}

async function editRuleSet(name, version) {
  const r = await call(`${RULE}/sets/${encodeURIComponent(name)}/versions/${version}`);
  if (!r.ok) throw new Error(r.body.message || `HTTP ${r.status}`);
  editorDoc(r.body.document, r.body);
  $("re-doc").focus();
}

/** The variables a target's rules read, from the rule service's schema. */
async function showVariables(target) {
  if (!editor.schema) {
    const r = await call(`${RULE}/schema`);
    if (!r.ok) return;
    editor.schema = r.body;
  }
  const schema = editor.schema.find((s) => s.target === target);
  $("re-vars").replaceChildren(...(schema ? schema.variables : []).map((v) => {
    const li = document.createElement("li");
    const fields = v.fields.map((f) => `${v.name}.${f.name}: ${f.type}`).join(", ");
    li.textContent = `${v.name}${v.map_of ? `[…]: ${v.map_of}` : ""} — ${v.doc}${fields ? ` (${fields})` : ""}`;
    return li;
  }));
}

function showProblems(items) {
  $("re-problems").replaceChildren(...items.map((text) => {
    const li = document.createElement("li");
    li.textContent = text;
    return li;
  }));
}

/** Asks the rule service what it thinks of the document as typed (the newest answer wins). */
function checkRuleDoc(wait = 300) {
  clearTimeout(editor.timer);
  editor.valid = false;
  $("re-problems").dataset.valid = "false";
  showEditorState();
  editor.timer = setTimeout(async () => {
    let doc;
    try {
      doc = JSON.parse($("re-doc").value);
    } catch (e) {
      showProblems([`${t("rule_json")}: ${e.message}`]);
      return;
    }
    const asked = ++editor.asked;
    const r = await call(`${RULE}/validate`, {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(doc),
    });
    if (asked !== editor.asked) return;
    if (!r.ok) {
      showProblems([r.body.message || `HTTP ${r.status}`]);
    } else if (r.body.valid) {
      editor.valid = true;
      showProblems([]);
    } else {
      showProblems(r.body.problems.map((p) => `${p.at}: ${p.message}`));
    }
    $("re-problems").dataset.valid = String(editor.valid);
    showEditorState();
    if (editor.valid) $("re-state").textContent += ` · ${t("rule_valid", r.body.cost)}`;
  }, wait);
}

/** A draft of the same set is saved in place; anything else becomes the set's next draft. */
async function saveRuleDoc() {
  const doc = JSON.parse($("re-doc").value);
  const inPlace = editor.status === "draft" && editor.name === doc.name;
  const r = await call(inPlace ? `${RULE}/sets/${encodeURIComponent(doc.name)}/versions/${editor.version}` : `${RULE}/sets`, {
    method: inPlace ? "PUT" : "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(doc),
  });
  if (!r.ok) {
    showProblems([r.body.message || `HTTP ${r.status}`]);
    return;
  }
  editorDoc(r.body.document, r.body);
  setStatus(`${t("saved")}: ${t("rule_editing", r.body.name, r.body.version, r.body.status)}`);
  loadRules().catch(() => {});
}

async function ruleStep(step) {
  const r = await call(`${RULE}/sets/${encodeURIComponent(editor.name)}/versions/${editor.version}/${step}`, { method: "POST" });
  if (!r.ok) {
    showProblems([`${t("refused")}: ${r.body.message || `HTTP ${r.status}`}`]);
    return;
  }
  editor.status = r.body.status;
  showEditorState();
  setStatus(t("rule_editing", r.body.name, r.body.version, r.body.status));
  loadRules().catch(() => {});
}

function setupRuleEditor() {
  $("re-new").addEventListener("click", () => editorDoc(RULE_TEMPLATES[$("re-target").value], null));
  $("re-target").addEventListener("change", () => showVariables($("re-target").value).catch(() => {}));
  $("re-doc").addEventListener("input", () => checkRuleDoc());
  $("re-save").addEventListener("click", () => saveRuleDoc().catch((e) => showProblems([String(e.message || e)])));
  $("re-submit").addEventListener("click", () => ruleStep("submit").catch((e) => showProblems([String(e.message || e)])));
  $("re-approve").addEventListener("click", () => ruleStep("approve").catch((e) => showProblems([String(e.message || e)])));
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

/** `url` with the session's token; a 401 renews the token once and tries again. Throws on an
 * error status unless `answerErrors`. */
async function authed(url, init = {}, renewed = false, answerErrors = false) {
  const r = await fetch(url, {
    ...init,
    headers: { ...(init.headers || {}), Authorization: `Bearer ${state.token}` },
  });
  if (r.status === 401 && !renewed) {
    await session();
    return authed(url, init, true, answerErrors);
  }
  if (!r.ok && !answerErrors) throw new Error(`${url}: HTTP ${r.status}`);
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

/** Reads the NDJSON stream the portal serves at `path()`, handing each message to `onLine`
 * (awaited, in order; empty heartbeat lines are skipped) and calling `opened` when it connects;
 * after a failure or an end it calls `lost`, waits (500 ms, doubling up to 10 s) and opens it
 * again. */
async function follow(label, path, { opened = () => {}, onLine, lost = () => {} }) {
  for (let wait = 500; ; wait = Math.min(wait * 2, 10000)) {
    try {
      const r = await api(path());
      opened();
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
          if (line) await onLine(JSON.parse(line));
        }
      }
    } catch (e) {
      console.warn(label, e);
    }
    lost();
    await new Promise((done) => setTimeout(done, wait));
  }
}

/** Follows the board's changes; reconnects (from the last seen sequence) after a failure. */
function stream() {
  return follow("board stream", () => `/board/stream?since=${state.seq}`, {
    opened: () => setStatus(`${$("rows").children.length} ${t("rows")} · ${t("live")}`),
    onLine: async (msg) => {
      if (msg.reset) {
        await snapshot();
      } else if (msg.rows) {
        state.seq = msg.seq;
        apply(msg.rows);
        // What the page is current to (browser tests and measurements read it).
        document.documentElement.dataset.seq = String(state.seq);
      }
    },
    lost: () => setStatus(t("offline"), true),
  });
}

/** Follows the user's order and fill events (`/v1/orders/stream`): the page showing orders
 * reloads what changed at once (the pages also reload every few seconds, should a line be lost). */
function orderStream() {
  let timer = 0;
  const changed = new Set();
  const refresh = () => {
    timer = 0;
    if (!$("ordersview").hidden) loadOrders().catch(() => {});
    if (!$("portfolioview").hidden) loadPortfolio().catch(() => {});
    if (view.symbol && changed.has(view.symbol)) loadMine(view.symbol).catch(() => {});
    if (ticket.symbol && changed.has(ticket.symbol)) askPreview(0);
    changed.clear();
  };
  return follow("orders stream", () => "/orders/stream", {
    onLine: (note) => {
      if (note.symbol) changed.add(note.symbol);
      if (note.reset && view.symbol) changed.add(view.symbol);
      document.documentElement.dataset.orderEvents = String(Number(document.documentElement.dataset.orderEvents || 0) + 1);
      unreadSoon();
      if (!timer) timer = setTimeout(refresh, 150);
    },
  });
}

async function main() {
  setupControls();
  setupTimeframes();
  setupAnyIndicator();
  setupTicket();
  setupReports();
  setupBacktests();
  setupNotifications();
  setupRuleEditor();
  setupKeys();
  setStatus(t("connecting"));
  await session();
  await loadMe();
  await snapshot();
  performance.mark("qts-board-ready");
  stream();
  orderStream();
  followUnread();
  window.addEventListener("hashchange", route);
  await route();
}

main().catch((e) => {
  console.error(e);
  setStatus(String(e.message || e), true);
});
