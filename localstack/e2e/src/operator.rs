//! The operator's tool (`weelo-ops`) run as an operator runs it, against the local stack.

use std::process::Command;

/// Runs the operator's tool (`weelo-ops`, built by `localstack/e2e.sh`) as an operator would, with
/// its Lambda client pointed at the local Lambda service; returns whether it succeeded and its stdout.
pub fn weelo_ops(args: &[&str]) -> (bool, String) {
    weelo_ops_via(&std::env::var("E2E_INVOKE_URL").expect("E2E_INVOKE_URL (set by localstack/e2e.sh)"), args)
}

/// [`weelo_ops`], returning what it printed on stdout and then on stderr (where its refusals are).
pub fn weelo_ops_all(args: &[&str]) -> (bool, String) {
    let invoke = std::env::var("E2E_INVOKE_URL").expect("E2E_INVOKE_URL (set by localstack/e2e.sh)");
    let (ok, stdout, stderr) = run_weelo_ops(&invoke, args);
    (ok, format!("{stdout}{stderr}"))
}

/// [`weelo_ops`] with its Lambda client pointed at the local Lambda service at `invoke_url`.
pub fn weelo_ops_via(invoke_url: &str, args: &[&str]) -> (bool, String) {
    let (ok, stdout, stderr) = run_weelo_ops(invoke_url, args);
    if !ok {
        eprintln!("weelo-ops {args:?} failed: {stderr}");
    }
    (ok, stdout)
}

/// Whether it succeeded, its stdout and its stderr.
fn run_weelo_ops(invoke_url: &str, args: &[&str]) -> (bool, String, String) {
    let binary = std::env::var("WEELO_OPS_BIN").expect("WEELO_OPS_BIN (set by localstack/e2e.sh)");
    let output = Command::new(binary)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .args(args)
        .env("AWS_ENDPOINT_URL_LAMBDA", invoke_url)
        .output()
        .expect("running weelo-ops");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    (output.status.success(), stdout, String::from_utf8_lossy(&output.stderr).into_owned())
}
