//! One process of a function: started with the environment Lambda gives an execution environment,
//! its output forwarded line by line to the logs, and watched until it exits or is ended.

use super::{FunctionConfig, Host};
use std::fmt;
use std::process::Stdio;
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;
use tokio::sync::oneshot;

/// Variables of the service's own environment a process inherits; Lambda's environment is
/// otherwise only what the function is configured with.
const INHERITED: [&str; 5] = ["PATH", "HOME", "TMPDIR", "RUST_BACKTRACE", "RUST_LOG"];

/// How a process ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exited(pub String);

impl fmt::Display for Exited {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Starts process `instance` of `function`; `on_exit` is called once when it has exited, on its
/// own or because `kill` fired. Returns its pid.
pub fn start(
    function: &FunctionConfig, instance: u32, host: &Arc<Host>, kill: oneshot::Receiver<()>,
    on_exit: impl FnOnce(Exited) + Send + 'static,
) -> std::io::Result<u32> {
    let mut command = Command::new(&function.binary);
    command.env_clear();
    for name in INHERITED {
        if let Ok(value) = std::env::var(name) {
            command.env(name, value);
        }
    }
    command
        .envs(host.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .envs(function.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("AWS_LAMBDA_FUNCTION_NAME", &function.name)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", function.memory_mb.to_string())
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{}", function.name))
        .env("AWS_LAMBDA_LOG_STREAM_NAME", format!("local/{instance}"))
        .env("AWS_LAMBDA_RUNTIME_API", format!("{}/rt/{}/{instance}", host.base_url, function.name))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = command.spawn()?;
    let pid = child.id().unwrap_or_default();
    let label = format!("{}#{instance}", function.name);
    let output = [
        forward(child.stdout.take(), label.clone(), function.name.clone(), host.clone()),
        forward(child.stderr.take(), label, function.name.clone(), host.clone()),
    ];
    tokio::spawn(async move {
        let status = tokio::select! {
            status = child.wait() => status,
            _ = kill => end(&mut child, pid).await,
        };
        // Its last lines (what it wrote on SIGTERM) are in the logs before its exit is told.
        let _ = tokio::time::timeout(OUTPUT_DRAIN, futures::future::join_all(output)).await;
        on_exit(Exited(match status {
            Ok(status) => status.to_string(),
            Err(error) => format!("could not be waited for: {error}"),
        }));
    });
    Ok(pid)
}

/// How long a process has between SIGTERM and SIGKILL. Lambda gives a runtime with an internal
/// extension 500 ms; a loaded machine here may take longer to schedule it.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// Ends `child` as Lambda ends an execution environment: SIGTERM (which a function that
/// registered an extension handles, `weelo_telemetry::Flush`), then SIGKILL after the grace.
async fn end(child: &mut tokio::process::Child, pid: u32) -> std::io::Result<std::process::ExitStatus> {
    if let Ok(pid) = libc::pid_t::try_from(pid)
        && pid > 0
    {
        // SAFETY: kill(2) with a pid this service spawned and has not reaped yet.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        if let Ok(status) = tokio::time::timeout(SHUTDOWN_GRACE, child.wait()).await {
            return status;
        }
    }
    let _ = child.start_kill();
    child.wait().await
}

/// How long an exited process's output is read on: a child it left behind may hold the pipe.
const OUTPUT_DRAIN: std::time::Duration = std::time::Duration::from_secs(1);

fn forward(
    stream: Option<impl AsyncRead + Unpin + Send + 'static>, label: String, function: String, host: Arc<Host>,
) -> tokio::task::JoinHandle<()> {
    let Some(stream) = stream else { return tokio::spawn(async {}) };
    tokio::spawn(async move {
        let mut reader = BufReader::new(stream);
        let mut line = Vec::new();
        while reader.read_until(b'\n', &mut line).await.is_ok_and(|n| n > 0) {
            host.logs.line(&label, &function, &line);
            line.clear();
        }
    })
}
