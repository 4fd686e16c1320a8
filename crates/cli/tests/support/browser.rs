//! End-to-end tests in a real headless Chromium, driven over WebDriver by a local `chromedriver`.
//!
//! A test reads as a script of what a person does:
//!
//! ```ignore
//! let Some(b) = Browser::demo("landing_page") else { return };
//! b.goto("/?lang=kk");
//! b.click("nav a[hreflang=ru]");
//! b.wait_for("html[lang=ru]");
//! b.screenshot("russian");
//! ```
//!
//! Each [`Browser`] has its own `chromedriver` (on a free port), its own Chromium session and,
//! from [`Browser::demo`], its own `qyzmet demo` (temporary data directory, port chosen by the OS),
//! so browser tests run in parallel. Every WebDriver call and every wait has a timeout, and all of
//! it is stopped on drop, also when the test fails; a failing test leaves a screenshot and the
//! page's HTML beside its other artifacts.
//!
//! Artifacts (screenshots, the server's and chromedriver's logs) go to
//! `<workspace>/target/browser-artifacts/<test>/`, or under `$QYZMET_BROWSER_ARTIFACTS`; CI keeps
//! them. Without `chromium` and `chromedriver` on the PATH the tests are skipped with a note,
//! unless `QYZMET_REQUIRE_BROWSER=1` (set by CI) makes that a failure.
//!
//! The helpers block (each browser owns a small Tokio runtime): call them from plain `#[test]`
//! functions, not from `#[tokio::test]`.

use std::cell::Cell;
use std::future::Future;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator, error::CmdError};
use serde_json::json;

use super::Serving;

/// How long a wait or a WebDriver command may take by default.
pub const TIMEOUT: Duration = Duration::from_secs(15);
/// How long Chromium may take to start a session, and `qyzmet demo` to print its address (the
/// first start of a demo creates its CAs and keys).
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// The two programs the browser tests need, found on the PATH.
#[derive(Clone, Debug)]
pub struct Tools {
    pub chromium: PathBuf,
    pub chromedriver: PathBuf,
}

/// `chromium` and `chromedriver` from the PATH; `None` (after a note on stderr) when either is
/// missing, so that the caller skips. With `QYZMET_REQUIRE_BROWSER=1` a missing one fails the test.
pub fn tools() -> Option<Tools> {
    let find = |name: &str| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(name))
                .find(|path| path.is_file())
        })
    };
    match (find("chromium"), find("chromedriver")) {
        (Some(chromium), Some(chromedriver)) => Some(Tools {
            chromium,
            chromedriver,
        }),
        _ => {
            assert!(
                std::env::var("QYZMET_REQUIRE_BROWSER").as_deref() != Ok("1"),
                "QYZMET_REQUIRE_BROWSER=1 but chromium or chromedriver is not on the PATH \
                 (Debian: apt-get install chromium chromium-driver)"
            );
            eprintln!(
                "note: chromium or chromedriver missing; skipping the browser test \
                 (apt-get install chromium chromium-driver)"
            );
            None
        }
    }
}

/// The directory of one test's artifacts, emptied of an earlier run's and created:
/// `$QYZMET_BROWSER_ARTIFACTS/<test>` or `<workspace>/target/browser-artifacts/<test>`.
pub fn artifacts(test: &str) -> PathBuf {
    let root = std::env::var_os("QYZMET_BROWSER_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/browser-artifacts")
        });
    let dir = root.join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("create the artifacts directory {}: {e}", dir.display()));
    dir
}

/// A running `qyzmet demo` on a fresh data directory and a port the OS chose; stopped (and its
/// data removed) on drop.
pub struct Demo {
    pub serving: Serving,
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub url: String,
    printed: Arc<Mutex<Vec<String>>>,
    data: tempfile::TempDir,
}

impl Demo {
    /// Starts `qyzmet demo --data <temp> --listen 127.0.0.1:0`, its stderr to `log`, and waits
    /// (at most two minutes) for the URLs it prints. Its standard output keeps being read, so
    /// [`Demo::printed`] has the accounts, keys and passwords it prints after them.
    pub fn start(log: &Path) -> Demo {
        let data = tempfile::tempdir().expect("tempdir");
        let (child, printed, line, address) = launch(&data.path().join("data"), "127.0.0.1:0", log);
        let url = format!("http://{address}");
        Demo {
            serving: Serving {
                child,
                line,
                address,
            },
            url,
            printed,
            data,
        }
    }

    /// Stops the demo and starts it again on the same data and the same address (the CRL and OCSP
    /// addresses in its certificates name that address), its stderr appended to `log`; waits for
    /// its URLs. A fresh process has no cached CRL: a revocation made meanwhile is seen at once.
    pub fn restart(&mut self, log: &Path) {
        let _ = self.serving.child.kill();
        let _ = self.serving.child.wait();
        let address = self.serving.address.clone();
        let (child, printed, line, _) = launch(&self.data(), &address, log);
        self.serving.child = child;
        self.serving.line = line;
        self.printed = printed;
    }
    /// The demo's data directory (`keys/`, `ca-passphrase`, the SQLite file).
    pub fn data(&self) -> PathBuf {
        self.data.path().join("data")
    }

    /// Every line the demo has printed so far.
    pub fn printed(&self) -> Vec<String> {
        self.printed.lock().expect("lock").clone()
    }

    /// The IIN of the demo login whose label starts with `label` ("individual", "employee of",
    /// "clerk of national-archive"), from the lines the demo prints (waited for, a minute at most).
    pub fn login(&self, label: &str) -> String {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let printed = self.printed();
            let found = printed.iter().find_map(|line| {
                let rest = line.trim_start().strip_prefix(label)?;
                // Portal and back-office logins; a PSC operator's goes on to `?next=/psc`.
                line.contains("/login").then_some(())?;
                rest.split_whitespace()
                    .find(|w| w.len() == 12 && w.bytes().all(|b| b.is_ascii_digit()))
                    .map(str::to_owned)
            });
            if let Some(iin) = found {
                return iin;
            }
            assert!(
                Instant::now() < deadline,
                "the demo printed no login {label:?}: {printed:#?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The BIN the demo prints beside its legal entity's employee ("employee of … (BIN …)").
    pub fn employee_bin(&self) -> String {
        self.login("employee of");
        self.printed()
            .iter()
            .find_map(|line| {
                let rest = line.trim_start().strip_prefix("employee of")?;
                let bin = rest.split("(BIN ").nth(1)?.split(')').next()?;
                Some(bin.to_owned())
            })
            .expect("the employee's BIN")
    }

    /// A person's demo key stores: (signing, authentication, password file).
    pub fn keys(&self, iin: &str) -> (PathBuf, PathBuf, PathBuf) {
        let keys = self.data().join("keys");
        (
            keys.join(format!("{iin}-signing.p12")),
            keys.join(format!("{iin}-auth.p12")),
            keys.join("password.txt"),
        )
    }

    /// Runs `qyzmet ARGS` (a minute at most) and returns its output; panics when it fails.
    pub fn qyzmet(&self, args: &[&str]) -> String {
        let output = run_bounded(
            Command::new(env!("CARGO_BIN_EXE_qyzmet"))
                .args(args)
                .env_remove("QYZMET_DATABASE_URL"),
            Duration::from_secs(60),
        );
        assert!(
            output.status.success(),
            "qyzmet {args:?} failed ({}): {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}

/// Runs a command to its end, killing it after `limit`.
fn run_bounded(command: &mut Command, limit: Duration) -> std::process::Output {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the command");
    let id = child.id();
    let (done_tx, done_rx) = mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let output = child.wait_with_output();
        let _ = done_tx.send(());
        output
    });
    if done_rx.recv_timeout(limit).is_err() {
        // Only the child this function started, by its id.
        let _ = Command::new("kill").arg("-9").arg(id.to_string()).status();
        panic!("{command:?} took longer than {limit:?}");
    }
    waiter
        .join()
        .expect("waiter")
        .expect("the command's output")
}

/// A person's local signing agent: `qyzmet layer` with their signing and authentication keys on a
/// port the OS chose, serving the demo's pages (`--allow-origin` its URL) and signing without asking
/// (`--yes`, allowed by naming the test in `QYZMET_LAYER_AUTO_CONSENT_FOR_TEST`); stopped on drop.
/// Pages reach it through `?layer=` + [`Layer::url`].
pub struct Layer {
    child: Child,
    /// `wss://127.0.0.1:PORT`.
    pub url: String,
}

impl Layer {
    /// Starts the agent of the demo person `iin`, its stderr to `log`, and waits (at most 30 s)
    /// for the address it prints first.
    pub fn start(demo: &Demo, iin: &str, log: &Path) -> Layer {
        let (signing, auth, _) = demo.keys(iin);
        let key_dir = signing.parent().map(Path::to_path_buf).unwrap_or_default();
        Layer::start_with(demo, &[&signing, &auth], &key_dir, log)
    }

    /// Starts an agent with the key stores `stores` (under the demo's password) and `key_dir`,
    /// where it keeps the keys it generates and writes the key stores it installs.
    pub fn start_with(demo: &Demo, stores: &[&Path], key_dir: &Path, log: &Path) -> Layer {
        let password = demo.data().join("keys").join("password.txt");
        let stderr =
            std::fs::File::create(log).unwrap_or_else(|e| panic!("create {}: {e}", log.display()));
        let mut child = Command::new(env!("CARGO_BIN_EXE_qyzmet"))
            .arg("layer")
            .args(
                stores
                    .iter()
                    .flat_map(|store| [std::ffi::OsStr::new("--p12"), store.as_os_str()]),
            )
            .arg("--key-dir")
            .arg(key_dir)
            .arg("--password-file")
            .arg(&password)
            .args(["--listen", "127.0.0.1:0", "--yes"])
            .arg("--allow-origin")
            .arg(&demo.url)
            .env("QYZMET_LAYER_AUTO_CONSENT_FOR_TEST", test_of(log))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start qyzmet layer");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(line) => match line.strip_prefix("qyzmet layer listening on ") {
                Some(url) => Layer {
                    child,
                    url: url.trim().to_owned(),
                },
                None => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "qyzmet layer printed {line:?} first; its stderr is {}",
                        log.display()
                    )
                }
            },
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "qyzmet layer printed no address ({e}); its stderr is {}",
                    log.display()
                )
            }
        }
    }

    /// `path` with `layer=<this agent>` added to its query, for the pages that sign.
    pub fn on(&self, path: &str) -> String {
        let separator = if path.contains('?') { '&' } else { '?' };
        format!("{path}{separator}layer={}", self.url)
    }
}

impl Drop for Layer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The test a log belongs to: the name of its artifacts directory.
fn test_of(log: &Path) -> String {
    log.parent()
        .and_then(Path::file_name)
        .map(|name| name.to_string_lossy().into_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "a browser test".to_owned())
}

/// Spawns `qyzmet demo --data DIR --listen ADDRESS` (stderr appended to `log`) and waits for the
/// health URL it prints; the child, the lines printed (kept being read), that line and the address.
/// A restart on a port just freed may find it taken a moment longer: it tries for a few seconds.
fn launch(
    data: &Path,
    listen: &str,
    log: &Path,
) -> (Child, Arc<Mutex<Vec<String>>>, String, String) {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap_or_else(|e| panic!("open {}: {e}", log.display()));
        let mut child = Command::new(env!("CARGO_BIN_EXE_qyzmet"))
            .arg("demo")
            .arg("--data")
            .arg(data)
            .args(["--listen", listen])
            .env_remove("QYZMET_DATABASE_URL")
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start qyzmet demo");
        let stdout = child.stdout.take().expect("stdout");
        let printed = Arc::new(Mutex::new(Vec::new()));
        let (lines_tx, lines_rx) = mpsc::channel();
        let keep = printed.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                keep.lock().expect("lock").push(line.clone());
                let _ = lines_tx.send(line);
            }
        });
        // The demo's first line names the store; its URLs follow ("health: http://ADDR/healthz").
        let failure = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines_rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(url) = line.split_whitespace().find(|w| w.ends_with("/healthz")) {
                        let address = url
                            .trim_start_matches("http://")
                            .trim_end_matches("/healthz")
                            .to_owned();
                        return (child, printed, line, address);
                    }
                }
                Err(e) => break e,
            }
        };
        let status = child.try_wait();
        let _ = child.kill();
        let _ = child.wait();
        let retry = !listen.ends_with(":0")
            && Instant::now() + Duration::from_secs(1) < deadline
            && matches!(status, Ok(Some(_)));
        if retry {
            std::thread::sleep(Duration::from_millis(300));
            continue;
        }
        panic!(
            "qyzmet demo printed no health URL ({failure}; exit: {status:?}); printed: {:#?}; \
             its stderr is in {}",
            printed.lock().expect("lock"),
            log.display()
        );
    }
}

/// How to start the browser.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Chromium's UI language and `Accept-Language` (`--lang`); Chromium's default when `None`.
    pub lang: Option<String>,
    /// Each wait and WebDriver command; [`TIMEOUT`] when `None`.
    pub timeout: Option<Duration>,
}

/// A local `chromedriver` on a free port, stopped on drop.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start(tools: &Tools, log: &Path) -> Driver {
        let mut last = String::new();
        // A free port can be taken by another test between our probe and chromedriver's bind.
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            let out = std::fs::File::create(log)
                .unwrap_or_else(|e| panic!("create {}: {e}", log.display()));
            let err = out.try_clone().expect("log file");
            let mut child = Command::new(&tools.chromedriver)
                .arg(format!("--port={port}"))
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err)
                .spawn()
                .unwrap_or_else(|e| panic!("start {}: {e}", tools.chromedriver.display()));
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                if http_get(port, "/status").is_some_and(|r| r.contains("\"ready\":true")) {
                    return Driver {
                        child,
                        url: format!("http://127.0.0.1:{port}"),
                    };
                }
                if let Ok(Some(status)) = child.try_wait() {
                    last = format!("chromedriver exited with {status}");
                    break;
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    last = "chromedriver did not answer on /status within 30 s".into();
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        panic!("{last}; its log is {}", log.display());
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // A graceful stop also ends the Chromium it started; kill it if it does not stop.
        if let Some(port) = self.url.rsplit(':').next().and_then(|p| p.parse().ok()) {
            let _ = http_get(port, "/shutdown");
        }
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `future` on `runtime`, at most `limit`.
fn within<F: Future>(
    runtime: &tokio::runtime::Runtime,
    limit: Duration,
    future: F,
) -> Result<F::Output, tokio::time::error::Elapsed> {
    runtime.block_on(within_async(limit, future))
}

/// `future`, at most `limit` (the timer is made inside the runtime).
async fn within_async<F: Future>(
    limit: Duration,
    future: F,
) -> Result<F::Output, tokio::time::error::Elapsed> {
    tokio::time::timeout(limit, future).await
}

/// A plain GET to 127.0.0.1:`port` with short timeouts; the reply, head and body, or `None`.
fn http_get(port: u16, path: &str) -> Option<String> {
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(1)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream
        .set_write_timeout(Some(Duration::from_secs(2)))
        .ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    // chromedriver keeps the connection open: read up to the end of the announced body.
    let mut reply = Vec::new();
    let mut chunk = [0; 4096];
    loop {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            break;
        }
        reply.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&reply);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head.lines().find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())?
            });
            if length.is_some_and(|length| body.len() >= length) {
                break;
            }
        }
    }
    Some(String::from_utf8_lossy(&reply).into_owned())
}

/// A headless Chromium session on a page of one server. Every helper waits at most the timeout
/// and panics with the selector and the page's URL; drop closes the session and chromedriver.
pub struct Browser {
    // Field order is drop order after `Drop::drop`: the server goes last.
    runtime: tokio::runtime::Runtime,
    client: Option<Client>,
    driver: Driver,
    demo: Option<Demo>,
    base: String,
    artifacts: PathBuf,
    shots: Cell<u32>,
    timeout: Duration,
}

impl Browser {
    /// A fresh `qyzmet demo` and a browser on it; `None` (skip) without Chromium.
    pub fn demo(test: &str) -> Option<Browser> {
        Browser::demo_with(test, Options::default())
    }

    /// [`Browser::demo`] with options (the browser's language, the timeout).
    pub fn demo_with(test: &str, options: Options) -> Option<Browser> {
        let tools = tools()?;
        let artifacts = artifacts(test);
        let demo = Demo::start(&artifacts.join("qyzmet.log"));
        let base = demo.url.clone();
        let mut browser = Browser::open(&tools, artifacts, &base, options);
        browser.demo = Some(demo);
        Some(browser)
    }

    /// A browser on a server the test started itself (`base_url` like `http://127.0.0.1:PORT`);
    /// `None` (skip) without Chromium.
    pub fn start(test: &str, base_url: &str, options: Options) -> Option<Browser> {
        let tools = tools()?;
        Some(Browser::open(&tools, artifacts(test), base_url, options))
    }

    fn open(tools: &Tools, artifacts: PathBuf, base: &str, options: Options) -> Browser {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a Tokio runtime");
        let driver = Driver::start(tools, &artifacts.join("chromedriver.log"));
        let timeout = options.timeout.unwrap_or(TIMEOUT);
        let mut args = vec![
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--window-size=1280,1000".to_owned(),
            // The local signing agent serves wss://127.0.0.1 with a self-signed certificate.
            "--ignore-certificate-errors".to_owned(),
        ];
        let mut chrome = json!({ "binary": tools.chromium, "args": [] });
        if let Some(lang) = &options.lang {
            args.push(format!("--lang={lang}"));
            chrome["prefs"] = json!({ "intl.accept_languages": lang });
        }
        chrome["args"] = json!(args);
        let capabilities = json!({
            "browserName": "chrome",
            "acceptInsecureCerts": true,
            "goog:chromeOptions": chrome,
            "timeouts": {
                "pageLoad": timeout.as_millis() as u64,
                "script": timeout.as_millis() as u64,
                "implicit": 0,
            },
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!("an object")
        };
        let mut builder =
            ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
        let connect = builder.capabilities(capabilities).connect(&driver.url);
        let client = match within(&runtime, START_TIMEOUT, connect) {
            Ok(Ok(client)) => client,
            Ok(Err(e)) => panic!(
                "no Chromium session from chromedriver: {e}; see {}",
                artifacts.join("chromedriver.log").display()
            ),
            Err(_) => panic!("Chromium did not start within {START_TIMEOUT:?}"),
        };
        Browser {
            runtime,
            client: Some(client),
            driver,
            demo: None,
            base: base.trim_end_matches('/').to_owned(),
            artifacts,
            shots: Cell::new(0),
            timeout,
        }
    }

    /// The demo this browser was started on ([`Browser::demo`]).
    pub fn server(&self) -> &Demo {
        self.demo
            .as_ref()
            .expect("a browser started by Browser::demo")
    }

    /// The WebDriver client, for what the helpers do not cover; run its futures with [`Browser::run`].
    pub fn client(&self) -> &Client {
        self.client.as_ref().expect("an open session")
    }

    /// Runs one WebDriver command within the timeout; panics naming `what` and the page.
    pub fn run<T>(&self, what: &str, command: impl Future<Output = Result<T, CmdError>>) -> T {
        match self.runtime.block_on(within_async(self.timeout, command)) {
            Ok(Ok(value)) => value,
            Ok(Err(e)) => panic!("{what} failed on {}: {e}", self.url()),
            Err(_) => panic!(
                "{what} took longer than {:?} on {}",
                self.timeout,
                self.url()
            ),
        }
    }

    /// The page's URL now ("(unknown)" when the browser does not say).
    pub fn url(&self) -> String {
        match within(
            &self.runtime,
            Duration::from_secs(5),
            self.client().current_url(),
        ) {
            Ok(Ok(url)) => url.to_string(),
            _ => "(unknown)".to_owned(),
        }
    }

    /// Opens `path` on the server (`/?lang=kk`), or an absolute `http(s)://` URL, and waits for
    /// the page to load.
    pub fn goto(&self, path: &str) {
        let url = if path.starts_with("http://") || path.starts_with("https://") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        };
        self.run(&format!("opening {url}"), self.client().goto(&url));
    }

    /// Waits until an element matches `css`; panics naming the selector and the page when none
    /// does within the timeout.
    pub fn wait_for(&self, css: &str) {
        let deadline = Instant::now() + self.timeout;
        loop {
            let found = self.run(
                &format!("looking for `{css}`"),
                self.client().find_all(Locator::Css(css)),
            );
            if !found.is_empty() {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "no element matches `{css}` on {} after {:?}",
                    self.url(),
                    self.timeout
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until the text of the first element matching `css` contains `needle` (also across a
    /// page load the last click started: an element gone stale is looked for again).
    pub fn wait_for_text(&self, css: &str, needle: &str) {
        let deadline = Instant::now() + self.timeout;
        loop {
            let text = self.try_text(css).unwrap_or_default();
            if text.contains(needle) {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "`{css}` on {} does not show {needle:?} after {:?}; it shows {text:?}",
                    self.url(),
                    self.timeout
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Whether an element matches `css` now (no waiting).
    pub fn has(&self, css: &str) -> bool {
        !self
            .run(
                &format!("looking for `{css}`"),
                self.client().find_all(Locator::Css(css)),
            )
            .is_empty()
    }

    /// The visible text of the first element matching `css` (waited for).
    pub fn text(&self, css: &str) -> String {
        self.wait_for(css);
        let what = format!("reading the text of `{css}`");
        self.run(&what, async {
            self.client().find(Locator::Css(css)).await?.text().await
        })
    }

    /// The visible text of the first element matching `css` now, if there is one and it can be
    /// read (not gone stale under a page load).
    pub fn try_text(&self, css: &str) -> Option<String> {
        self.try_run(async { self.client().find(Locator::Css(css)).await?.text().await })
    }

    /// An attribute of the first element matching `css` (waited for).
    pub fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.wait_for(css);
        let what = format!("reading `{name}` of `{css}`");
        self.run(&what, async {
            self.client()
                .find(Locator::Css(css))
                .await?
                .attr(name)
                .await
        })
    }

    /// Clicks the first element matching `css` (waited for); a link or a submit button's page
    /// has loaded when this returns.
    pub fn click(&self, css: &str) {
        self.wait_for(css);
        let what = format!("clicking `{css}`");
        self.run(&what, async {
            self.client().find(Locator::Css(css)).await?.click().await
        });
    }

    /// Replaces the value of the field matching `css` (waited for) with `text`, typed.
    pub fn fill(&self, css: &str, text: &str) {
        self.wait_for(css);
        let what = format!("typing into `{css}`");
        self.run(&what, async {
            let field = self.client().find(Locator::Css(css)).await?;
            field.clear().await?;
            field.send_keys(text).await
        });
    }

    /// Runs one WebDriver command within the timeout; `None` when it fails or times out (a page
    /// in the middle of loading).
    pub fn try_run<T>(&self, command: impl Future<Output = Result<T, CmdError>>) -> Option<T> {
        match self.runtime.block_on(within_async(self.timeout, command)) {
            Ok(Ok(value)) => Some(value),
            _ => None,
        }
    }

    /// Gives the file input matching `css` (waited for) the local file `path`.
    pub fn upload(&self, css: &str, path: &Path) {
        self.wait_for(css);
        let what = format!("choosing the file {} in `{css}`", path.display());
        let path = path.to_str().expect("a UTF-8 path");
        self.run(&what, async {
            self.client()
                .find(Locator::Css(css))
                .await?
                .send_keys(path)
                .await
        });
    }

    /// Chooses the option with `value` in the `<select>` matching `css` (waited for).
    pub fn select(&self, css: &str, value: &str) {
        self.wait_for(css);
        let what = format!("choosing {value:?} in `{css}`");
        self.run(&what, async {
            self.client()
                .find(Locator::Css(css))
                .await?
                .select_by_value(value)
                .await
        });
    }

    /// Sets the value of the field matching `css` (waited for) by script, as a date picker would.
    pub fn set_value(&self, css: &str, value: &str) {
        self.wait_for(css);
        self.script(
            "const e = document.querySelector(arguments[0]); e.value = arguments[1]; \
             e.dispatchEvent(new Event('input', {bubbles: true})); \
             e.dispatchEvent(new Event('change', {bubbles: true}));",
            vec![json!(css), json!(value)],
        );
    }

    /// Runs a script in the page (`arguments[i]` are `args`) and returns what it returns.
    pub fn script(&self, script: &str, args: Vec<serde_json::Value>) -> serde_json::Value {
        self.run("running a script", self.client().execute(script, args))
    }

    /// Reloads the page.
    pub fn refresh(&self) {
        self.run("reloading the page", self.client().refresh());
    }

    /// Reloads the page until the text of the first element matching `css` contains `needle`
    /// (something the server does in the background, like the engine's worker); at most `limit`.
    pub fn reload_until(&self, css: &str, needle: &str, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            let text = self.try_text(css).unwrap_or_default();
            if text.contains(needle) {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "`{css}` on {} does not show {needle:?} after reloading for {limit:?}; it shows {text:?}",
                    self.url()
                );
            }
            std::thread::sleep(Duration::from_millis(300));
            self.refresh();
        }
    }

    /// Waits until `ready` says yes (checked every 100 ms), at most the timeout; panics with `what`.
    pub fn wait_until(&self, what: &str, mut ready: impl FnMut() -> bool) {
        let deadline = Instant::now() + self.timeout;
        while !ready() {
            if Instant::now() > deadline {
                panic!("{what}: not so on {} after {:?}", self.url(), self.timeout);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The path and query of the page now (`/cabinet/applications/…?submitted=1`).
    pub fn path(&self) -> String {
        let url = self.url();
        match url
            .find("://")
            .and_then(|i| url[i + 3..].find('/').map(|j| i + 3 + j))
        {
            Some(start) => url[start..].to_owned(),
            None => url,
        }
    }

    /// A file in this test's artifacts directory (a log of a process the test starts).
    pub fn artifact(&self, name: &str) -> PathBuf {
        self.artifacts.join(name)
    }

    /// Stops the demo and starts it again on the same data and address ([`Demo::restart`]); the
    /// browser keeps its cookies, and the sessions are in the database.
    pub fn restart_server(&mut self) {
        let log = self.artifacts.join("qyzmet.log");
        self.demo
            .as_mut()
            .expect("a browser started by Browser::demo")
            .restart(&log);
    }

    /// The value of the cookie `name` for the current page, if set.
    pub fn cookie(&self, name: &str) -> Option<String> {
        match within(
            &self.runtime,
            self.timeout,
            self.client().get_named_cookie(name),
        ) {
            Ok(Ok(cookie)) => Some(cookie.value().to_owned()),
            Ok(Err(e)) if e.is_no_such_cookie() => None,
            Ok(Err(e)) => panic!("reading the cookie {name} on {}: {e}", self.url()),
            Err(_) => panic!(
                "reading the cookie {name} took longer than {:?}",
                self.timeout
            ),
        }
    }

    /// Saves the viewport as `<artifacts>/<n>-<name>.png` (n counts this test's screenshots from
    /// 01) and returns the file.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.run(
            &format!("taking the screenshot {name}"),
            self.client().screenshot(),
        );
        self.save(name, "png", &png)
    }

    fn save(&self, name: &str, extension: &str, bytes: &[u8]) -> PathBuf {
        self.shots.set(self.shots.get() + 1);
        let file = self
            .artifacts
            .join(format!("{:02}-{name}.{extension}", self.shots.get()));
        std::fs::write(&file, bytes).unwrap_or_else(|e| panic!("write {}: {e}", file.display()));
        file
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        let short = Duration::from_secs(10);
        if std::thread::panicking() {
            // What the page showed when the test failed, for the CI artifacts.
            let shown = self.runtime.block_on(async {
                let png = tokio::time::timeout(short, client.screenshot()).await;
                let html = tokio::time::timeout(short, client.source()).await;
                (png, html)
            });
            if let Ok(Ok(png)) = &shown.0 {
                let _ = std::fs::write(self.artifacts.join("failure.png"), png);
            }
            if let Ok(Ok(html)) = &shown.1 {
                let _ = std::fs::write(self.artifacts.join("failure.html"), html);
            }
            eprintln!("browser artifacts: {}", self.artifacts.display());
        }
        let _ = self.runtime.block_on(within_async(short, client.close()));
        // Then the fields drop: chromedriver stops, then the demo.
    }
}

/// A browser on a fresh demo, in `lang`, for the test named `test`.
pub fn browser(test: &str, lang: &str) -> Option<Browser> {
    Browser::demo_with(
        test,
        Options {
            lang: Some(lang.into()),
            timeout: Some(Duration::from_secs(20)),
        },
    )
}

/// A regulation text as the pages show it in `lang`.
pub fn shown(lang: qyzmet_web::i18n::Lang, text: &qyzmet_domain::regulation::Text) -> String {
    match lang {
        qyzmet_web::i18n::Lang::Kk if !text.kk.is_empty() => text.kk.clone(),
        qyzmet_web::i18n::Lang::En => text.en.clone().unwrap_or_else(|| text.ru.clone()),
        _ => text.ru.clone(),
    }
}

pub fn regulation(code: &str) -> std::sync::Arc<qyzmet_engine::Loaded> {
    qyzmet_engine::Catalogue::shipped()
        .expect("the shipped regulations")
        .get(code)
        .unwrap_or_else(|| panic!("no regulation {code}"))
}

/// The label of a status of a regulation, in `lang`.
pub fn status(code: &str, status: &str, lang: qyzmet_web::i18n::Lang) -> String {
    let loaded = regulation(code);
    let found = loaded
        .regulation
        .statuses
        .iter()
        .find(|s| s.code == status)
        .unwrap_or_else(|| panic!("{code} has no status {status}"));
    shown(lang, &found.label)
}

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "qyzmet-demo-2026";

/// Signs in to the back office at `path` with IIN and the demo password; waits for `landing`.
pub fn staff_sign_in(b: &Browser, path: &str, landing: &str, iin: &str) {
    b.goto(path);
    b.fill("#iin", iin);
    b.fill("#password", DEMO_PASSWORD);
    b.click("#sign-in");
    b.wait_for_text("#who", iin);
    b.wait_for(landing);
}

/// Signs in to the back office at `path` by signing a challenge with the authentication key in
/// `layer`; waits for `landing`.
pub fn staff_sign_in_with_eds(b: &Browser, path: &str, landing: &str, layer: &Layer, iin: &str) {
    b.goto(&layer.on(path));
    b.click("#sign-in-eds");
    after_signing(b, landing);
    b.wait_for_text("#who", iin);
}

/// A PSC operator signs in at the counter by signing a challenge with the authentication key in
/// `layer`; lands at the counter's services.
pub fn counter_sign_in_with_eds(b: &Browser, layer: &Layer, iin: &str) {
    staff_sign_in_with_eds(b, "/office/login?next=/psc", "#services", layer, iin);
}

/// The error a page that signs through the agent shows (the agent's or the server's), if any.
pub fn signing_error(b: &Browser) -> Option<String> {
    let shown = b.try_run(b.client().execute(
        "const e = document.querySelector('[data-eds-error], #submit-error, #sign-in-error'); \
         return e ? e.textContent : '';",
        vec![],
    ));
    match shown {
        Some(serde_json::Value::String(error)) if !error.trim().is_empty() => Some(error),
        _ => None,
    }
}

/// After a click on a button that signs through the agent: waits for `css` on the page the form
/// leads to, or fails at once with the error the page shows.
pub fn after_signing(b: &Browser, css: &str) {
    b.wait_until(
        &format!("the signed form leads to a page with `{css}`"),
        || {
            if b.has(css) {
                return true;
            }
            if let Some(error) = signing_error(b) {
                panic!("signing failed on {}: {error}", b.url());
            }
            false
        },
    );
}

/// Opens an application's card in the back office.
pub fn card(b: &Browser, id: &str) {
    b.goto(&format!("/office/applications/{id}"));
    b.wait_for("#card");
}

/// Waits until the card (or the cabinet's page) shows the application at `step`.
pub fn at_step(b: &Browser, step: &str) {
    b.wait_for_text("#step", &format!("{step} "));
}

/// Signs in on the portal with IIN and password and lands in the cabinet.
pub fn portal_sign_in(b: &Browser, iin: &str) {
    b.goto("/login");
    b.fill("#iin", iin);
    b.fill("#password", DEMO_PASSWORD);
    b.click("#sign-in");
    b.wait_for_text("#who", iin);
}

/// From a filled form: to signing, signs with `layer` and submits; returns the application's id
/// from the page it lands on. A form the server refuses fails at once with its errors.
pub fn sign_and_submit(b: &Browser, layer: &Layer, shot: &str) -> String {
    b.click("#prepare");
    b.wait_until("the form leads to signing", || {
        b.has("#sign-form") || b.has("#form-errors")
    });
    fail_if_refused(b, "#application-form", "form-refused");
    let path = b.path();
    assert!(path.ends_with("/sign"), "the signing page, not {path}");
    b.goto(&layer.on(&path));
    b.wait_for("#sign-and-submit");
    b.screenshot(shot);
    b.click("#sign-and-submit");
    after_signing(b, "#application-id");
    b.text("#application-id")
}

/// When the server has refused the form `form` (the page shows `#form-errors`): a screenshot
/// `shot`, and a failure that lists the error of each field.
pub fn fail_if_refused(b: &Browser, form: &str, shot: &str) {
    if b.has("#form-errors") {
        let errors = b.script(
            "return Array.from(document.querySelectorAll(arguments[0] + ' .error')).map(e => e.id + ': ' + e.textContent);",
            vec![json!(form)],
        );
        b.screenshot(shot);
        panic!("the form `{form}` was refused on {}: {errors}", b.url());
    }
}

/// Opens the application among the applicant's in the cabinet.
pub fn open_in_cabinet(b: &Browser, id: &str) {
    b.goto("/cabinet");
    b.click(&format!("#applications tr[data-id='{id}'] a"));
    b.wait_for_text("#application-id", id);
}

/// Opens the cabinet, whose list shows the application `id` with the status `label`.
pub fn cabinet_lists(b: &Browser, id: &str, label: &str) {
    b.goto("/cabinet");
    b.wait_for_text(&format!("#applications tr[data-id='{id}'] .status"), label);
}

/// Saves the draft's file `name` (with `content`) among the artifacts, attaches it to the form and
/// waits until the form lists it.
pub fn attach_copy(b: &Browser, name: &str, content: &str) {
    let copy = b.artifact(name);
    std::fs::write(&copy, content).expect("write the copy");
    b.upload("#file", &copy.canonicalize().expect("the copy's path"));
    b.click("#attach");
    b.wait_for_text("#attachments", name);
}

/// The signature report matching `css` (`#signature-report`, `#answer-report`, `#verify-report`)
/// says valid; the report's text is the failure's message.
pub fn assert_valid(b: &Browser, css: &str) {
    assert_eq!(
        b.attr(css, "data-valid").as_deref(),
        Some("true"),
        "{}",
        b.text(css)
    );
}

/// In the cabinet, on an answered application: opens the signed answer's readable page, whose
/// report says valid and which shows `answer`.
pub fn read_signed_answer(b: &Browser, answer: &str) {
    b.click("#answer-readable");
    b.wait_for("#signed-document");
    assert_valid(b, "#answer-report");
    b.wait_for_text("#answer-text", answer);
}

/// Opens the verification page at `path` (`/verify/<id>`), whose report says the published
/// document is valid.
pub fn assert_verified(b: &Browser, path: &str) {
    b.goto(path);
    b.wait_for("#verify-report");
    assert_valid(b, "#verify-report");
}

/// Whether the card has moved on from `step` (it shows another step now).
pub fn moved_on_from(b: &Browser, step: &str) -> bool {
    b.try_text("#step")
        .is_some_and(|s| !s.is_empty() && !s.starts_with(&format!("{step} ")))
}

/// After a click that signs `what` ("form", "request") through the agent on a card at `step`:
/// waits until the card moves on, or fails at once with the error the page shows.
pub fn signed_and_moved_on(b: &Browser, what: &str, step: &str) {
    b.wait_until(
        &format!("the signed {what} moves the application on from {step}"),
        || {
            if let Some(error) = signing_error(b) {
                panic!("signing the {what} failed on {}: {error}", b.url());
            }
            moved_on_from(b, step)
        },
    );
}

/// What `read` reads from the demo's database (in its data directory `data`).
pub fn demo_store<T>(data: &Path, read: impl AsyncFnOnce(&qyzmet_store::Store) -> T) -> T {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let store = qyzmet_store::Store::open(&qyzmet_store::Location::DataDir(data.to_owned()))
            .await
            .expect("open the demo's database");
        let found = read(&store).await;
        store.close().await;
        found
    })
}

// --- The PSC counter ------------------------------------------------------------------------------

/// The labels of the documents a regulation's PSC channel lists for an individual, in `lang`.
pub fn documents_of_individual(code: &str, lang: qyzmet_web::i18n::Lang) -> Vec<String> {
    let loaded = regulation(code);
    let channel = loaded.regulation.channel("psc").expect("a PSC channel");
    channel
        .documents
        .iter()
        .filter(|d| {
            d.recipients.is_empty()
                || d.recipients
                    .contains(&qyzmet_domain::regulation::Recipient::Individual)
        })
        .map(|d| shown(lang, &d.label))
        .collect()
}

/// The application's id from a path like `/psc/applications/<id>/receipt`.
pub fn id_from(path: &str, tail: &str) -> String {
    let path = path.split('?').next().unwrap_or_default();
    path.strip_prefix("/psc/applications/")
        .and_then(|rest| rest.strip_suffix(tail))
        .unwrap_or_else(|| panic!("`/psc/applications/<id>{tail}`, not {path}"))
        .to_owned()
}

/// At the counter: opens the intake of the service `code`, looks the individual `iin` up and
/// returns the name the registry gave. With `shots`, screenshots of the counter and of the look-up
/// form filled in.
pub fn look_up_individual(b: &Browser, code: &str, iin: &str, shots: bool) -> String {
    b.goto("/psc");
    b.wait_for(&format!("#services a[data-service='{code}']"));
    if shots {
        b.screenshot("counter");
    }
    b.click(&format!("#services a[data-service='{code}']"));
    b.wait_for("#lookup-form");
    b.select("#recipient", "individual");
    b.fill("#lookup-iin", iin);
    if shots {
        b.screenshot("lookup");
    }
    b.click("#look-up");
    b.wait_for("#found-name");
    let found = b.text("#found-name");
    assert!(found.contains(iin), "the registry's person: {found}");
    found
        .split(" — ")
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// On the intake form: ticks each of the `listed` documents (checked against the page's list) but
/// those at `unticked`, scans the application (a file `scan` with `content`), records the consent
/// and checks the browser would send the form.
pub fn present_documents(
    b: &Browser,
    listed: &[String],
    unticked: &[usize],
    scan: &str,
    content: &str,
) {
    for (i, label) in listed.iter().enumerate() {
        b.wait_for_text(&format!("#documents p:nth-of-type({})", i + 1), label);
        if !unticked.contains(&i) {
            b.click(&format!("#document-{i}"));
        }
    }
    scan_and_consent(b, scan, content);
}

/// On the intake form: scans the application (a file `scan` with `content`), records the consent
/// and checks the browser would send the form.
pub fn scan_and_consent(b: &Browser, scan: &str, content: &str) {
    let scan = b.artifact(scan);
    std::fs::write(&scan, content).expect("write the scan");
    b.upload("#scans", &scan.canonicalize().expect("the scan's path"));
    b.click("#consent");
    let invalid = b.script(
        "return Array.from(document.querySelectorAll('#intake-form :invalid')).map(e => e.id || e.name);",
        vec![],
    );
    assert_eq!(
        invalid,
        serde_json::json!([]),
        "fields the browser will not submit"
    );
}

/// Opens the counter's list of requests, which has the application `id`.
pub fn in_the_counters_requests(b: &Browser, id: &str) {
    b.goto("/psc");
    b.wait_for(&format!("#requests tr[data-id='{id}']"));
}

/// Accepts the filled intake and waits for the page it leads to (the receipt, or the refusal
/// receipt); an intake the server refuses fails at once with the form's errors.
pub fn accept_intake(b: &Browser) {
    b.click("#accept");
    b.wait_until(
        "the intake leads to the receipt or the refusal receipt",
        || {
            b.has("#receipt")
                || b.has("article.refusal")
                || b.has("#form-errors")
                || b.path().contains("/refusal")
                || b.path().contains("/receipt")
        },
    );
    fail_if_refused(b, "#intake-form", "intake-refused");
}

/// What a receipt shows that a test reads again.
pub struct Receipt {
    pub number: String,
    pub operator: String,
}

/// The receipt (002 Annex 2) of the service `code`: its number, the applicant `name`, the service,
/// the operator and every document presented, as the application keeps them (in Russian) or in the
/// page's language `lang`.
pub fn check_receipt(b: &Browser, code: &str, name: &str, lang: qyzmet_web::i18n::Lang) -> Receipt {
    let number = b.text("#receipt-number");
    assert!(!number.trim().is_empty(), "a receipt number");
    assert!(
        b.text("#receipt-applicant").contains(name),
        "the receipt names {name}: {}",
        b.text("#receipt-applicant")
    );
    assert_eq!(
        b.text("#receipt-service"),
        shown(lang, &regulation(code).regulation.name)
    );
    let operator = b.text("#receipt-operator");
    assert!(!operator.trim().is_empty(), "the operator's name");
    let presented = b.text("#receipt-documents");
    for (shown_label, ru) in documents_of_individual(code, lang)
        .into_iter()
        .zip(documents_of_individual(code, qyzmet_web::i18n::Lang::Ru))
    {
        assert!(
            presented.contains(&shown_label) || presented.contains(&ru),
            "the receipt lists {shown_label:?}: {presented}"
        );
    }
    Receipt { number, operator }
}

/// The card at the step that prints the certified copy: its button posts to the application's copy.
pub fn assert_prints_copy(b: &Browser, id: &str) {
    let action = b
        .attr("#print-copy", "formaction")
        .expect("a button that posts to the copy");
    assert!(
        action.ends_with(&format!("/psc/applications/{id}/copy.pdf")),
        "{action}"
    );
}

/// The journal's columns (002 Annex 3) filled once the provider's answer has come back to the
/// counter: accepted, the applicant, the form, sent (col. 5), received (col. 7) and the result.
pub const JOURNAL_COLUMNS: [&str; 6] = [
    "accepted",
    "applicant",
    "form",
    "sent",
    "received",
    "result",
];

/// Opens the counter's journal (002 Annex 3) at the application's row, checks each of `columns` is
/// filled and that the row names the applicant `name` and the result `result`; returns the row's
/// selector.
pub fn journal_row(b: &Browser, id: &str, columns: &[&str], name: &str, result: &str) -> String {
    b.goto("/psc/journal");
    let row = format!("#journal tr[data-id='{id}']");
    b.wait_for(&row);
    for column in columns {
        let cell = b.text(&format!("{row} td.{column}"));
        assert!(
            !cell.trim().is_empty(),
            "the journal's column {column} is empty: {}",
            b.text(&row)
        );
    }
    b.wait_for_text(&format!("{row} td.applicant"), name);
    b.wait_for_text(&format!("{row} td.result"), result);
    row
}

// --- Certified copies -----------------------------------------------------------------------------

/// The bytes a signed-in page's print button posts for: status, content type and body. Printing
/// publishes, so it is a POST with the page's CSRF token and cookies, as the card's button sends it.
pub fn post_for_bytes(b: &Browser, path: &str) -> (u64, String, Vec<u8>) {
    let answer = b.script(
        "const csrf = document.querySelector('input[name=csrf]').value; \
         return fetch(arguments[0], {method: 'POST', credentials: 'same-origin', \
           body: new URLSearchParams({csrf})}).then(async r => \
           [r.status, r.headers.get('content-type') || '', Array.from(new Uint8Array(await r.arrayBuffer()))]);",
        vec![serde_json::json!(path)],
    );
    let bytes = answer[2]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|v| v.as_u64().unwrap_or_default() as u8)
                .collect()
        })
        .unwrap_or_default();
    (
        answer[0].as_u64().unwrap_or_default(),
        answer[1].as_str().unwrap_or_default().to_owned(),
        bytes,
    )
}

/// Whether poppler's `pdftotext` is there; with QYZMET_REQUIRE_PDF=1 its absence fails.
pub fn pdftotext_present() -> bool {
    let present = Command::new("pdftotext")
        .arg("-v")
        .output()
        .map(|o| o.status.success() || !o.stderr.is_empty())
        .unwrap_or(false);
    assert!(
        present || std::env::var("QYZMET_REQUIRE_PDF").as_deref() != Ok("1"),
        "QYZMET_REQUIRE_PDF=1 but pdftotext (poppler-utils) is missing"
    );
    if !present {
        eprintln!("note: pdftotext (poppler-utils) missing; the copy's text is not checked");
    }
    present
}

/// `text` with every run of white space made one space.
pub fn squeeze(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A certified copy's text, as `pdftotext` reads it, and its verification address.
pub struct CopyText {
    pub text: String,
    /// `/verify/<id>`.
    pub verify: String,
}

/// Prints the certified copy at `path` (a POST from the page now open), saves it as `<name>.pdf`
/// and checks it is a PDF. When `pdftotext` is there, its text (saved as `<name>.txt`) must show
/// each of `expected` and a verification address, and its first page is saved as an image; the
/// text and that address are returned.
pub fn certified_copy(b: &Browser, path: &str, name: &str, expected: &[&str]) -> Option<CopyText> {
    let (code, media, pdf) = post_for_bytes(b, path);
    let copy = b.artifact(&format!("{name}.pdf"));
    std::fs::write(&copy, &pdf).expect("save the copy");
    assert_eq!(
        (code, media.as_str()),
        (200, "application/pdf"),
        "the copy ({} bytes, saved as {}): {}",
        pdf.len(),
        copy.display(),
        String::from_utf8_lossy(&pdf[..pdf.len().min(2000)])
    );
    assert!(pdf.starts_with(b"%PDF"), "a PDF");
    if !pdftotext_present() {
        return None;
    }
    let out = Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(&copy)
        .arg("-")
        .output()
        .expect("run pdftotext");
    assert!(out.status.success(), "pdftotext: {out:?}");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    std::fs::write(b.artifact(&format!("{name}.txt")), &text).expect("save the text");
    let flat = squeeze(&text);
    for needle in expected {
        assert!(
            flat.contains(&squeeze(needle)),
            "the copy shows {needle:?}: {text}"
        );
    }
    let at = text
        .find("/verify/")
        .unwrap_or_else(|| panic!("a verification address in the copy: {text}"));
    let public: String = text[at + "/verify/".len()..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    assert!(!public.is_empty(), "an id after /verify/: {text}");
    // The first page as an image, for a person to look at.
    let _ = Command::new("pdftoppm")
        .args(["-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile"])
        .arg(&copy)
        .arg(b.artifact(&format!("{name}-page1")))
        .status();
    Some(CopyText {
        text,
        verify: format!("/verify/{public}"),
    })
}

/// A phone's and a desk's viewport widths.
pub const PHONE: u32 = 390;
pub const DESK: u32 = 1366;

/// The layout checks of one test at a phone's and a desk's width: what lies beyond the viewport is
/// collected (the flow goes on, so that one run names every page that does not fit) and
/// [`Viewports::assert_fit`] fails the test with the list at its end.
#[derive(Default)]
pub struct Viewports {
    problems: std::cell::RefCell<Vec<String>>,
}

impl Viewports {
    /// A page a person may open on a phone or at a desk (the portal, the cabinet, the verification
    /// page), at 390 and then 1366 CSS pixels wide (a screenshot at each): nothing of the page lies
    /// beyond the viewport (no sideways scrolling), and each of `visible` is shown within it.
    pub fn check(&self, b: &Browser, shot: &str, visible: &[&str]) {
        for width in [PHONE, DESK] {
            self.at(b, width, shot, visible);
        }
    }

    /// A page of the back office or the counter, used at a desk: the same at 1366 pixels.
    pub fn desk(&self, b: &Browser, shot: &str, visible: &[&str]) {
        self.at(b, DESK, shot, visible);
    }

    fn at(&self, b: &Browser, width: u32, shot: &str, visible: &[&str]) {
        let inner = || {
            b.script("return window.innerWidth;", vec![])
                .as_u64()
                .unwrap_or_default() as i64
        };
        let mut window = width;
        for _ in 0..3 {
            b.run(
                &format!("resizing the window to {window} px"),
                b.client().set_window_size(window, 900),
            );
            let now = inner();
            if now == i64::from(width) {
                break;
            }
            window = (i64::from(window) + i64::from(width) - now).max(1) as u32;
        }
        assert_eq!(inner(), i64::from(width), "the viewport's width");
        let beyond = b.script(
            "return Array.from(document.querySelectorAll('body *'))
               .filter(e => { const r = e.getBoundingClientRect();
                              return r.width > 0 && (r.right > window.innerWidth + 1 || r.left < -1); })
               .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ' ' +
                         Math.round(e.getBoundingClientRect().left) + '..' +
                         Math.round(e.getBoundingClientRect().right));",
            vec![],
        );
        let path = b.path();
        let file = b.screenshot(&format!("{shot}-{width}px"));
        if beyond != serde_json::json!([]) {
            self.problems.borrow_mut().push(format!(
                "{path} at {width} px ({}): beyond the viewport: {beyond}",
                file.display()
            ));
        }
        for css in visible {
            let shown = b.script(
                "const e = document.querySelector(arguments[0]); if (!e) return null; \
                 const r = e.getBoundingClientRect(); \
                 return r.width > 0 && r.height > 0 && r.left >= 0 && r.right <= window.innerWidth + 1;",
                vec![serde_json::json!(css)],
            );
            if shown != serde_json::json!(true) {
                self.problems.borrow_mut().push(format!(
                    "{path} at {width} px ({}): `{css}` is not shown within the viewport",
                    file.display()
                ));
            }
        }
    }

    /// Fails with every page that did not fit.
    pub fn assert_fit(&self) {
        let problems = self.problems.borrow();
        assert!(
            problems.is_empty(),
            "pages that do not fit their viewport:\n{}",
            problems.join("\n")
        );
    }
}

/// At the front office: opens the intake of `code`, chooses the individual and the first
/// category the provider channel serves for them, looks `iin` up; returns the name found.
pub fn look_up(b: &Browser, code: &str, iin: &str) -> String {
    b.goto("/front");
    b.wait_for(&format!("#services a[data-service='{code}']"));
    b.click(&format!("#services a[data-service='{code}']"));
    b.wait_for("#lookup-form");
    b.select("#recipient", "individual");
    let loaded = regulation(code);
    if let Some(category) = loaded
        .regulation
        .categories_of("provider", qyzmet_domain::regulation::Recipient::Individual)
        .first()
    {
        b.select("#category", &category.code);
    }
    b.fill("#lookup-iin", iin);
    b.click("#look-up");
    b.wait_for("#found-name");
    let found = b.text("#found-name");
    assert!(found.contains(iin), "the registry's person: {found}");
    found.split(" — ").next().unwrap_or_default().to_owned()
}

/// Types what the person says into every required field of `form` the registries did not fill: a choice's
/// first option, a date, an e-mail, a phone, a number, or words.
pub fn fill_required(b: &Browser, form: &str, iin: &str) {
    let empty = b.script(
        "return Array.from(document.querySelectorAll(arguments[0] + ' [required]'))
           .filter(e => !e.readOnly && !e.value && e.type !== 'checkbox' && e.type !== 'file')
           .map(e => [e.id, e.tagName.toLowerCase(), e.type || '']);",
        vec![serde_json::json!(form)],
    );
    for field in empty.as_array().cloned().unwrap_or_default() {
        let id = field[0].as_str().unwrap_or_default();
        let css = format!("#{id}");
        match (field[1].as_str(), field[2].as_str()) {
            (Some("select"), _) => {
                let first = b.script(
                    "return Array.from(document.querySelector(arguments[0]).options)
                       .map(o => o.value).find(v => v) || '';",
                    vec![serde_json::json!(css)],
                );
                b.select(&css, first.as_str().unwrap_or_default());
            }
            (_, Some("date")) => b.set_value(&css, "2026-12-01"),
            (_, Some("email")) => b.fill(&css, "aliya@mail.kz"),
            (_, Some("tel")) => b.fill(&css, "+7 701 123 45 67"),
            (_, Some("number")) => b.fill(&css, "1"),
            _ if id.ends_with("iin") => b.fill(&css, iin),
            _ => b.fill(&css, "Ақпараттық жүйе «Тексеру»"),
        }
    }
}

/// Ticks every document (but those at `unticked`), scans one page, records the consent.
pub fn present(b: &Browser, unticked: &[usize]) {
    let listed = b.script(
        "return document.querySelectorAll('#documents input[type=checkbox]').length;",
        vec![],
    );
    let listed = listed.as_u64().unwrap_or_default() as usize;
    assert!(listed > 0, "the channel lists the documents to bring");
    for i in (0..listed).filter(|i| !unticked.contains(i)) {
        b.click(&format!("#document-{i}"));
    }
    scan_and_consent(b, "scan.pdf", "%PDF-1.4\n% a scanned page\n");
}

/// The application's id from `/front/applications/<id>/<tail>`.
pub fn front_id(path: &str, tail: &str) -> String {
    path.strip_prefix("/front/applications/")
        .and_then(|rest| rest.strip_suffix(tail))
        .unwrap_or_else(|| panic!("`/front/applications/<id>{tail}`, not {path}"))
        .to_owned()
}
