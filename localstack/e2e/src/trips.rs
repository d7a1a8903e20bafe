//! The stack the trip lifecycle flows run on: a local Lambda service of the test's own with a short
//! offer window (and any other setting the test needs), a bridge to it, and the deadline sweeper's
//! schedule, as `make run` runs them. The shared functions of `localstack/e2e.sh` run no sweeper,
//! so these tests' deadlines are fired only by their own.

use crate::{ApiClient, Bridge, PrivateFunctions, eventually};
use std::process::{Child, Command, Stdio};
use weelo_testkit::unique;

/// `weelo-local schedule` invoking `function` every `every_secs`; killed when dropped.
pub struct Schedule {
    child: Child,
}

impl Schedule {
    pub fn start(function: &str, every_secs: u64, invoke_url: &str) -> Self {
        let binary = std::env::var("WEELO_LOCAL_BIN").expect("WEELO_LOCAL_BIN (set by localstack/e2e.sh)");
        let child = Command::new(binary)
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
            .args(["schedule", "--function", function, "--every-secs", &every_secs.to_string()])
            .args(["--invoke-url", invoke_url])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting weelo-local schedule");
        Self { child }
    }
}

impl Drop for Schedule {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Functions with the test's settings, a bridge to them and the deadline sweeper every second.
pub struct TripStack {
    pub api: ApiClient,
    /// `None` while the test has the sweeper stopped.
    pub sweeper: Option<Schedule>,
    _bridge: Bridge,
    pub functions: PrivateFunctions,
}

impl TripStack {
    /// Starts it on `port` with an offer window of `window_secs` and the settings in `env`.
    pub async fn start(port: u16, window_secs: u64, env: &[(&str, String)]) -> Self {
        let mut settings = vec![("OFFER_WINDOW_SECS", window_secs.to_string())];
        settings.extend(env.iter().map(|(key, value)| (*key, value.clone())));
        let functions = PrivateFunctions::start(port, &settings, &[]).await;
        let api = ApiClient::over_http(&format!("{}/lambda-url/api", functions.url));
        let up = eventually(60, async || api.call("GET", "/v1/health", None, None).await.status == 200).await;
        assert!(up, "the api of the trip stack on port {port} did not answer");
        let bridge = Bridge::start_to(&unique("-trips"), &functions.url).await;
        let sweeper = Some(Schedule::start("deadline-sweeper", 1, &functions.url));
        Self { api, sweeper, _bridge: bridge, functions }
    }
}
