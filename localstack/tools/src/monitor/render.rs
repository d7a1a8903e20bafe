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
mod tests {
    use super::*;
    use crate::runner::status::{Failure, Stats};

    fn function(name: &str, recent: &[bool], failure_at_ms: Option<u64>) -> FunctionStatus {
        let stats = Stats {
            invocations: recent.len() as u64,
            succeeded: recent.iter().filter(|ok| **ok).count() as u64,
            failed: recent.iter().filter(|ok| !**ok).count() as u64,
            recent: recent.iter().copied().collect(),
            last_failure: failure_at_ms.map(|at_ms| Failure { error_type: "Runtime.ExitError".into(), at_ms }),
            ..Stats::default()
        };
        FunctionStatus { name: name.into(), timeout_seconds: 60.0, concurrency: 4, queued: 0, instances: vec![], stats }
    }

    fn healthy() -> Snapshot {
        Snapshot {
            stack: vec![("kafka".into(), true), ("dynamodb".into(), true), ("moto".into(), true)],
            functions: Some(ServiceStatus { functions: vec![function("api", &[true, true], None)], notable: vec![] }),
            bridge_running: Some(true),
            mappings: Some(vec![MappingState {
                name: "fcm-consumer/notification.fcm".into(),
                lag: 0,
                stuck_for: None,
            }]),
            now_ms: 100_000,
        }
    }

    #[test]
    fn a_healthy_run_is_three_green_lines() {
        let lines = render(&healthy(), Paint(false));
        assert_eq!(lines[0], "  stack      kafka ✓ up · dynamodb ✓ up · moto ✓ up");
        assert_eq!(lines[1], "  functions  ✓ api 2");
        assert_eq!(lines[2], "  bridge     ✓ 1 mappings, lag 0");
    }

    #[test]
    fn a_failing_function_a_stalled_mapping_and_a_dead_service_turn_red() {
        // GIVEN a function whose last invocation failed 5 s ago and a mapping stuck for 40 s
        let mut snapshot = healthy();
        snapshot.functions = Some(ServiceStatus {
            functions: vec![function("fcm-consumer", &[true, false], Some(95_000))],
            notable: vec![],
        });
        snapshot.mappings = Some(vec![MappingState {
            name: "fcm-consumer/notification.fcm".into(),
            lag: 5075,
            stuck_for: Some(Duration::from_secs(40)),
        }]);
        // THEN both lines say so, in red on a terminal
        let lines = render(&snapshot, Paint(false));
        assert_eq!(lines[1], "  functions  ✗ fcm-consumer 1 failed of 2 (last: Runtime.ExitError, 5 s ago)");
        assert_eq!(
            lines[2],
            "  bridge     ✗ 1 mappings, lag 5075 · fcm-consumer/notification.fcm 5075 NOT MOVING for 40 s"
        );
        assert!(render(&snapshot, Paint(true))[1].contains("\u{1b}[1;31m"));
        // AND a service that does not answer, a stopped bridge and a stack service down are named
        snapshot.functions = None;
        snapshot.bridge_running = Some(false);
        snapshot.stack[1].1 = false;
        let lines = render(&snapshot, Paint(false));
        assert!(lines[0].contains("dynamodb ✗ DOWN"), "{}", lines[0]);
        assert!(lines[1].contains("does not answer"), "{}", lines[1]);
        assert!(lines[2].contains("not running"), "{}", lines[2]);
    }

    #[test]
    fn a_function_that_recovered_is_green_again() {
        let mut snapshot = healthy();
        snapshot.functions = Some(ServiceStatus {
            functions: vec![function("fcm-consumer", &[false, true], Some(95_000))],
            notable: vec![],
        });
        assert_eq!(render(&snapshot, Paint(false))[1], "  functions  ✓ fcm-consumer 1");
    }
}
