//! The trader portal in a real browser (Chromium, driven over WebDriver by ChromeDriver): the
//! first admin opens the portal, is sent to the SSO-UI's sign-in, comes back to the price board
//! of the simulated market, sees it update live, filters it and switches language. Screenshots
//! go under the test output directory.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

use crate::helpers::{server, small_market, spawn_fleet_with, with_admin};

const ADMIN_PASSWORD: &str = "the portal admin's password";

/// ChromeDriver on a free port, stopped on drop.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A WebDriver session of headless Chromium.
struct Browser {
    http: reqwest::Client,
    session: String,
    _driver: Driver,
}

impl Browser {
    async fn start(chromedriver: &str) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let binary = std::env::var("TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": binary, "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1500,900", "--lang=vi"]}
        }}});
        let deadline = Instant::now() + Duration::from_secs(20);
        let session = loop {
            match http
                .post(format!("{}/session", driver.url))
                .json(&caps)
                .send()
                .await
            {
                Ok(r) => {
                    let v: Value = r.json().await.unwrap();
                    break v["value"]["sessionId"]
                        .as_str()
                        .unwrap_or_else(|| panic!("no WebDriver session: {v}"))
                        .to_owned();
                }
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("chromedriver does not answer: {e}"),
            }
        };
        Self {
            http,
            session,
            _driver: driver,
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let url = format!("{}/session/{}{path}", self._driver.url, self.session);
        let mut request = self.http.request(method, url);
        if !body.is_null() {
            request = request.json(&body);
        }
        let r = request.send().await.unwrap();
        let status = r.status();
        let v: Value = r.json().await.unwrap();
        assert!(status.is_success(), "WebDriver {path}: {status} {v}");
        v["value"].clone()
    }

    async fn go(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", json!({ "url": url }))
            .await;
    }

    async fn script(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            json!({"script": script, "args": []}),
        )
        .await
    }

    /// Waits until `script` (a JavaScript expression) is truthy; answers its value.
    async fn until(&self, what: &str, script: &str, limit: Duration) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            let v = self.script(&format!("return ({script});")).await;
            if !(v.is_null() || v == json!(false) || v == json!(0) || v == json!("")) {
                return v;
            }
            if Instant::now() >= deadline {
                let page = self
                    .script("return location.href + ' | ' + (document.getElementById('status') || document.body).textContent.slice(0, 300)")
                    .await;
                panic!("waited {limit:?} for {what}; the page: {page}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn element(&self, css: &str) -> String {
        let v = self
            .call(
                reqwest::Method::POST,
                "/element",
                json!({"using": "css selector", "value": css}),
            )
            .await;
        v.as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no {css}: {v}"))
            .to_owned()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            json!({ "text": text }),
        )
        .await;
    }

    async fn click(&self, css: &str) {
        let id = self.element(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/click"),
            json!({}),
        )
        .await;
    }

    async fn screenshot(&self, name: &str) {
        let png = self
            .call(reqwest::Method::GET, "/screenshot", Value::Null)
            .await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap();
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), bytes).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The driver's drop stops the browser with it.
    }
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
    let browser = Browser::start(&chromedriver).await;

    // The portal sends a visitor without a session to the sign-in, which sends them back.
    browser.go(&format!("{gateway}/api/portal/app")).await;
    browser
        .until(
            "the sign-in page",
            "document.querySelector('input[name=username]')",
            Duration::from_secs(20),
        )
        .await;
    browser.type_into("input[name=username]", "admin").await;
    browser
        .type_into("input[name=password]", ADMIN_PASSWORD)
        .await;
    browser.click("form button[type=submit]").await;
    let rows = browser
        .until(
            "the board's rows",
            "location.pathname === '/api/portal/app' && document.querySelectorAll('#rows tr').length",
            Duration::from_secs(30),
        )
        .await;
    assert!(rows.as_u64().unwrap() >= 10, "HOSE rows: {rows}");
    assert_eq!(
        browser
            .script("return document.getElementById('user').textContent")
            .await,
        "admin"
    );
    // Reference, ceiling and floor from master data, in the board's colours.
    let ceil = browser
        .script("return getComputedStyle(document.querySelector('#rows td.ceil')).color")
        .await;
    let floor = browser
        .script("return getComputedStyle(document.querySelector('#rows td.floor')).color")
        .await;
    assert_ne!(ceil, floor);

    // Live: the page's sequence number moves as the market trades, without a reload.
    let first = browser
        .until(
            "a sequence number",
            "document.documentElement.dataset.seq",
            Duration::from_secs(10),
        )
        .await;
    let first: u64 = first.as_str().unwrap().parse().unwrap();
    browser
        .until(
            "a live update",
            &format!("Number(document.documentElement.dataset.seq) > {first}"),
            Duration::from_secs(30),
        )
        .await;
    browser
        .until(
            "a traded price on the board",
            "[...document.querySelectorAll('#rows td.last')].some(td => td.textContent !== '')",
            Duration::from_secs(30),
        )
        .await;
    browser.screenshot("portal-board-vi").await;

    // Filter, the VN30 tab, and English.
    let symbol = browser
        .script("return document.querySelector('#rows tr').dataset.symbol")
        .await;
    let symbol = symbol.as_str().unwrap().to_owned();
    browser.type_into("#filter", &symbol).await;
    browser
        .until(
            "the filtered board",
            &format!("[...document.querySelectorAll('#rows tr')].every(tr => tr.dataset.symbol.startsWith('{symbol}'))"),
            Duration::from_secs(5),
        )
        .await;
    browser
        .script("const s = document.getElementById('filter'); s.value = ''; s.dispatchEvent(new Event('input')); return 0")
        .await;
    browser.click("#tabs button[data-tab=VN30]").await;
    browser
        .script("const s = document.getElementById('lang'); s.value = 'en'; s.dispatchEvent(new Event('change')); return 0")
        .await;
    assert_eq!(
        browser
            .script("return document.querySelector('th[data-sort=symbol]').textContent")
            .await,
        "Symbol"
    );
    assert_eq!(
        browser.script("return document.documentElement.lang").await,
        "en"
    );
    browser.screenshot("portal-board-en-vn30").await;
    drop(browser);
    fleet.stop().await;
}
