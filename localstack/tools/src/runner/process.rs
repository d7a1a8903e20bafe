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
    forward(child.stdout.take(), label.clone(), function.name.clone(), host.clone());
    forward(child.stderr.take(), label, function.name.clone(), host.clone());
    tokio::spawn(async move {
        let status = tokio::select! {
            status = child.wait() => status,
            _ = kill => {
                let _ = child.start_kill();
                child.wait().await
            }
        };
        on_exit(Exited(match status {
            Ok(status) => status.to_string(),
            Err(error) => format!("could not be waited for: {error}"),
        }));
    });
    Ok(pid)
}

fn forward(stream: Option<impl AsyncRead + Unpin + Send + 'static>, label: String, function: String, host: Arc<Host>) {
    let Some(stream) = stream else { return };
    tokio::spawn(async move {
        let mut reader = BufReader::new(stream);
        let mut line = Vec::new();
        while reader.read_until(b'\n', &mut line).await.is_ok_and(|n| n > 0) {
            host.logs.line(&label, &function, &line);
            line.clear();
        }
    });
}
