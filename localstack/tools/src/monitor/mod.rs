//! `weelo-local status`: what `make run` keeps on the terminal. One line per part of the run (the
//! stack, the functions, the bridge's mappings with their lag), redrawn in place, red when a
//! service is down, a function keeps failing or a mapping stops moving; above it, the warnings and
//! errors the functions log, as they come. Every other log line stays in `.local/logs/`.
//! Without a terminal (a pipe, a test) it prints the block only when it changes.

pub mod render;

use crate::runner::ServiceStatus;
use render::{MappingState, Paint, STALL_AFTER, Snapshot, render};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use weelo_definitions::Mapping;
use weelo_kafka::KafkaConfig;
use weelo_kafka::lag::LagReader;

/// What to watch.
pub struct Watched {
    /// The local Lambda service, e.g. `http://127.0.0.1:9000`.
    pub service_url: String,
    /// `(name, host:port)` of the stack's services.
    pub stack: Vec<(String, String)>,
    /// The bridge's pid file.
    pub bridge_pid: Option<PathBuf>,
    pub kafka: KafkaConfig,
    pub mappings: Vec<Mapping>,
    pub every: Duration,
}

/// Where each mapping's committed offsets were, and since when they (or an empty lag) last moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Progress {
    committed: i64,
    lag: i64,
    since: Instant,
}

impl Progress {
    /// After `previous`, a look that found `committed` offsets and `lag`: still since the first
    /// look that found work waiting and these same offsets.
    fn next(previous: Option<&Progress>, committed: i64, lag: i64, now: Instant) -> Self {
        let since = match previous {
            Some(p) if p.committed == committed && p.lag > 0 && lag > 0 => p.since,
            _ => now,
        };
        Self { committed, lag, since }
    }

    /// How long it has been stuck, once that is [`STALL_AFTER`] or more.
    fn stuck_for(&self, lag: i64, now: Instant) -> Option<Duration> {
        let still = now.duration_since(self.since);
        (lag > 0 && still >= STALL_AFTER).then_some(still)
    }
}

/// Watches until the process is stopped.
pub async fn watch(watched: Watched) -> anyhow::Result<()> {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(2)).build()?;
    let tty = std::io::stdout().is_terminal();
    let paint = Paint(tty && std::env::var_os("NO_COLOR").is_none());
    let readers = lag_readers(&watched);
    let mut progress: Vec<Option<Progress>> = watched.mappings.iter().map(|_| None).collect();
    let (mut seen, mut drawn, mut last) = (0u64, 0usize, Vec::<String>::new());
    let mut ticker = tokio::time::interval(watched.every);
    loop {
        ticker.tick().await;
        let functions = service_status(&client, &watched.service_url, seen).await;
        let notable = functions.as_ref().map(|s| s.notable.clone()).unwrap_or_default();
        seen = notable.last().map_or(seen, |n| n.seq);
        let snapshot = Snapshot {
            stack: stack(&watched.stack).await,
            functions,
            bridge_running: watched.bridge_pid.as_ref().map(|file| process_alive(file)),
            mappings: mapping_states(&readers, &watched.mappings, &mut progress).await,
            now_ms: crate::runner::status::now_ms(),
        };
        let lines = render(&snapshot, paint);
        let mut out = std::io::stdout().lock();
        if tty && drawn > 0 {
            write!(out, "\u{1b}[{drawn}A")?;
        }
        for note in &notable {
            let line = format!("  {} | {}", note.function, note.line.trim());
            let line = if note.line.contains("ERROR") { paint.bad(&line) } else { paint.warn(&line) };
            writeln!(out, "\u{1b}[2K{line}")?;
        }
        if tty {
            // A line longer than the terminal would wrap, and the next redraw would miss it.
            let width = console::Term::stdout().size().1 as usize;
            for line in &lines {
                writeln!(out, "\u{1b}[2K{}", console::truncate_str(line, width.saturating_sub(1), "…"))?;
            }
            drawn = lines.len();
        } else if lines.as_slice() != last.as_slice() {
            let at = chrono::Local::now().format("%H:%M:%S");
            for line in &lines {
                writeln!(out, "[{at}]{line}")?;
            }
            last = lines.to_vec();
        }
        out.flush()?;
    }
}

fn lag_readers(watched: &Watched) -> Vec<Option<LagReader>> {
    watched.mappings.iter().map(|m| LagReader::new(&watched.kafka, &m.consumer_group(), &m.topic).ok()).collect()
}

async fn service_status(client: &reqwest::Client, url: &str, since: u64) -> Option<ServiceStatus> {
    let response = client.get(format!("{url}/_weelo/status?since={since}")).send().await.ok()?;
    response.json().await.ok()
}

async fn stack(services: &[(String, String)]) -> Vec<(String, bool)> {
    let mut states = Vec::new();
    for (name, address) in services {
        let connect = tokio::net::TcpStream::connect(address.as_str());
        let up = matches!(tokio::time::timeout(Duration::from_secs(1), connect).await, Ok(Ok(_)));
        states.push((name.clone(), up));
    }
    states
}

fn process_alive(pid_file: &std::path::Path) -> bool {
    std::fs::read_to_string(pid_file)
        .ok()
        .and_then(|pid| pid.trim().parse::<u32>().ok())
        .is_some_and(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists())
}

/// Each mapping's lag, and how long its offsets have stood still while it had one.
async fn mapping_states(
    readers: &[Option<LagReader>], mappings: &[Mapping], progress: &mut [Option<Progress>],
) -> Option<Vec<MappingState>> {
    let mut states = Vec::new();
    for ((reader, mapping), seen) in readers.iter().zip(mappings).zip(progress.iter_mut()) {
        // A few small requests to the local broker: quick enough to make here, between redraws.
        let partitions = tokio::task::block_in_place(|| reader.as_ref()?.read().ok())?;
        let lag: i64 = partitions.iter().map(|p| p.lag()).sum();
        let committed: i64 = partitions.iter().map(|p| p.committed.unwrap_or(p.start)).sum();
        let now = Instant::now();
        let progress = Progress::next(seen.as_ref(), committed, lag, now);
        let stuck_for = progress.stuck_for(lag, now);
        *seen = Some(progress);
        states.push(MappingState { name: format!("{}/{}", mapping.function, mapping.topic), lag, stuck_for });
    }
    Some(states)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mapping_is_stuck_only_when_its_offsets_stand_still_while_it_has_work() {
        let start = Instant::now();
        let later = |secs| start + Duration::from_secs(secs);
        // GIVEN a mapping idle for a minute, then one record arrives
        let idle = Progress::next(None, 100, 0, start);
        let idle = Progress::next(Some(&idle), 100, 0, later(60));
        let arrived = Progress::next(Some(&idle), 100, 1, later(61));
        // THEN it is not stuck for the idle minute before
        assert_eq!(arrived.stuck_for(1, later(61)), None);
        // AND it is once its offsets stayed put with that record for 30 s
        let waiting = Progress::next(Some(&arrived), 100, 1, later(91));
        assert_eq!(waiting.stuck_for(1, later(91)), Some(Duration::from_secs(30)));
        // AND a commit clears it
        let moved = Progress::next(Some(&waiting), 101, 1, later(92));
        assert_eq!(moved.stuck_for(1, later(92)), None);
    }
}
