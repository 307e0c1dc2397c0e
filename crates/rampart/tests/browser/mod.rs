//! What the web console's tests share: `rampart serve` started on a free
//! port over a database, ChromeDriver started beside it, and a headless
//! Chromium session of a given window size. Without Chromium and its
//! driver the tests are skipped, unless `RAMPART_REQUIRE_SERVERS` is set
//! (CI), when they fail.

// Each test crate uses some of these helpers.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};

use crate::common::free_port;

/// Whether Chromium and ChromeDriver are installed; says the test is
/// skipped when not.
pub fn available() -> bool {
    let found = ["chromium", "chromedriver"].iter().all(|tool| {
        Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if !found {
        assert!(
            std::env::var_os("RAMPART_REQUIRE_SERVERS").is_none(),
            "chromium and chromedriver are not installed (scripts/install-servers.sh)"
        );
        eprintln!("skipped: chromium and chromedriver not installed (scripts/install-servers.sh)");
    }
    found
}

/// axe-core's script (`RAMPART_AXE`, or where scripts/install-servers.sh
/// puts it); `None`, saying the check is skipped, when it is not there.
pub fn axe() -> Option<String> {
    let path = std::env::var_os("RAMPART_AXE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            let tools = std::env::var_os("RAMPART_TOOLS")
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|| {
                    Path::new(&std::env::var_os("HOME").unwrap_or_default())
                        .join(".cache/rampart-tools")
                });
            tools.join("node_modules/axe-core/axe.min.js")
        });
    let script = std::fs::read_to_string(&path).ok();
    if script.is_none() {
        assert!(
            std::env::var_os("RAMPART_REQUIRE_SERVERS").is_none(),
            "axe-core is not at {} (scripts/install-servers.sh)",
            path.display()
        );
        eprintln!("skipped: axe-core not installed (scripts/install-servers.sh)");
    }
    script
}

/// The serious and critical accessibility violations axe finds on the
/// page loaded, as `rule: nodes` lines.
pub async fn accessibility(client: &Client, axe: &str) -> Vec<String> {
    client.execute(axe, Vec::new()).await.unwrap();
    let found = eval(
        client,
        "return axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'best-practice']}).then(r => \
         r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical') \
         .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(' | ')))",
    )
    .await;
    found
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// A process killed when dropped.
pub struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `rampart serve` over `db` on a free port, with `args` added and `env`
/// set; its address.
pub fn serve(db: &Path, args: &[&str], env: &[(&str, &str)]) -> (Running, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .arg("--db")
        .arg(db)
        .args(["serve", "--listen", "127.0.0.1:0", "--user", "tester"])
        .args(args)
        .env_remove("RAMPART_DB")
        .env_remove("RAMPART_TOKEN")
        .envs(env.iter().copied())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("serve said {line:?}"))
        .trim_end_matches('/')
        .to_owned();
    (Running(child), url)
}

/// The form token a page of the console carries in its triage form.
pub fn form_token(page: &str) -> String {
    page.split("name=\"token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page carries the form token")
        .to_owned()
}

/// ChromeDriver on a free port, and its address once it answers.
pub fn driver() -> (Running, String) {
    let port = free_port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let running = Running(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    (running, format!("http://127.0.0.1:{port}"))
}

/// A headless Chromium session with a window of `width` × `height`.
pub async fn session(driver: &str, width: u32, height: u32) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                format!("--window-size={width},{height}"),
            ]
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(driver)
        .await
        .expect("a Chromium session")
}

/// Runs `script` in the page and returns what it returns.
pub async fn eval(client: &Client, script: &str) -> serde_json::Value {
    client.execute(script, Vec::new()).await.unwrap()
}

/// Waits up to `secs` seconds for `script` to return true.
pub async fn wait_for(client: &Client, script: &str, secs: u64) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if eval(client, script).await == serde_json::Value::Bool(true) {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Saves a screenshot as `name` in `RAMPART_SCREENSHOTS`, when set.
pub async fn screenshot(client: &Client, name: &str) {
    if let Some(dir) = std::env::var_os("RAMPART_SCREENSHOTS") {
        let png = client.screenshot().await.unwrap();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(Path::new(&dir).join(name), png).unwrap();
    }
}
