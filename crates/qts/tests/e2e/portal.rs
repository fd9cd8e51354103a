//! The trader portal in a real browser (Chromium, driven over WebDriver by ChromeDriver): the
//! first admin opens the portal, is sent to the SSO-UI's sign-in, comes back to the price board
//! of the simulated market, sees it update live, filters it and switches language. Screenshots
//! go under the test output directory.

use std::time::Duration;

use qts::webdriver::Browser;

use crate::helpers::{server, small_market, spawn_fleet_with, with_admin};

const ADMIN_PASSWORD: &str = "the portal admin's password";

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
    opts.market = qts::fleet::Market::Simulator(Box::new(qts::fleet::SimOptions {
        config: small_market(60.0),
    }));
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
    let first = browser
        .until(
            "a sequence number",
            "document.documentElement.dataset.seq",
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    let first: u64 = first.as_str().unwrap().parse().unwrap();
    browser
        .until(
            "a live update",
            &format!("Number(document.documentElement.dataset.seq) > {first}"),
            Duration::from_secs(30),
        )
        .await
        .unwrap();
    browser
        .until(
            "a traded price on the board",
            "[...document.querySelectorAll('#rows td.last')].some(td => td.textContent !== '')",
            Duration::from_secs(30),
        )
        .await
        .unwrap();
    screenshot(&browser, "portal-board-vi").await;

    // A symbol opens its view: candles from the historical service, depth, time and sales.
    browser.click("#rows tr td.sym a").await.unwrap();
    browser
        .until(
            "the symbol view",
            "!document.getElementById('symbolview').hidden && document.querySelector('#chart canvas')",
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    browser
        .until(
            "candles and trades",
            "Number(document.getElementById('chart').dataset.bars) > 0 && document.querySelectorAll('#sales tbody tr').length > 0",
            Duration::from_secs(30),
        )
        .await
        .unwrap();
    // The user's orders in the symbol, from the OMS (the admin's: every account).
    browser
        .until(
            "the user's orders",
            "document.getElementById('mine').dataset.loaded !== undefined",
            Duration::from_secs(20),
        )
        .await
        .unwrap();
    // The default indicator (SMA 20) was computed by the TA service over the same bars.
    browser
        .until(
            "the indicators computed",
            "document.getElementById('chart').dataset.indicators !== undefined",
            Duration::from_secs(20),
        )
        .await
        .unwrap();
    assert_eq!(
        browser
            .script("return document.querySelectorAll('#depth tbody tr').length")
            .await
            .unwrap(),
        6,
        "three asks and three bids"
    );
    screenshot(&browser, "portal-symbol-vi").await;
    browser.click("#back").await.unwrap();
    browser
        .until(
            "the board again",
            "document.getElementById('symbolview').hidden && !document.getElementById('boardview').hidden",
            Duration::from_secs(5),
        )
        .await
        .unwrap();

    // Filter, the VN30 tab, and English.
    let symbol = browser
        .script("return document.querySelector('#rows tr').dataset.symbol")
        .await
        .unwrap();
    let symbol = symbol.as_str().unwrap().to_owned();
    browser.type_into("#filter", &symbol).await.unwrap();
    browser
        .until(
            "the filtered board",
            &format!("[...document.querySelectorAll('#rows tr')].every(tr => tr.dataset.symbol.startsWith('{symbol}'))"),
            Duration::from_secs(5),
        )
        .await
        .unwrap();
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
    browser.close().await.unwrap();
    fleet.stop().await;
}
