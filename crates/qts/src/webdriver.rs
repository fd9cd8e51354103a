//! Headless Chromium over the W3C WebDriver protocol (ChromeDriver): what the portal's browser
//! tests and `qts bench portal` drive the web app with. A few JSON calls over HTTP, so no
//! browser-automation crate is needed.

#[cfg(unix)]
use std::os::unix::process::CommandExt as _;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use base64::Engine as _;
use reqwest::Method;
use serde_json::{Value, json};

/// ChromeDriver on a free port, stopped (with its browser) on drop.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // ChromeDriver leads a process group of its own with the browser it started: the whole
        // group goes, so a test that panicked before `close` leaves no Chromium behind.
        #[cfg(unix)]
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One WebDriver session of headless Chromium.
pub struct Browser {
    http: reqwest::Client,
    session: String,
    driver: Driver,
}

impl Browser {
    /// Starts `chromedriver` and a headless Chromium (`$TEST_CHROMIUM`, else
    /// `/usr/bin/chromium`) of `width`×`height`.
    pub async fn start(chromedriver: &str, width: u32, height: u32) -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let mut command = Command::new(chromedriver);
        command.arg(format!("--port={port}"));
        #[cfg(unix)]
        command.process_group(0);
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("start {chromedriver}"))?;
        let driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()?;
        let binary = std::env::var("TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": binary, "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                format!("--window-size={width},{height}"), "--lang=vi"]}
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
                    let v: Value = r.json().await?;
                    break v["value"]["sessionId"]
                        .as_str()
                        .with_context(|| format!("no WebDriver session: {v}"))?
                        .to_owned();
                }
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => return Err(e).context("chromedriver does not answer"),
            }
        };
        Ok(Self {
            http,
            session,
            driver,
        })
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
        let url = format!("{}/session/{}{path}", self.driver.url, self.session);
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let r = request.send().await?;
        let status = r.status();
        let v: Value = r.json().await?;
        if !status.is_success() {
            bail!("WebDriver {path}: {status} {v}");
        }
        Ok(v["value"].clone())
    }

    /// Ends the session (the browser quits), then stops ChromeDriver. Dropping a browser
    /// without closing it stops ChromeDriver only, which may leave the browser running.
    pub async fn close(self) -> anyhow::Result<()> {
        let url = format!("{}/session/{}", self.driver.url, self.session);
        self.http.delete(url).send().await?.error_for_status()?;
        Ok(())
    }

    /// Opens `url`.
    pub async fn go(&self, url: &str) -> anyhow::Result<()> {
        self.call(Method::POST, "/url", Some(json!({ "url": url })))
            .await
            .map(drop)
    }

    /// Runs `script` (a function body: `return ...`) in the page; answers its value.
    pub async fn script(&self, script: &str) -> anyhow::Result<Value> {
        self.call(
            Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    /// Waits until the JavaScript expression `expr` is truthy; answers its value. Past `limit`
    /// the error says where the page is and what its status line shows.
    pub async fn until(&self, what: &str, expr: &str, limit: Duration) -> anyhow::Result<Value> {
        let deadline = Instant::now() + limit;
        loop {
            let v = self.script(&format!("return ({expr});")).await?;
            if !(v.is_null() || v == json!(false) || v == json!(0) || v == json!("")) {
                return Ok(v);
            }
            if Instant::now() >= deadline {
                let page = self
                    .script("return location.href + ' | ' + (document.getElementById('status') || document.body).textContent.slice(0, 300)")
                    .await?;
                bail!("waited {limit:?} for {what}; the page: {page}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn element(&self, css: &str) -> anyhow::Result<String> {
        let v = self
            .call(
                Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await?;
        v.as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .map(str::to_owned)
            .with_context(|| format!("no {css}: {v}"))
    }

    /// Types `text` into the element `css` selects.
    pub async fn type_into(&self, css: &str, text: &str) -> anyhow::Result<()> {
        let id = self.element(css).await?;
        self.call(
            Method::POST,
            &format!("/element/{id}/value"),
            Some(json!({ "text": text })),
        )
        .await
        .map(drop)
    }

    /// Empties the input `css` selects.
    pub async fn clear(&self, css: &str) -> anyhow::Result<()> {
        let id = self.element(css).await?;
        self.call(
            Method::POST,
            &format!("/element/{id}/clear"),
            Some(json!({})),
        )
        .await
        .map(drop)
    }

    /// Empties the input `css` selects, then types `text` into it.
    pub async fn retype(&self, css: &str, text: &str) -> anyhow::Result<()> {
        self.clear(css).await?;
        self.type_into(css, text).await
    }

    /// Clicks the element `css` selects. A page that redrew it between finding and clicking
    /// (a stale element) has it found again, a few times.
    pub async fn click(&self, css: &str) -> anyhow::Result<()> {
        let mut tries = 0;
        loop {
            let id = self.element(css).await?;
            let clicked = self
                .call(
                    Method::POST,
                    &format!("/element/{id}/click"),
                    Some(json!({})),
                )
                .await;
            match clicked {
                Err(e) if tries < 5 && e.to_string().contains("stale element") => tries += 1,
                other => return other.map(drop),
            }
        }
    }

    /// Resizes the browser's window (e.g. to a phone's width).
    pub async fn resize(&self, width: u32, height: u32) -> anyhow::Result<()> {
        self.call(
            Method::POST,
            "/window/rect",
            Some(json!({ "width": width, "height": height })),
        )
        .await
        .map(drop)
    }

    /// The page as a PNG.
    pub async fn screenshot(&self) -> anyhow::Result<Vec<u8>> {
        let png = self.call(Method::GET, "/screenshot", None).await?;
        Ok(base64::engine::general_purpose::STANDARD
            .decode(png.as_str().context("a screenshot")?)?)
    }

    /// Opens the portal at `gateway` and signs in through the SSO-UI page it sends a new
    /// visitor to; answers once the board has rows. `query` is added to the portal's address.
    pub async fn sign_in_to_portal(
        &self,
        gateway: &str,
        query: &str,
        user: &str,
        password: &str,
    ) -> anyhow::Result<()> {
        self.go(&format!("{gateway}/api/portal/app{query}")).await?;
        self.until(
            "the sign-in page",
            "document.querySelector('input[name=username]')",
            Duration::from_secs(20),
        )
        .await?;
        self.type_into("input[name=username]", user).await?;
        self.type_into("input[name=password]", password).await?;
        self.click("form button[type=submit]").await?;
        self.until(
            "the board's rows",
            "location.pathname === '/api/portal/app' && document.querySelectorAll('#rows tr').length",
            Duration::from_secs(60),
        )
        .await
        .map(drop)
    }
}
