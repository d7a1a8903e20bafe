//! The status block: one line per part of a local run, from one [`Snapshot`]. Pure, so what a
//! person sees for each situation is tested without a running stack.

use crate::runner::{FunctionStatus, ServiceStatus};
use std::time::Duration;

/// What the monitor saw at one moment.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// `(service, answers)` for Kafka, the DynamoDB emulator and moto.
    pub stack: Vec<(String, bool)>,
    /// `None`: the local Lambda service did not answer.
    pub functions: Option<ServiceStatus>,
    /// `None`: the bridge process is not running.
    pub bridge_running: Option<bool>,
    /// Each mapping's lag; `None`: Kafka could not be asked.
    pub mappings: Option<Vec<MappingState>>,
    pub now_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingState {
    /// `function/topic`.
    pub name: String,
    pub lag: i64,
    /// How long its committed offsets have not moved while it had a lag.
    pub stuck_for: Option<Duration>,
}

/// A function counts as failing for this long after its latest invocation failed.
const FAILING_WINDOW_MS: u64 = 60_000;
/// A mapping with a lag whose offsets have not moved for this long has stopped.
pub const STALL_AFTER: Duration = Duration::from_secs(30);
/// At most this many lagging mappings are named.
const NAMED_MAPPINGS: usize = 3;

/// Colours for a terminal, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paint(pub bool);

impl Paint {
    pub fn ok(self, text: &str) -> String {
        self.wrap("32", text)
    }
    pub fn bad(self, text: &str) -> String {
        self.wrap("1;31", text)
    }
    pub fn warn(self, text: &str) -> String {
        self.wrap("33", text)
    }
    fn wrap(self, code: &str, text: &str) -> String {
        if self.0 { format!("\u{1b}[{code}m{text}\u{1b}[0m") } else { text.to_owned() }
    }
}

/// The three lines: stack, functions, bridge.
pub fn render(snapshot: &Snapshot, paint: Paint) -> [String; 3] {
    [stack_line(snapshot, paint), functions_line(snapshot, paint), bridge_line(snapshot, paint)]
}

fn mark(ok: bool, paint: Paint) -> String {
    if ok { paint.ok("✓") } else { paint.bad("✗") }
}

fn stack_line(snapshot: &Snapshot, paint: Paint) -> String {
    let parts: Vec<String> = snapshot
        .stack
        .iter()
        .map(|(name, up)| format!("{name} {}", if *up { paint.ok("✓ up") } else { paint.bad("✗ DOWN") }))
        .collect();
    format!("  stack      {}", parts.join(" · "))
}

fn functions_line(snapshot: &Snapshot, paint: Paint) -> String {
    let Some(status) = &snapshot.functions else {
        return format!("  functions  {} the local Lambda service does not answer", paint.bad("✗ DOWN"));
    };
    let used: Vec<&FunctionStatus> = status.functions.iter().filter(|f| f.stats.invocations > 0).collect();
    if used.is_empty() {
        return format!("  functions  {} {} ready, none invoked yet", paint.ok("✓"), status.functions.len());
    }
    let parts: Vec<String> = used.iter().map(|f| function_part(f, snapshot.now_ms, paint)).collect();
    format!("  functions  {}", parts.join(" · "))
}

fn function_part(function: &FunctionStatus, now_ms: u64, paint: Paint) -> String {
    let stats = &function.stats;
    if function.failing(now_ms, FAILING_WINDOW_MS) {
        let failure = stats.last_failure.as_ref().expect("failing means a failure was recorded");
        let ago = now_ms.saturating_sub(failure.at_ms) / 1000;
        let text = format!(
            "{} {} failed of {} (last: {}, {ago} s ago)",
            function.name, stats.failed, stats.invocations, failure.error_type
        );
        format!("{} {}", mark(false, paint), paint.bad(&text))
    } else {
        format!("{} {} {}", mark(true, paint), function.name, stats.succeeded)
    }
}

fn bridge_line(snapshot: &Snapshot, paint: Paint) -> String {
    if snapshot.bridge_running == Some(false) {
        return format!(
            "  bridge     {} the bridge is not running: nothing reaches the consumers",
            paint.bad("✗ DOWN")
        );
    }
    let Some(mappings) = &snapshot.mappings else {
        return format!("  bridge     {} lag unknown: Kafka does not answer", paint.bad("✗"));
    };
    let total: i64 = mappings.iter().map(|m| m.lag).sum();
    let mut lagging: Vec<&MappingState> = mappings.iter().filter(|m| m.lag > 0).collect();
    lagging.sort_by_key(|m| (m.stuck_for.is_none(), -m.lag));
    let stuck = lagging.iter().any(|m| m.stuck_for.is_some());
    let mut line = format!("  bridge     {} {} mappings, lag {total}", mark(!stuck, paint), mappings.len());
    for mapping in lagging.iter().take(NAMED_MAPPINGS) {
        let part = match mapping.stuck_for {
            Some(stuck) => paint.bad(&format!("{} {} NOT MOVING for {} s", mapping.name, mapping.lag, stuck.as_secs())),
            None => paint.warn(&format!("{} {}", mapping.name, mapping.lag)),
        };
        line.push_str(" · ");
        line.push_str(&part);
    }
    line
}

#[cfg(test)]
#[path = "render_tests.rs"]
mod tests;
