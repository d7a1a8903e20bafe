//! The local Lambda service (`weelo-local functions`): what AWS Lambda does for Weelo's functions,
//! on one port, for `make run`, the smoke test and the end-to-end flows.
//!
//! - **Invoke API**, `POST /2015-03-31/functions/{name}/invocations`: the bridge, `weelo-local
//!   schedule` and `weelo-ops replay`/`redrive` (through `AWS_ENDPOINT_URL_LAMBDA`) call it.
//! - **Function URLs**, `/lambda-url/{name}/{path}`: an HTTP request becomes the API Gateway HTTP
//!   API event (payload 2.0) and the function's answer becomes the HTTP response ([`gateway`]).
//! - **Runtime API**, `/rt/{name}/{instance}/2018-06-01/runtime/...`, polled by each process, and
//!   the **Extensions API**'s register and next-event calls (`.../2020-01-01/extension/...`), for
//!   the internal extension that gets a process its SIGTERM.
//! - **WebSocket API**, `/websocket` and its Management API `/websocket/@connections/{id}`: what
//!   API Gateway does for the live-tracking socket ([`websocket`]).
//! - **Status**, `GET /_weelo/status`: processes, outcomes and the warnings the functions logged,
//!   which `weelo-local status` shows under `make run`.
//!
//! As Lambda does it ([`pool`]): a function's processes (its execution environments) are started
//! when invocations wait, each runs one invocation at a time, at most `concurrency` at once. A
//! process that exits is replaced at the next invocation, and the invocation it was running fails
//! (`Runtime.ExitError`). An invocation still running at the function's timeout
//! (`infra/definitions/functions.json`) fails (`Sandbox.Timedout`) and its process is ended. A
//! process is ended as Lambda ends an environment: SIGTERM, then SIGKILL if it is still there
//! after a grace. A
//! rebuilt binary (`cargo build`) replaces idle processes, so an edit needs no restart.
//!
//! Unlike `cargo lambda watch`, which this replaces: a crashed process there stayed dead and every
//! later invocation hung; there was no timeout; and it set `AWS_LAMBDA_MAX_CONCURRENCY=1`, which
//! made `lambda_runtime` warn on every start (Lambda sets it only for managed instances).

pub mod gateway;
mod http;
mod logs;
mod pool;
mod process;
pub mod status;
pub mod websocket;

pub use logs::Notable;
pub use pool::{Function, Outcome};
pub use status::{FunctionStatus, InstanceStatus, ServiceStatus};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use weelo_definitions::load_functions;

/// One function as the service runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionConfig {
    pub name: String,
    /// The function's executable (a `bootstrap` in AWS; the debug or release build here).
    pub binary: PathBuf,
    /// Its own variables (`environment` in functions.json), over the env file's.
    pub env: Vec<(String, String)>,
    pub timeout: Duration,
    pub memory_mb: u32,
    /// Processes (execution environments) at most at once.
    pub concurrency: usize,
}

/// What the function processes share: where the Runtime API is, their environment, their logs.
pub struct Host {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    /// The environment every process starts with (the env file), before Lambda's own variables.
    pub env: Vec<(String, String)>,
    pub region: String,
    pub logs: logs::Logs,
}

/// Every function of the service, by name, and the WebSocket connections it holds.
pub struct Service {
    pub functions: BTreeMap<String, Arc<Function>>,
    pub host: Arc<Host>,
    pub sockets: websocket::Connections,
}

impl Service {
    pub fn new(configs: Vec<FunctionConfig>, host: Host) -> Arc<Self> {
        let host = Arc::new(host);
        let functions =
            configs.into_iter().map(|config| (config.name.clone(), Function::new(config, host.clone()))).collect();
        Arc::new(Self { functions, host, sockets: Default::default() })
    }

    /// The function an Invoke API call or a URL names: a plain name, a partial or full ARN.
    pub fn function(&self, name: &str) -> Option<&Arc<Function>> {
        let name = name.rsplit(':').next().unwrap_or(name);
        self.functions.get(name)
    }

    /// Ends every process (on shutdown), and waits until they have exited (each has
    /// [`process::SHUTDOWN_GRACE`] after its SIGTERM) and their output is in the logs.
    pub async fn end_all(&self) {
        for function in self.functions.values() {
            function.end_all();
        }
        let deadline = tokio::time::Instant::now() + process::SHUTDOWN_GRACE + Duration::from_secs(2);
        while !self.functions.values().all(|f| f.ended()) && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The functions of `definitions/functions.json`, each run from `<bin_dir>/<binary>`, with the
/// timeouts in `overrides` (`name → timeout`) instead of the defined ones where given.
pub fn configs_from_definitions(
    definitions: &Path, bin_dir: &Path, concurrency: usize, overrides: &[(String, Duration)],
) -> anyhow::Result<Vec<FunctionConfig>> {
    let defined = load_functions(definitions)?;
    for (name, _) in overrides {
        anyhow::ensure!(defined.iter().any(|f| &f.name == name), "--timeout names an unknown function: {name}");
    }
    Ok(defined
        .into_iter()
        .map(|f| FunctionConfig {
            binary: bin_dir.join(f.binary_name()),
            env: f.environment.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            timeout: overrides.iter().find(|(name, _)| name == &f.name).map_or(f.timeout(), |(_, t)| *t),
            memory_mb: f.memory_mb,
            concurrency: concurrency.max(1),
            name: f.name,
        })
        .collect())
}

/// Serves `service` on `listener` until a SIGINT or SIGTERM, which ends every process first (their
/// pending polls then end, and with them the connections the shutdown waits for).
pub async fn serve(service: Arc<Service>, listener: tokio::net::TcpListener) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    let (stopping, stopped) = tokio::sync::oneshot::channel::<()>();
    let ending = service.clone();
    let shutdown = async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
        ending.end_all().await;
        let _ = stopping.send(());
    };
    let server = axum::serve(listener, http::router(service.clone())).with_graceful_shutdown(shutdown);
    tokio::select! {
        result = server => result?,
        // A connection that does not close in time does not keep the service from stopping.
        _ = async {
            let _ = stopped.await;
            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
        } => {}
    }
    service.end_all().await;
    Ok(())
}

/// `KEY=VALUE` lines of an env file (`.local/stack.env`), comments and blank lines skipped.
pub fn read_env_file(path: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let mut env = Vec::new();
    for item in dotenvy::from_path_iter(path)? {
        env.push(item?);
    }
    Ok(env)
}
