//! The trader portal in a real browser (Chromium, driven over WebDriver by ChromeDriver): the
//! first admin opens the portal, is sent to the SSO-UI's sign-in, comes back to the price board
//! of the simulated market, sees it update live, filters it and switches language. Screenshots
//! go under the test output directory.

use std::time::Duration;

use qts::webdriver::Browser;

use crate::helpers::{server, small_market, spawn_fleet_with, token, with_admin};

const ADMIN_PASSWORD: &str = "the portal admin's password";

/// Waits until `expr` (JavaScript) is truthy in the page, at most `secs` seconds; answers its
/// value. A wait that runs out fails the test with what was awaited and where the page was.
async fn wait(browser: &Browser, what: &str, expr: &str, secs: u64) -> serde_json::Value {
    browser
        .until(what, expr, Duration::from_secs(secs))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Writes a screenshot under the test output directory.
async fn screenshot(browser: &Browser, name: &str) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(format!("{name}.png")),
        browser.screenshot().await.unwrap(),
    )
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_signs_in_and_watches_the_board_update_live() {
    let Some(chromedriver) = server("TEST_CHROMEDRIVER") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut opts = with_admin(dir.path(), ADMIN_PASSWORD);
    // Predictions in shadow mode: made and shown in the symbol view, not published (the
    // `prediction` strategy would trade the admin's account within seconds of the start, and the
    // reports below count their exact rows; trading them is tested in tests/e2e/market.rs). The
    // small market's 30 days of history: a model trained on 12 dates, tested on 5-date blocks.
    for (key, value) in [
        ("PREDICTION__PREDICTION__PUBLISH", "false"),
        ("PREDICTION__PREDICTION__HISTORY_DAYS", "60"),
        ("PREDICTION__RECIPE__MIN_TRAIN_DATES", "12"),
        ("PREDICTION__RECIPE__TEST_DATES", "5"),
    ] {
        opts.env.insert(key.into(), value.into());
    }
    opts.market =
        qts::fleet::Market::Simulator(Box::new(qts::fleet::SimOptions::new(small_market(30.0))));
    let fleet = spawn_fleet_with(dir, &opts).await;
    let gateway = format!("http://{}", fleet.gateway);
    let browser = Browser::start(&chromedriver, 1500, 900).await.unwrap();

    // The portal sends a visitor without a session to the sign-in, which sends them back.
    browser
        .sign_in_to_portal(&gateway, "", "admin", ADMIN_PASSWORD)
        .await
        .unwrap();
    let rows = browser
        .script("return document.querySelectorAll('#rows tr').length")
        .await
        .unwrap();
    assert!(rows.as_u64().unwrap() >= 10, "HOSE rows: {rows}");
    assert_eq!(
        browser
            .script("return document.getElementById('user').textContent")
            .await
            .unwrap(),
        "admin"
    );
    // Reference, ceiling and floor from master data, in the board's colours.
    let ceil = browser
        .script("return getComputedStyle(document.querySelector('#rows td.ceil')).color")
        .await
        .unwrap();
    let floor = browser
        .script("return getComputedStyle(document.querySelector('#rows td.floor')).color")
        .await
        .unwrap();
    assert_ne!(ceil, floor);

    // Live: the page's sequence number moves as the market trades, without a reload.
    let first = wait(
        &browser,
        "a sequence number",
        "document.documentElement.dataset.seq",
        10,
    )
    .await;
    let first: u64 = first.as_str().unwrap().parse().unwrap();
    wait(
        &browser,
        "a live update",
        &format!("Number(document.documentElement.dataset.seq) > {first}"),
        30,
    )
    .await;
    wait(
        &browser,
        "a traded price on the board",
        "[...document.querySelectorAll('#rows td.last')].some(td => td.textContent !== '')",
        30,
    )
    .await;
    screenshot(&browser, "portal-board-vi").await;

    // News about the first symbol, pushed as an integration would (the admin may): the emotion
    // service scores it, and the symbol's view shows its sentiment and headline.
    let symbol = browser
        .script("return document.querySelector('#rows tr td.sym a').textContent")
        .await
        .unwrap();
    let symbol = symbol.as_str().unwrap().to_owned();
    let client = reqwest::Client::new();
    let admin = token(&client, &gateway, "admin", ADMIN_PASSWORD).await;
    let pushed: serde_json::Value = client
        .post(format!("{gateway}/api/emotion/v1/items"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"source": "e2e", "items": [
            {"id": "1", "title": format!("Cổ phiếu {symbol} tăng trần, khối ngoại mua ròng mạnh")}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(pushed[0]["status"], "new", "{pushed}");
    // A symbol opens its view: candles from the historical service, depth, time and sales.
    browser.click("#rows tr td.sym a").await.unwrap();
    wait(
        &browser,
        "the symbol view",
        "!document.getElementById('symbolview').hidden && document.querySelector('#chart canvas')",
        10,
    )
    .await;
    wait(&browser, "candles and trades", "Number(document.getElementById('chart').dataset.bars) > 0 && document.querySelectorAll('#sales tbody tr').length > 0", 30).await;
    // The user's orders in the symbol, from the OMS (the admin's: every account).
    wait(
        &browser,
        "the user's orders",
        "document.getElementById('mine').dataset.loaded !== undefined",
        20,
    )
    .await;
    // The emotion service's sentiment on the symbol, with the headline pushed above.
    let mood = wait(&browser, "the sentiment panel", "!document.getElementById('sentimentbox').hidden && document.querySelectorAll('#news li').length > 0 && document.getElementById('sentiment').dataset.mood", 20).await;
    assert_eq!(mood, "positive");
    // The prediction service's call on the symbol (a VN30 stock), once its model is trained.
    let call = wait(&browser, "the prediction panel", "!document.getElementById('predictionbox').hidden && document.getElementById('prediction').dataset.call", 90).await;
    assert!(
        call.as_str().is_some_and(|c| c.starts_with("prediction_")),
        "{call}"
    );
    // The default indicator (SMA 20) was computed by the TA service over the same bars.
    wait(
        &browser,
        "the indicators computed",
        "document.getElementById('chart').dataset.indicators !== undefined",
        20,
    )
    .await;
    assert_eq!(
        browser
            .script("return document.querySelectorAll('#depth tbody tr').length")
            .await
            .unwrap(),
        6,
        "three asks and three bids"
    );
    // Any function of the TA service: ADX over 2 bars (the small market has a few one-minute
    // bars yet) in a pane of its own, kept as a chip.
    browser.click("#anyind summary").await.unwrap();
    wait(
        &browser,
        "the function list",
        "document.querySelector('#ind-fn option[value=ADX]')",
        10,
    )
    .await;
    browser
        .script("const s = document.getElementById('ind-fn'); s.value = 'ADX'; s.dispatchEvent(new Event('change')); return 0")
        .await
        .unwrap();
    browser
        .retype("#ind-params input[name=timeperiod]", "2")
        .await
        .unwrap();
    let before = browser
        .script("return Number(document.getElementById('chart').dataset.indicators)")
        .await
        .unwrap();
    browser.click("#ind-add").await.unwrap();
    wait(&browser, "ADX on the chart", &format!("document.querySelector('#ind-custom .chip[data-fn=ADX]') && document.getElementById('chart').dataset.studies === 'SMA,ADX' && Number(document.getElementById('chart').dataset.indicators) > {before}"), 20).await;
    assert_eq!(
        browser
            .script("return document.querySelector('#ind-custom .chip').firstChild.textContent")
            .await
            .unwrap(),
        "ADX(2)"
    );
    screenshot(&browser, "portal-symbol-vi").await;
    browser.click("#back").await.unwrap();
    wait(&browser, "the board again", "document.getElementById('symbolview').hidden && !document.getElementById('boardview').hidden", 5).await;

    // Filter, the VN30 tab, and English.
    let symbol = browser
        .script("return document.querySelector('#rows tr').dataset.symbol")
        .await
        .unwrap();
    let symbol = symbol.as_str().unwrap().to_owned();
    browser.type_into("#filter", &symbol).await.unwrap();
    wait(&browser, "the filtered board", &format!("[...document.querySelectorAll('#rows tr')].every(tr => tr.dataset.symbol.startsWith('{symbol}'))"), 5).await;
    browser
        .script("const s = document.getElementById('filter'); s.value = ''; s.dispatchEvent(new Event('input')); return 0")
        .await
        .unwrap();
    browser.click("#tabs button[data-tab=VN30]").await.unwrap();
    browser
        .script("const s = document.getElementById('lang'); s.value = 'en'; s.dispatchEvent(new Event('change')); return 0")
        .await
        .unwrap();
    assert_eq!(
        browser
            .script("return document.querySelector('th[data-sort=symbol]').textContent")
            .await
            .unwrap(),
        "Symbol"
    );
    assert_eq!(
        browser
            .script("return document.documentElement.lang")
            .await
            .unwrap(),
        "en"
    );
    screenshot(&browser, "portal-board-en-vn30").await;
    notification_settings(&browser).await;
    risk_checks_orders(&gateway).await;
    trade(&browser).await;
    inbox(&browser).await;

    // On a phone's width the read-only views fit: the page itself never scrolls sideways (wide
    // tables scroll inside their own box).
    browser.resize(390, 844).await.unwrap();
    for (page, hash) in [
        ("board", "#/"),
        ("portfolio", "#/portfolio"),
        ("orders", "#/orders"),
        ("inbox", "#/inbox"),
    ] {
        browser
            .script(&format!("location.hash = '{hash}'; return 0"))
            .await
            .unwrap();
        wait(&browser, &format!("the page within the phone's width ({page})"), &format!("document.body.dataset.page === '{page}' && document.documentElement.scrollWidth <= window.innerWidth + 1"), 5).await;
        screenshot(&browser, &format!("portal-{page}-phone")).await;
    }
    browser.close().await.unwrap();
    fleet.stop().await;
}

/// `qts up --sim-otp`: the OMS trades the simulator's FastConnect v3 key, whose trading session
/// waits for a person. The order ticket says so and asks for the OTP; the simulator's "SMS"
/// (its OTP file) gives the code; once verified, an order goes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_ticket_asks_for_the_otp_when_the_trading_session_needs_one() {
    let Some(chromedriver) = server("TEST_CHROMEDRIVER") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let outbox = dir.path().join("otp.txt");
    let mut opts = with_admin(dir.path(), ADMIN_PASSWORD);
    opts.env
        .insert("PREDICTION__PREDICTION__PUBLISH".into(), "false".into());
    let mut config = small_market(30.0);
    config.otp_outbox = Some(outbox.clone());
    opts.market = qts::fleet::Market::Simulator(Box::new(qts::fleet::SimOptions {
        config,
        trading_v3: true,
    }));
    let fleet = spawn_fleet_with(dir, &opts).await;
    let gateway = format!("http://{}", fleet.gateway);
    let browser = Browser::start(&chromedriver, 1500, 900).await.unwrap();
    browser
        .sign_in_to_portal(&gateway, "", "admin", ADMIN_PASSWORD)
        .await
        .unwrap();
    risk_checks_orders(&gateway).await;
    let symbol = browser
        .script("const tr = [...document.querySelectorAll('#rows tr')].find(tr => tr.children[14].textContent); return tr && tr.dataset.symbol")
        .await
        .unwrap();
    let symbol = symbol.as_str().expect("a symbol with asks").to_owned();
    browser
        .script(&format!("location.hash = '#/s/{symbol}'; return 0"))
        .await
        .unwrap();
    if let Err(e) = browser
        .until(
            "the ticket asking for the OTP",
            "!document.getElementById('t-otp').hidden",
            Duration::from_secs(30),
        )
        .await
    {
        panic!("{e}; the ticket says: {}", problems(&browser).await);
    }
    screenshot(&browser, "portal-otp-vi").await;
    browser.click("#t-otp-send").await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let code = loop {
        let text = std::fs::read_to_string(&outbox).unwrap_or_default();
        if let Some(code) = text
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix(&format!("{} ", fcsim::config::DEMO_V3_API_KEY)))
        {
            break code.trim().to_owned();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no OTP in {}: {text:?}",
            outbox.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    browser.type_into("#t-otp-code", &code).await.unwrap();
    browser.click("#t-otp-login").await.unwrap();
    wait(
        &browser,
        "the session open",
        "document.getElementById('t-otp').hidden",
        30,
    )
    .await;
    // An order goes now: 100 at the deepest ask shown.
    let ask = browser
        .script("const rows = [...document.querySelectorAll('#depth tbody tr')].filter(tr => tr.children[2].textContent); return rows.length ? rows[0].children[1].textContent : ''")
        .await
        .unwrap();
    let ask = ask.as_str().unwrap().to_owned();
    assert!(!ask.is_empty(), "asks in the depth");
    browser.retype("#t-price", &ask).await.unwrap();
    browser.retype("#t-qty", "100").await.unwrap();
    let id = send(&browser, "", None).await;
    assert!(!id.is_empty());
    browser.close().await.unwrap();
    fleet.stop().await;
}

/// The notification settings: a bad phone number refused naming the field, then saved (the
/// admin's order events now reach their inbox, in English).
async fn notification_settings(browser: &Browser) {
    browser
        .script("location.hash = '#/inbox'; return 0")
        .await
        .unwrap();
    wait(browser, "the settings", "document.getElementById('n-form').dataset.loaded === 'true' && document.querySelectorAll('#n-events tbody tr').length === 8", 10).await;
    // Without a phone the SMS boxes cannot be ticked; the inbox ones can.
    let sms = browser
        .script("return document.querySelector('#n-events tr[data-kind=order] input[data-channel=sms]').disabled")
        .await
        .unwrap();
    assert_eq!(sms, true);
    let inbox = browser
        .script("return document.querySelector('#n-events tr[data-kind=order] input[data-channel=inbox]').checked")
        .await
        .unwrap();
    assert_eq!(inbox, true, "order events go to the inbox by default");
    browser
        .script("const s = document.getElementById('n-language'); s.value = 'en'; return 0")
        .await
        .unwrap();
    browser.type_into("#n-phone", "12345").await.unwrap();
    browser.click("#n-form button[type=submit]").await.unwrap();
    wait(
        browser,
        "the phone refused",
        "document.getElementById('n-problem').textContent.includes('phone')",
        10,
    )
    .await;
    browser.clear("#n-phone").await.unwrap();
    browser.type_into("#n-symbols", "FPT, vnm").await.unwrap();
    browser.click("#n-form button[type=submit]").await.unwrap();
    wait(browser, "the settings saved", "document.getElementById('n-form').dataset.saved === '1' && document.getElementById('n-problem').textContent === ''", 10).await;
    assert_eq!(
        browser
            .script("return document.getElementById('n-symbols').value")
            .await
            .unwrap(),
        "FPT, VNM"
    );
    screenshot(browser, "portal-notifications-en").await;
}

/// The fill reached the inbox: the menu's unread count, the message, read one, then all.
async fn inbox(browser: &Browser) {
    wait(
        browser,
        "unread messages on the menu",
        "Number(document.getElementById('inbox-link').dataset.unread) > 0",
        30,
    )
    .await;
    browser.click("#inbox-link").await.unwrap();
    wait(browser, "the fill's message", "[...document.querySelectorAll('#n-items tr.unread')].some(tr => tr.dataset.kind === 'order' && tr.children[3].textContent.includes('filled'))", 10).await;
    // The strategies may trade the admin's account meanwhile: new messages can arrive, so the
    // checks name the messages that were there.
    let first = browser
        .script("return document.querySelector('#n-items tr.unread').dataset.id")
        .await
        .unwrap();
    let first = first.as_str().unwrap().to_owned();
    browser
        .click(&format!("#n-items tr[data-id='{first}'] button.amend"))
        .await
        .unwrap();
    wait(
        browser,
        "the message read",
        &format!("document.querySelector(\"#n-items tr[data-id='{first}']:not(.unread)\")"),
        10,
    )
    .await;
    let unread = browser
        .script(
            "return [...document.querySelectorAll('#n-items tr.unread')].map(tr => tr.dataset.id)",
        )
        .await
        .unwrap();
    browser.click("#n-read-all").await.unwrap();
    wait(browser, "every message read", &format!("{unread}.every(id => document.querySelector(`#n-items tr[data-id='${{id}}']:not(.unread)`))"), 10).await;
    wait(browser, "no unread badge", "document.getElementById('unread-badge').hidden === (Number(document.getElementById('inbox-link').dataset.unread) === 0) && getComputedStyle(document.getElementById('unread-badge')).display === (document.getElementById('unread-badge').hidden ? 'none' : 'inline-block')", 10).await;
    screenshot(browser, "portal-inbox-en").await;
}

/// The ticket's problems as the page shows them.
async fn problems(browser: &Browser) -> String {
    browser
        .script("return [...document.querySelectorAll('#t-problems li')].map(li => li.textContent).join(' | ') + ' / ' + document.getElementById('t-result').textContent")
        .await
        .unwrap()
        .to_string()
}

/// Waits until the risk service gives the ticket verdicts: it checks orders once it has caught
/// up with the bus, which on a loaded 2-core machine can take most of a minute after the start.
async fn risk_checks_orders(gateway: &str) {
    let client = reqwest::Client::new();
    let token = token(&client, gateway, "admin", ADMIN_PASSWORD).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let preview: serde_json::Value = client
            .post(format!("{gateway}/api/portal/v1/orders/preview"))
            .bearer_auth(&token)
            .json(&serde_json::json!({
                "account": fcsim::config::DEMO_CASH_ACCOUNT, "symbol": "ACB", "side": "buy",
                "order_type": "MTL", "quantity": 100,
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if preview["verdict"].is_object() {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the risk service gives no verdict: {preview}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Waits until the ticket would send the order as typed (a screenshot then, when `shot` names
/// one), then sends and confirms it; answers the OMS's id of the order.
async fn send(browser: &Browser, previous: &str, shot: Option<&str>) -> String {
    if let Err(e) = browser
        .until(
            "the preview accepting the order",
            "!document.getElementById('t-send').disabled",
            Duration::from_secs(15),
        )
        .await
    {
        panic!("{e}; the ticket says: {}", problems(browser).await);
    }
    if let Some(name) = shot {
        screenshot(browser, name).await;
    }
    browser.click("#t-send").await.unwrap();
    wait(
        browser,
        "the confirmation",
        "document.getElementById('confirm').open",
        5,
    )
    .await;
    browser.click("#confirm-ok").await.unwrap();
    let id = wait(browser, "the order sent", &format!("document.getElementById('t-result').dataset.order !== '{previous}' && document.getElementById('t-result').dataset.order"), 15).await;
    id.as_str().unwrap().to_owned()
}

/// The order ticket, the orders and the portfolio: an off-tick price refused before sending, a
/// buy that fills, a buy that rests and is amended then cancelled, and the holding at T+0.
async fn trade(browser: &Browser) {
    // A symbol with asks to buy from (the board's first, in the page's order), at the deepest
    // ask shown: the market moves 30 times faster than the clock, and a buy at the best ask
    // alone may find it gone and rest.
    let pick = browser
        .script("const tr = [...document.querySelectorAll('#rows tr')].find(tr => tr.children[14].textContent); return tr && [tr.dataset.symbol, tr.children[1].textContent, tr.children[18].textContent || tr.children[16].textContent || tr.children[14].textContent]")
        .await
        .unwrap();
    let pick: Vec<String> = serde_json::from_value(pick).expect("a symbol with asks");
    let [symbol, reference, ask] = [&pick[0], &pick[1], &pick[2]];
    browser
        .script(&format!("location.hash = '#/s/{symbol}'; return 0"))
        .await
        .unwrap();
    wait(
        browser,
        "the ticket's rules",
        "document.getElementById('t-facts').textContent.includes('Lot 100')",
        20,
    )
    .await;

    // One đồng over the reference is off every tick: refused as typed, the button disabled.
    browser
        .retype("#t-price", &format!("{reference}1"))
        .await
        .unwrap();
    browser.retype("#t-qty", "100").await.unwrap();
    let refused = wait(browser, "the off-tick price refused", "[...document.querySelectorAll('#t-problems li')].map(li => li.textContent).find(t => t.includes('tick'))", 10).await;
    assert!(
        refused.as_str().unwrap().contains(&format!("{reference}1")),
        "{refused}"
    );
    assert_eq!(
        browser
            .script("return document.getElementById('t-send').disabled")
            .await
            .unwrap(),
        true
    );

    // At the deepest ask: the preview accepts it, shows its cost (at that price), and it fills.
    browser.retype("#t-price", ask).await.unwrap();
    let value: f64 = ask.parse::<f64>().unwrap() * 100_000.0;
    let value = format!("{:.0}", value.round());
    wait(browser, "the order's cost", &format!("document.getElementById('t-costs').textContent.replaceAll(',', '').includes('Order value{value}')"), 10).await;
    let filled = send(browser, "", Some("portal-ticket-en")).await;
    wait(browser, "the fill in my orders", "[...document.querySelectorAll('#mine tbody tr')].some(tr => tr.children[5].textContent === 'filled')", 30).await;

    // The OMS's events reached the page over the orders stream.
    wait(
        browser,
        "order events streamed",
        "Number(document.documentElement.dataset.orderEvents) > 0",
        10,
    )
    .await;

    // Ten ticks under the best bid: it rests.
    browser
        .script("const tr = document.querySelector('#depth tbody tr:nth-child(4)'); document.getElementById('t-price').value = tr.children[1].textContent; return 0")
        .await
        .unwrap();
    for _ in 0..10 {
        browser.click("#t-price-down").await.unwrap();
    }
    let resting = send(browser, &filled, None).await;

    // A stop-limit buy at the ceiling, held by the OMS until the market gets there.
    let ceiling = browser
        .script("return document.getElementById('sym-ceil').textContent")
        .await
        .unwrap();
    let ceiling = ceiling.as_str().unwrap().to_owned();
    browser
        .script("const m = document.getElementById('t-mode'); m.value = 'stop_limit'; m.dispatchEvent(new Event('change')); return 0")
        .await
        .unwrap();
    browser.retype("#t-trigger", &ceiling).await.unwrap();
    browser.retype("#t-price", &ceiling).await.unwrap();
    let stop = send(browser, &resting, None).await;
    browser
        .script("const m = document.getElementById('t-mode'); m.value = 'normal'; m.dispatchEvent(new Event('change')); return 0")
        .await
        .unwrap();

    // The keyboard: S turns the ticket to a sale.
    let pressed = browser
        .script("document.dispatchEvent(new KeyboardEvent('keydown', {key: 's'})); return document.getElementById('t-sell').getAttribute('aria-pressed')")
        .await
        .unwrap();
    assert_eq!(pressed, "true");

    // The orders page: the resting order working, the filled one with its fill.
    browser.click("#pages a[data-page=orders]").await.unwrap();
    let working = format!("#working tr[data-order-id='{resting}']");
    if let Err(e) = browser
        .until(
            "the resting order working",
            &format!("document.querySelector(\"{working}\")?.children[7].textContent === 'new'"),
            Duration::from_secs(20),
        )
        .await
    {
        let tables = browser
            .script("return document.getElementById('working').textContent + ' || ' + document.getElementById('allorders').textContent")
            .await
            .unwrap();
        panic!("{e}; the orders page: {tables}");
    }
    wait(browser, "the filled order and its fill", &format!("document.querySelector(\"#allorders tr[data-order-id='{filled}']\")?.dataset.status === 'filled' && document.querySelector(\"#fills tr[data-order-id='{filled}']\")"), 20).await;
    wait(browser, "the stop-limit held", &format!("document.querySelector(\"#held tr[data-held-id='{stop}']\")?.dataset.status === 'active'"), 20).await;
    screenshot(browser, "portal-orders-en").await;
    browser
        .click(&format!("#held tr[data-held-id='{stop}'] button.cancel"))
        .await
        .unwrap();
    wait(browser, "the stop-limit cancelled", &format!("document.querySelector(\"#held tr[data-held-id='{stop}']\")?.dataset.status === 'cancelled'"), 20).await;

    // Amend its quantity, then cancel it.
    browser
        .click(&format!("{working} button.amend"))
        .await
        .unwrap();
    browser.retype(".amend-qty", "200").await.unwrap();
    browser
        .click(&format!("{working} button.save"))
        .await
        .unwrap();
    wait(
        browser,
        "the amended quantity",
        &format!("document.querySelector(\"{working}\")?.children[5].textContent === '200'"),
        20,
    )
    .await;
    browser
        .click(&format!("{working} button.cancel"))
        .await
        .unwrap();
    wait(browser, "the order cancelled", &format!("document.querySelector(\"#allorders tr[data-order-id='{resting}']\")?.dataset.status === 'cancelled'"), 20).await;

    // The portfolio: the 100 bought, settling at T+0; cash and the net asset value.
    browser
        .click("#pages a[data-page=portfolio]")
        .await
        .unwrap();
    let t0 = wait(browser, "the holding", &format!("document.querySelector(\"#holdings tr[data-symbol='{symbol}']\")?.children[3].textContent"), 20).await;
    assert_eq!(t0, "100");
    wait(browser, "cash, NAV and the NAV chart", "document.getElementById('p-summary').textContent.includes('Net asset value') && Number(document.getElementById('p-nav').dataset.points) >= 1 && document.querySelector('#p-nav canvas')", 10).await;
    screenshot(browser, "portal-portfolio-en").await;

    // Reports: today's fill with its fee, the day's totals, both as CSV.
    browser.click("#pages a[data-page=reports]").await.unwrap();
    wait(
        browser,
        "the trade history",
        "Number(document.getElementById('r-trades').dataset.loaded) >= 1",
        10,
    )
    .await;
    browser.click("#r-trades-csv").await.unwrap();
    let download = wait(
        browser,
        "the CSV offered",
        "document.documentElement.dataset.download",
        5,
    )
    .await;
    let download = download.as_str().unwrap();
    assert!(
        download.starts_with("qts-trades-0001001-") && download.ends_with(":1"),
        "{download}"
    );
    screenshot(browser, "portal-reports-en").await;

    // Strategies: the decision engine's, each with its state and performance.
    browser
        .click("#pages a[data-page=strategies]")
        .await
        .unwrap();
    wait(
        browser,
        "the strategies",
        "document.getElementById('strategylist').dataset.loaded !== undefined",
        10,
    )
    .await;
    // A strategy's parameters, set from the page: the decision engine takes them at once.
    browser
        .click("#strategylist tr[data-strategy='ma-cross'] button.amend:last-child")
        .await
        .unwrap();
    browser.retype(".p-timeframes", "1D").await.unwrap();
    browser
        .retype(".p-sizing", r#"{"kind": "fixed", "quantity": 300}"#)
        .await
        .unwrap();
    browser.click("tr.params button.save").await.unwrap();
    wait(browser, "the parameters taken", "document.querySelector(\"#strategylist tr[data-strategy='ma-cross']\")?.children[1].textContent.includes('· 1D ·')", 10).await;
    // A backtest of the fleet's strategies over the symbol's daily bars (the defaults: the
    // board's first symbols, the last 60 days).
    browser.click("#bt-run").await.unwrap();
    if let Err(e) = browser
        .until(
            "the backtest's report",
            "Number(document.getElementById('bt-metrics').dataset.loaded) >= 1 && document.querySelector('#bt-chart canvas')",
            Duration::from_secs(60),
        )
        .await
    {
        let state = browser
            .script("return document.getElementById('bt-state').textContent")
            .await
            .unwrap();
        panic!("{e}; the backtest says: {state}");
    }
    // The days were backfilled from the simulator first: more than one bar per symbol.
    let state = browser
        .script("return document.getElementById('bt-state').textContent")
        .await
        .unwrap();
    let state = state.as_str().unwrap();
    let bars: u64 = state
        .split_whitespace()
        .next()
        .and_then(|n| n.replace(',', "").parse().ok())
        .unwrap_or(0);
    assert!(
        state.contains("backfilled") && bars > 20,
        "the backtest says: {state}"
    );
    screenshot(browser, "portal-strategies-en").await;

    // The risk officer's view (the admin is one): a rule set written in the editor (a mistake
    // named by where it is, then saved, submitted and approved), the account's book, and the
    // global kill switch engaged with a reason, then released.
    browser.click("#risk-link").await.unwrap();
    browser
        .script("const s = document.getElementById('re-target'); s.value = 'order'; return 0")
        .await
        .unwrap();
    browser.click("#re-new").await.unwrap();
    wait(
        browser,
        "the template checked",
        "document.getElementById('re-problems').dataset.valid === 'true'",
        10,
    )
    .await;
    browser
        .script("const d = document.getElementById('re-doc'); d.value = d.value.replace('order.value', 'order.valu'); d.dispatchEvent(new Event('input')); return 0")
        .await
        .unwrap();
    wait(
        browser,
        "the mistake named",
        "document.getElementById('re-problems').textContent.includes('rules[0].condition')",
        10,
    )
    .await;
    assert_eq!(
        browser
            .script("return document.getElementById('re-save').disabled")
            .await
            .unwrap(),
        true
    );
    browser
        .script("const d = document.getElementById('re-doc'); d.value = d.value.replace('order.valu', 'order.value'); d.dispatchEvent(new Event('input')); return 0")
        .await
        .unwrap();
    for (button, status) in [
        ("#re-save", "draft"),
        ("#re-submit", "review"),
        ("#re-approve", "active"),
    ] {
        wait(
            browser,
            &format!("the next step allowed ({button})"),
            &format!("!document.querySelector('{button}').disabled"),
            10,
        )
        .await;
        browser.click(button).await.unwrap();
        wait(
            browser,
            &format!("the step taken ({status})"),
            &format!("document.getElementById('re-doc').dataset.status === '{status}'"),
            10,
        )
        .await;
    }
    wait(
        browser,
        "the rule set in force",
        "document.querySelector('#rulesets tr[data-set=\"house-limits\"][data-active=\"1\"]')",
        10,
    )
    .await;
    wait(
        browser,
        "the books",
        "document.querySelector('#books tr[data-book=\"account/0001001\"]')",
        10,
    )
    .await;
    browser
        .type_into("#kill-reason", "browser test")
        .await
        .unwrap();
    browser.click("#kill-global").await.unwrap();
    wait(
        browser,
        "the kill switch engaged",
        "document.getElementById('kill-global').dataset.engaged === 'true'",
        10,
    )
    .await;
    screenshot(browser, "portal-risk-en").await;
    browser.click("#kill-global").await.unwrap();
    wait(
        browser,
        "the kill switch released",
        "document.getElementById('kill-global').dataset.engaged === 'false'",
        10,
    )
    .await;
}
