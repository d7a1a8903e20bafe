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
        mappings: Some(vec![MappingState { name: "fcm-consumer/notification.fcm".into(), lag: 0, stuck_for: None }]),
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
