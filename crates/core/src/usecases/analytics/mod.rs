//! [`Analytics`] (the analytics consumer, docs/analytics.md): the booking funnel as it happens.
//! Each batch of a partition is added up into [`Figures`](metrics::Figures) per minute (of the
//! events' own time) and group (vehicle type and city), and published as metrics.
//!
//! Counted once: per partition the highest offset already counted is kept
//! ([`ProgressStore`]). Records at or below it are skipped (a redelivered batch, a replay of
//! the same offsets through `weelo-ops replay --to-function`); the mark moves with a conditional
//! write *before* the figures are published, so two deliveries of one batch racing each other
//! publish once, and a crash between the write and the publish loses that batch's figures rather
//! than counting them twice. To count old data again on purpose, delete the mark (its `scope`
//! is part of the key, so a second scope counts everything afresh).
//!
//! The mark is per Kafka record. The same event published twice (a producer retry after a lost
//! acknowledgement, the outbox relay publishing what the api had published a moment before) is
//! two records: counted once when both are in one batch, twice otherwise. That is rare and
//! bounded; the archive (Athena, `weelo-ops funnel`) counts each event id once.

pub mod cities;
pub mod metrics;
mod tally;

use crate::contract::events::TimedEvent;
use crate::ports::{FigureSink, ProgressStore, StoreError};
use chrono::{DateTime, Utc};
use cities::Cities;
use metrics::{ACTIVE_TRUCKS, Figures, Group};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;
pub use tally::Tally;

/// How analytics counts.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyticsSettings {
    pub cities: Cities,
    /// Names this consumer's marks (`ANALYTICS_SCOPE`, default `analytics`).
    pub scope: String,
}

/// One partition's records of a batch, in offset order; `None` for a record that is not an event
/// (skipped: the other consumers dead-letter it, analytics only counts events).
pub struct PartitionRecords<'a> {
    pub topic: &'a str,
    pub partition: i32,
    pub records: Vec<(i64, Option<TimedEvent>)>,
}

/// What counting one partition's records did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CountReport {
    pub counted: usize,
    /// At or below the mark: counted before.
    pub already_counted: usize,
    pub not_events: usize,
    /// Another delivery of the same records moved the mark first: nothing published.
    pub lost_race: bool,
}

/// Trucks already counted active, per stream and minute, for [`ACTIVE_TRUCKS`].
type SeenTrucks = HashMap<String, BTreeMap<DateTime<Utc>, BTreeSet<String>>>;

pub struct Analytics<P, S> {
    progress: P,
    sink: S,
    settings: AnalyticsSettings,
    seen: Mutex<SeenTrucks>,
}

impl<P: ProgressStore, S: FigureSink> Analytics<P, S> {
    pub fn new(progress: P, sink: S, settings: AnalyticsSettings) -> Self {
        Self { progress, sink, settings, seen: Mutex::default() }
    }

    /// Counts the records of one partition not counted before, then publishes their figures.
    pub async fn count(&self, batch: PartitionRecords<'_>) -> Result<CountReport, StoreError> {
        let stream = format!("{}#{}#{}", self.settings.scope, batch.topic, batch.partition);
        let mark = self.progress.counted_up_to(&stream).await?;
        let mut report = CountReport::default();
        let mut tally = Tally::default();
        let mut ids = BTreeSet::new();
        let mut last = None;
        for (offset, event) in &batch.records {
            if mark.is_some_and(|mark| *offset <= mark) {
                report.already_counted += 1;
                continue;
            }
            last = Some(*offset);
            match event {
                // The same event twice in a batch (a publisher that retried): counted once.
                Some(timed) if !ids.insert(timed.id) => report.already_counted += 1,
                Some(timed) => {
                    tally.add(&self.settings.cities, timed);
                    report.counted += 1;
                }
                None => report.not_events += 1,
            }
        }
        let Some(last) = last else { return Ok(report) };
        if !self.progress.advance_count(&stream, mark, last).await? {
            return Ok(CountReport { counted: 0, lost_race: true, ..report });
        }
        let mut figures: Vec<Figures> = tally.figures.into_values().collect();
        self.add_active_trucks(&stream, tally.trucks, &mut figures);
        self.sink.emit(&figures);
        Ok(report)
    }

    /// A truck is active in a minute if it sent a point in it. A truck's points all arrive on one
    /// partition, so it is counted the first time this partition shows it in that minute. What was
    /// seen is remembered by this execution environment only: should a partition's minute be
    /// split between two environments, a truck may count once in each (an upper bound, written down
    /// in docs/analytics.md).
    fn add_active_trucks(
        &self, stream: &str, trucks: BTreeMap<DateTime<Utc>, BTreeSet<String>>, figures: &mut [Figures],
    ) {
        let mut seen = self.seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let minutes = seen.entry(stream.to_owned()).or_default();
        for (minute, batch_trucks) in trucks {
            let known = minutes.entry(minute).or_default();
            let new = batch_trucks.into_iter().filter(|truck| known.insert(truck.clone())).count() as u64;
            if let Some(gps) = figures.iter_mut().find(|f| f.minute == minute && f.group == Group::Gps) {
                gps.counts.insert(ACTIVE_TRUCKS, new);
            }
        }
        // The newest minutes only: points arrive roughly in time order.
        while minutes.len() > 3 {
            minutes.pop_first();
        }
    }
}
