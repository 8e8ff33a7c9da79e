//! Headless Chromium driven over the DevTools protocol (a small client over one WebSocket), with
//! the network off: every host name resolves to nothing but 127.0.0.1, and every request that
//! is not to the loopback goes to a proxy that does not exist. The page's requests are recorded
//! (`Network.requestWillBeSent`), so a test can assert that none left 127.0.0.1.
//!
//! Chromium is `chromium` on the PATH (Debian's package; .ci/run installs it), or the program
//! named by `TEST_CHROMIUM`. Without it a test is skipped with a message, except under CI
//! (`CI=true`), where it fails saying what to install.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How long a page may take to reach a state a test waits for (a hang guard, not a measurement).
const PATIENCE: Duration = Duration::from_secs(60);

/// The Chromium program, or `None` when there is none (a panic under CI).
pub fn chromium() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("TEST_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|d| d.join(name))
                    .find(|p| p.is_file())
            })
        });
    if found.is_none() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "Chromium is not installed, and the browser tests need it: `apt-get install chromium` \
                 (.ci/run installs it), or set TEST_CHROMIUM to a Chromium or Chrome program"
            );
        }
        eprintln!(
            "SKIPPED: Chromium is not installed (`apt-get install chromium`, or set TEST_CHROMIUM); \
             under CI=true this test fails instead"
        );
    }
    found
}

/// A running headless Chromium with one page.
pub struct Browser {
    child: Child,
    /// The profile folder (removed at drop); screenshots go beside it.
    pub dir: PathBuf,
    socket: Socket,
    session: String,
    next_id: u64,
    /// Every URL the page requested, in order.
    pub requests: Vec<String>,
    /// The emulated viewport: width, height, phone.
    metrics: (u32, u32, bool),
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(self.dir.join("profile"));
    }
}

impl Browser {
    /// Starts Chromium (`None` when it is missing outside CI) with a desktop-sized window.
    pub async fn start(name: &str) -> Option<Browser> {
        let program = chromium()?;
        let dir = std::env::temp_dir().join(format!(
            "pn-browser-{name}-{}",
            uuid::Uuid::new_v4().simple()
        ));
        let profile = dir.join("profile");
        std::fs::create_dir_all(&profile).expect("browser profile folder");
        let log = std::fs::File::create(dir.join("chromium.log")).expect("browser log");
        let child = Command::new(&program)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-features=Translate,MediaRouter,OptimizationHints",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                "--proxy-server=127.0.0.1:1",
                "--remote-debugging-port=0",
                "--window-size=1280,900",
                "about:blank",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
        // Chromium writes its port and the browser's WebSocket path once it listens.
        let port_file = profile.join("DevToolsActivePort");
        let deadline = Instant::now() + PATIENCE;
        let ws_url = loop {
            if let Ok(text) = std::fs::read_to_string(&port_file) {
                let mut lines = text.lines();
                if let (Some(port), Some(path)) = (lines.next(), lines.next()) {
                    break format!("ws://127.0.0.1:{port}{path}");
                }
            }
            assert!(
                Instant::now() < deadline,
                "Chromium did not open its DevTools port; its log: {}",
                std::fs::read_to_string(dir.join("chromium.log")).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let (socket, _) = tokio_tungstenite::connect_async(ws_url.as_str())
            .await
            .expect("connect to Chromium's DevTools");
        let mut b = Browser {
            child,
            dir,
            socket,
            session: String::new(),
            next_id: 0,
            requests: Vec::new(),
            metrics: (1280, 900, false),
        };
        let target = b
            .call_browser("Target.createTarget", json!({"url": "about:blank"}))
            .await;
        let target_id = target["targetId"].as_str().expect("targetId").to_string();
        let attached = b
            .call_browser(
                "Target.attachToTarget",
                json!({"targetId": target_id, "flatten": true}),
            )
            .await;
        b.session = attached["sessionId"]
            .as_str()
            .expect("sessionId")
            .to_string();
        for domain in ["Page.enable", "Network.enable", "Runtime.enable"] {
            b.call(domain, json!({})).await;
        }
        b.viewport(1280, 900, false).await;
        Some(b)
    }

    async fn send(&mut self, method: &str, params: Value, session: bool) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if session {
            msg["sessionId"] = json!(self.session);
        }
        self.socket
            .send(Message::text(msg.to_string()))
            .await
            .expect("send to Chromium");
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let next = tokio::time::timeout(left, self.socket.next())
                .await
                .unwrap_or_else(|_| panic!("Chromium did not answer {method}"));
            let Some(Ok(Message::Text(text))) = next else {
                match next {
                    Some(Ok(_)) => continue,
                    other => panic!("Chromium's DevTools connection ended: {other:?}"),
                }
            };
            let v: Value = serde_json::from_str(text.as_str()).expect("DevTools JSON");
            if v["id"].as_u64() == Some(id) {
                if let Some(e) = v.get("error") {
                    panic!("{method} failed: {e}");
                }
                return v["result"].clone();
            }
            if v["method"] == "Network.requestWillBeSent"
                && let Some(url) = v["params"]["request"]["url"].as_str()
            {
                self.requests.push(url.to_string());
            }
        }
    }

    async fn call_browser(&mut self, method: &str, params: Value) -> Value {
        self.send(method, params, false).await
    }

    /// A DevTools command on the page.
    pub async fn call(&mut self, method: &str, params: Value) -> Value {
        self.send(method, params, true).await
    }

    /// Loads `url` and waits until the document is complete.
    pub async fn goto(&mut self, url: &str) {
        self.call("Page.navigate", json!({"url": url})).await;
        self.wait_for("document.readyState === 'complete'", "the page to load")
            .await;
    }

    /// The value of a JavaScript expression (promises awaited); panics on an exception.
    pub async fn eval(&mut self, expression: &str) -> Value {
        let r = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
            )
            .await;
        if let Some(e) = r.get("exceptionDetails") {
            panic!("{expression} threw: {e}");
        }
        r["result"]["value"].clone()
    }

    /// Polls `expression` until it is truthy; its value. Panics after [`PATIENCE`], showing the
    /// page's text.
    pub async fn wait_for(&mut self, expression: &str, what: &str) -> Value {
        let deadline = Instant::now() + PATIENCE;
        let guarded = format!(
            "(() => {{ try {{ return ({expression}); }} catch (e) {{ return null; }} }})()"
        );
        loop {
            let v = self.eval(&guarded).await;
            let truthy = match &v {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::String(s) => !s.is_empty(),
                Value::Number(n) => n.as_f64() != Some(0.0),
                _ => true,
            };
            if truthy {
                return v;
            }
            if Instant::now() > deadline {
                let text = self
                    .eval("document.body ? document.body.innerText.slice(0, 2000) : ''")
                    .await;
                panic!("gave up waiting for {what} ({expression}); the page says: {text}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks the element `selector` (which must exist).
    pub async fn click(&mut self, selector: &str) {
        let sel = serde_json::to_string(selector).expect("selector");
        let clicked = self
            .eval(&format!(
                "(() => {{ const e = document.querySelector({sel}); if (!e) return false; e.click(); return true; }})()"
            ))
            .await;
        assert_eq!(clicked, json!(true), "no element {selector} to click");
    }

    /// Sets the value of the input `selector`.
    pub async fn fill(&mut self, selector: &str, value: &str) {
        let sel = serde_json::to_string(selector).expect("selector");
        let val = serde_json::to_string(value).expect("value");
        let done = self
            .eval(&format!(
                "(() => {{ const e = document.querySelector({sel}); if (!e) return false; e.value = {val}; return true; }})()"
            ))
            .await;
        assert_eq!(done, json!(true), "no input {selector}");
    }

    /// Emulates a viewport of `width` × `height` CSS pixels (`mobile`: a phone's).
    pub async fn viewport(&mut self, width: u32, height: u32, mobile: bool) {
        self.metrics = (width, height, mobile);
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}),
        )
        .await;
    }

    /// A PNG of the whole page written to `path`: the viewport is stretched to the page's
    /// height for the shot (so the layout keeps its width), then restored.
    pub async fn screenshot(&mut self, path: &Path) {
        let (width, height, mobile) = self.metrics;
        let full = self
            .eval("Math.ceil(document.documentElement.scrollHeight)")
            .await
            .as_u64()
            .unwrap_or(u64::from(height));
        let full = u32::try_from(full).unwrap_or(height).max(height);
        self.viewport(width, full, mobile).await;
        let shot = self
            .call("Page.captureScreenshot", json!({"format": "png"}))
            .await;
        self.viewport(width, height, mobile).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().expect("screenshot data"))
            .expect("screenshot base64");
        std::fs::write(path, png).expect("write the screenshot");
    }

    /// The requests that went anywhere but `http://<origin>/` (or `data:`, `about:`).
    pub fn requests_outside(&self, origin: &str) -> Vec<String> {
        let own = format!("http://{origin}/");
        self.requests
            .iter()
            .filter(|u| !(u.starts_with(&own) || u.starts_with("data:") || u.starts_with("about:")))
            .cloned()
            .collect()
    }
}

/// Where a test keeps its screenshots: `TEST_SCREENSHOT_DIR` when set (to look at them after
/// the run), else the browser's temporary folder.
pub fn screenshot_dir(browser: &Browser) -> PathBuf {
    match std::env::var_os("TEST_SCREENSHOT_DIR") {
        Some(d) => {
            let d = PathBuf::from(d);
            std::fs::create_dir_all(&d).expect("TEST_SCREENSHOT_DIR");
            d
        }
        None => browser.dir.clone(),
    }
}
