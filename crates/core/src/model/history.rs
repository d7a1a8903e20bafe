//! The GPS history as segments: a transporter's points of one consumer batch kept together (one
//! stored item instead of one per point, the history's main write cost), and a track read back
//! point by point from them, oldest first, in pages.
//!
//! A segment is keyed by its first point's time and id: the same batch delivered again makes the
//! same segments. A batch split differently on a redelivery can store a point in two segments;
//! reading keeps one point per transporter and millisecond, so nobody sees it twice.

use crate::contract::events::LocationUpdated;
use crate::model::ids::{EventId, UserId};
use crate::model::location::LocationPoint;
use crate::ports::{Page, PagePosition};
use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;

/// At most this many points in a segment (a stored item stays a few KB).
pub const SEGMENT_POINTS: usize = 100;

/// A segment's points are recorded within this long of its first: a track from `t` reads the
/// segments that start from `t - SEGMENT_SPAN` on.
pub fn segment_span() -> Duration {
    Duration::minutes(10)
}

/// One transporter's points, oldest first, stored as one item.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub transporter_id: UserId,
    /// The id of its first point: with that point's time, the segment's key.
    pub first_id: EventId,
    pub points: Vec<LocationPoint>,
}

impl Segment {
    /// `<first point's time in ms, 13 digits>#<its id>`: text order is time order.
    pub fn key(&self) -> String {
        format!("{}#{}", millis(self.points[0].recorded_at), self.first_id)
    }

    pub fn last_at(&self) -> DateTime<Utc> {
        self.points.last().map_or(DateTime::UNIX_EPOCH, |p| p.recorded_at)
    }
}

/// A batch's points as segments: per transporter, in time order, a new segment after
/// [`SEGMENT_POINTS`] points or once a point is [`segment_span`] after the segment's first.
pub fn segments(updates: &[(EventId, LocationUpdated)]) -> Vec<Segment> {
    let mut by_transporter: BTreeMap<&UserId, Vec<(&EventId, &LocationPoint)>> = BTreeMap::new();
    for (id, update) in updates {
        by_transporter.entry(&update.transporter_id).or_default().push((id, &update.point));
    }
    let mut segments = Vec::new();
    for (transporter, mut points) in by_transporter {
        points
            .sort_by(|a, b| a.1.recorded_at.cmp(&b.1.recorded_at).then_with(|| a.0.to_string().cmp(&b.0.to_string())));
        let mut current: Option<Segment> = None;
        for (id, point) in points {
            let full = current.as_ref().is_some_and(|s| {
                s.points.len() >= SEGMENT_POINTS || point.recorded_at - s.points[0].recorded_at > segment_span()
            });
            if full {
                segments.extend(current.take());
            }
            let segment = current.get_or_insert_with(|| Segment {
                transporter_id: transporter.clone(),
                first_id: *id,
                points: Vec::new(),
            });
            segment.points.push(point.clone());
        }
        segments.extend(current);
    }
    segments
}

/// The first segment key a track from `from` reads (after `after`, a page's position).
pub fn first_key(from: DateTime<Utc>, after: Option<&PagePosition>) -> String {
    millis(start(from, after) - segment_span())
}

/// The last segment key a track until `until` reads: `$` sorts after `#`, so every segment of
/// the last millisecond is in, and none of the next.
pub fn last_key(until: DateTime<Utc>) -> String {
    format!("{}$", millis(until))
}

/// The time of a segment key's first point.
pub fn key_time(key: &str) -> Option<DateTime<Utc>> {
    key.split('#').next()?.parse().ok().and_then(DateTime::from_timestamp_millis)
}

fn start(from: DateTime<Utc>, after: Option<&PagePosition>) -> DateTime<Utc> {
    let after = after.and_then(|p| p.as_str().parse().ok()).and_then(DateTime::from_timestamp_millis);
    after.map_or(from, |after| from.max(after + Duration::milliseconds(1)))
}

fn millis(at: DateTime<Utc>) -> String {
    format!("{:013}", at.timestamp_millis().max(0))
}

/// Gathers a page of a track from segments read in key order.
pub struct TrackPage {
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: usize,
    points: BTreeMap<i64, LocationPoint>,
}

impl TrackPage {
    /// The points recorded from `from` to `until` (inclusive), after `after`, `limit` a page.
    pub fn new(from: DateTime<Utc>, until: DateTime<Utc>, limit: usize, after: Option<&PagePosition>) -> Self {
        Self { from: start(from, after), until, limit: limit.max(1), points: BTreeMap::new() }
    }

    /// One segment's points (those outside the track are left out; one a millisecond).
    pub fn add(&mut self, points: impl IntoIterator<Item = LocationPoint>) {
        for point in points {
            if point.recorded_at >= self.from && point.recorded_at <= self.until {
                self.points.entry(point.recorded_at.timestamp_millis()).or_insert(point);
            }
        }
    }

    /// The page, once it is known: `read_up_to` is the first-point time of the last segment read
    /// (no segment still unread has a point before it), `None` when every segment was read.
    pub fn page(&self, read_up_to: Option<DateTime<Utc>>) -> Option<Page<LocationPoint>> {
        let settled = |at: &i64| read_up_to.is_none_or(|upto| *at < upto.timestamp_millis());
        let known = self.points.keys().take_while(|at| settled(at)).count();
        if known > self.limit {
            let items: Vec<LocationPoint> = self.points.values().take(self.limit).cloned().collect();
            let last = items.last().map(|p| p.recorded_at.timestamp_millis()).unwrap_or_default();
            return Some(Page { items, next: Some(PagePosition::new(last.to_string())) });
        }
        read_up_to.is_none().then(|| Page { items: self.points.values().cloned().collect(), next: None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    fn point(seconds: i64) -> LocationPoint {
        LocationPoint {
            lat: 19.0,
            lng: 72.8,
            recorded_at: at(seconds),
            speed_kmh: None,
            heading_deg: None,
            accuracy_m: None,
        }
    }

    fn update(transporter: &str, seconds: i64) -> (EventId, LocationUpdated) {
        let transporter_id = UserId::parse(transporter).unwrap();
        (
            EventId::derive(&format!("{transporter}/{seconds}")),
            LocationUpdated { transporter_id, point: point(seconds) },
        )
    }

    #[test]
    fn a_batch_makes_one_segment_per_transporter_in_time_order() {
        // GIVEN two transporters' points, out of order, in one batch
        let batch = [update("t1", 10), update("t2", 5), update("t1", 0), update("t1", 5)];
        // WHEN it is cut into segments
        let segments = segments(&batch);
        // THEN each transporter has one segment, oldest point first, keyed by it
        let times: Vec<Vec<i64>> = segments
            .iter()
            .map(|s| s.points.iter().map(|p| p.recorded_at.timestamp() - at(0).timestamp()).collect())
            .collect();
        assert_eq!(times, vec![vec![0, 5, 10], vec![5]]);
        assert!(segments[0].key().starts_with(&format!("{:013}#", at(0).timestamp_millis())));
        // AND the same batch again makes the same segments
        assert_eq!(super::segments(&batch), segments);
    }

    #[test]
    fn a_segment_ends_after_its_point_limit_or_its_span() {
        let many: Vec<_> = (0..250).map(|n| update("t1", n)).collect();
        let sizes: Vec<usize> = segments(&many).iter().map(|s| s.points.len()).collect();
        assert_eq!(sizes, vec![100, 100, 50]);
        let apart = [update("t1", 0), update("t1", 600), update("t1", 601)];
        let sizes: Vec<usize> = segments(&apart).iter().map(|s| s.points.len()).collect();
        assert_eq!(sizes, vec![2, 1], "600 s is within the span, 601 s is not");
    }

    #[test]
    fn a_page_waits_until_no_unread_segment_can_hold_an_earlier_point() {
        // GIVEN a track of 3 points a page, and a first segment read (points at 0, 10, 20, 30)
        let mut page = TrackPage::new(at(0), at(1000), 3, None);
        page.add([0, 10, 20, 30].map(point));
        // WHEN the next unread segment may start at 15 s: only 0 and 10 are known for sure
        assert_eq!(page.page(Some(at(15))), None);
        // THEN once segments up to 40 s are read (one with 5 s, a redelivered 10 s), the page is
        // 0, 5, 10 with the point after which the next starts
        page.add([5, 10].map(point));
        let first = page.page(Some(at(40))).unwrap();
        let seconds: Vec<i64> = first.items.iter().map(|p| p.recorded_at.timestamp() - at(0).timestamp()).collect();
        assert_eq!(seconds, vec![0, 5, 10]);
        let next = first.next.unwrap();
        assert_eq!(next.as_str(), at(10).timestamp_millis().to_string());
        // AND the next page starts after it, and reads from a span before it
        let mut second = TrackPage::new(at(0), at(1000), 3, Some(&next));
        second.add([0, 5, 10, 20, 30].map(point));
        let rest = second.page(None).unwrap();
        assert_eq!((rest.items.len(), rest.next), (2, None));
        assert_eq!(first_key(at(0), Some(&next)), format!("{:013}", (at(10) - segment_span()).timestamp_millis() + 1));
    }
}
