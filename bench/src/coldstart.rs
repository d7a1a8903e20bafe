//! Figures 5 and 7: each function's release binary started as Lambda starts it, against a small
//! Lambda Runtime API served here (`/2018-06-01/runtime/invocation/next` and `.../response`), as
//! the local Lambda service or Lambda itself would serve it. Cold start = process spawn to the first
//! completed invocation; peak RSS = the process's high-water mark after its last invocation.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tiny_http::{Header, Response, Server};

/// How many times each function is started for its cold start (the first, trivial invocation
/// only, after the run under load): one start alone is at the mercy of whatever else the two
/// cores were doing at that moment.
pub const COLD_START_SAMPLES: usize = 5;

pub struct ProcessFigure {
    /// The median of [`COLD_START_SAMPLES`] starts.
    pub cold_start: Duration,
    pub cold_start_slowest: Duration,
    /// Each invocation after the first, in order.
    pub invocations: Vec<Duration>,
    pub peak_rss_kb: u64,
    pub binary_bytes: u64,
}

/// Runs `binary` (the function `name`) under `events`, then starts it again
/// `COLD_START_SAMPLES - 1` times with the first event alone, for its cold start.
pub fn measure_function(binary: &Path, name: &str, events: &[String]) -> anyhow::Result<ProcessFigure> {
    anyhow::ensure!(!events.is_empty(), "{name}: no event to start it with");
    let mut figure = run_function(binary, name, events)?;
    let mut starts = vec![figure.cold_start];
    for _ in 1..COLD_START_SAMPLES {
        starts.push(run_function(binary, name, &events[..1])?.cold_start);
    }
    starts.sort();
    figure.cold_start = starts[starts.len() / 2];
    figure.cold_start_slowest = starts[starts.len() - 1];
    Ok(figure)
}

/// Starts `binary` (the function `name`) and feeds it `events` one by one.
fn run_function(binary: &Path, name: &str, events: &[String]) -> anyhow::Result<ProcessFigure> {
    let server = Server::http("127.0.0.1:0").map_err(|e| anyhow::anyhow!("runtime API: {e}"))?;
    let address = server.server_addr().to_ip().ok_or_else(|| anyhow::anyhow!("runtime API has no IP address"))?;
    let started = Instant::now();
    let mut child = Command::new(binary)
        .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let outcome = serve_invocations(&server, &child, name, events, started);
    let _ = child.kill();
    let _ = child.wait();
    let (cold_start, invocations, peak_rss_kb) = outcome?;
    Ok(ProcessFigure {
        cold_start,
        cold_start_slowest: cold_start,
        invocations,
        peak_rss_kb,
        binary_bytes: std::fs::metadata(binary)?.len(),
    })
}

fn serve_invocations(
    server: &Server, child: &std::process::Child, name: &str, events: &[String], spawned: Instant,
) -> anyhow::Result<(Duration, Vec<Duration>, u64)> {
    let mut cold_start = Duration::ZERO;
    let mut invocations = Vec::new();
    for (n, event) in events.iter().enumerate() {
        let request_id = format!("bench-{n}");
        let next = wait_for(server, "/invocation/next")?;
        let deadline = chrono::Utc::now().timestamp_millis() + 900_000;
        let headers = [
            ("Lambda-Runtime-Aws-Request-Id", request_id.clone()),
            ("Lambda-Runtime-Deadline-Ms", deadline.to_string()),
            ("Lambda-Runtime-Invoked-Function-Arn", format!("arn:aws:lambda:ap-south-1:000000000000:function:{name}")),
            ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000".to_owned()),
            ("Content-Type", "application/json".to_owned()),
        ];
        let mut response = Response::from_string(event.as_str());
        for (key, value) in headers {
            response.add_header(Header::from_bytes(key, value).expect("valid header"));
        }
        let sent = Instant::now();
        next.respond(response)?;
        let done = wait_for(server, &format!("/invocation/{request_id}/"))?;
        let failed = done.url().ends_with("/error");
        let took = if n == 0 { spawned.elapsed() } else { sent.elapsed() };
        done.respond(Response::empty(202))?;
        anyhow::ensure!(!failed, "{name}: invocation {n} failed");
        if n == 0 { cold_start = took } else { invocations.push(took) }
    }
    let peak_rss_kb = std::fs::read_to_string(format!("/proc/{}/status", child.id()))?
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    Ok((cold_start, invocations, peak_rss_kb))
}

/// The next request whose URL contains `fragment`; others (e.g. init errors) fail the run.
fn wait_for(server: &Server, fragment: &str) -> anyhow::Result<tiny_http::Request> {
    let request = server
        .recv_timeout(Duration::from_secs(300))?
        .ok_or_else(|| anyhow::anyhow!("the function did not call the runtime API within 5 min"))?;
    if request.url().contains(fragment) {
        Ok(request)
    } else {
        let url = request.url().to_owned();
        let _ = request.respond(Response::empty(202));
        anyhow::bail!("unexpected runtime API call {url} (waiting for {fragment})")
    }
}
