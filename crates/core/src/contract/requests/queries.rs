//! The query strings of the read routes (`GET /v1/bookings?status=searching,accepted&limit=7&cursor=…`,
//! `GET …/track?since=…&limit=500`), parsed as strictly as the bodies: an unknown or repeated
//! parameter, a status that does not exist, a time that is not RFC 3339 or a limit out of range is
//! a 400 naming the parameter, never a silently different page.

use crate::error::ValidationError;
use chrono::{DateTime, Utc};
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt::Display;

/// How many items a page holds: 1 to the route's maximum, its default when the client does not say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimit(u16);

impl PageLimit {
    /// The lists' default and maximum.
    pub const DEFAULT: u16 = 20;
    pub const MAX: u16 = 100;

    /// A list's limit: 1–100.
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        Self::parse_up_to(text, Self::MAX)
    }

    /// A limit of 1 to `max` (at most 9999).
    pub fn parse_up_to(text: &str, max: u16) -> Result<Self, ValidationError> {
        let problem = || ValidationError::single("limit", format!("must be a whole number from 1 to {max}"));
        // Digits only: `+7`, ` 7` and `7.0` are refused rather than guessed at.
        if text.is_empty() || text.len() > 4 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(problem());
        }
        match text.parse::<u16>() {
            Ok(n) if (1..=max).contains(&n) => Ok(Self(n)),
            _ => Err(problem()),
        }
    }

    pub fn get(self) -> usize {
        usize::from(self.0)
    }
}

impl Default for PageLimit {
    fn default() -> Self {
        Self(Self::DEFAULT)
    }
}

/// The longest cursor accepted; ours are a fraction of this.
pub const MAX_CURSOR_CHARS: usize = 2048;

/// A list route's query: which statuses (none: all), how many, and where the last page ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery<S> {
    /// Sorted and without repeats, so `a,b` and `b,a` are the same query (and accept the same cursor).
    pub statuses: BTreeSet<S>,
    pub limit: PageLimit,
    /// As the client sent it; opened (and checked) by the use case, which knows the caller.
    pub cursor: Option<String>,
}

impl<S: Copy + Ord + Display> ListQuery<S> {
    /// Parses `raw` (the query string without `?`), taking statuses from `known` (none: the list
    /// has no `status` parameter). `status` may be repeated or comma-separated; `limit` and
    /// `cursor` may appear once.
    pub fn parse(raw: &str, known: &[S]) -> Result<Self, ValidationError> {
        let mut problems = ValidationError::default();
        let (mut statuses, mut limit, mut cursor) = (BTreeSet::new(), None, None);
        for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
            match name.as_ref() {
                // A list without statuses (`known` empty) has no `status` parameter.
                "status" if !known.is_empty() => {
                    for word in value.split(',') {
                        match known.iter().find(|s| s.to_string() == word) {
                            Some(status) => {
                                statuses.insert(*status);
                            }
                            None => problems.push("status", format!("must be one or more of {}", names(known))),
                        }
                    }
                }
                "limit" => once(&mut limit, "limit", PageLimit::parse(&value), &mut problems),
                "cursor" => once(&mut cursor, "cursor", parse_cursor(value), &mut problems),
                other => problems.push(truncated(other), "is not a parameter of this list"),
            }
        }
        problems.details.dedup();
        problems.into_result(|| Self { statuses, limit: limit.flatten().unwrap_or_default(), cursor: cursor.flatten() })
    }

    /// The query a cursor is bound to: the statuses asked for (not the limit, which may change
    /// from page to page).
    pub fn scope(&self) -> String {
        let statuses: Vec<String> = self.statuses.iter().map(ToString::to_string).collect();
        format!("status={}", statuses.join(","))
    }
}

/// The order of the offer inbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OfferSort {
    /// Newest offered first (the default).
    #[default]
    Newest,
    /// Nearest pickup first, from the transporter's latest position.
    Nearest,
}

/// `GET /v1/offers?sort=nearest&limit=…&cursor=…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferQuery {
    pub sort: OfferSort,
    pub limit: PageLimit,
    pub cursor: Option<String>,
}

impl OfferQuery {
    /// Parses `raw` (the query string without `?`): each parameter at most once.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let mut problems = ValidationError::default();
        let (mut sort, mut limit, mut cursor) = (None, None, None);
        for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
            match name.as_ref() {
                "sort" => {
                    let parsed = match value.as_ref() {
                        "newest" => Ok(OfferSort::Newest),
                        "nearest" => Ok(OfferSort::Nearest),
                        _ => Err(ValidationError::single("sort", "must be newest or nearest")),
                    };
                    once(&mut sort, "sort", parsed, &mut problems)
                }
                "limit" => once(&mut limit, "limit", PageLimit::parse(&value), &mut problems),
                "cursor" => once(&mut cursor, "cursor", parse_cursor(value), &mut problems),
                other => problems.push(truncated(other), "is not a parameter of this list"),
            }
        }
        problems.into_result(|| Self {
            sort: sort.flatten().unwrap_or_default(),
            limit: limit.flatten().unwrap_or_default(),
            cursor: cursor.flatten(),
        })
    }

    /// The query a cursor is bound to: the sort (not the limit).
    pub fn scope(&self) -> String {
        format!("sort={}", if self.sort == OfferSort::Nearest { "nearest" } else { "newest" })
    }
}

/// A trip's track query: the points recorded from `since` to `until` (both optional, both
/// inclusive, and always within the trip), `limit` points a page, in time order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackQuery {
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub limit: PageLimit,
    pub cursor: Option<String>,
}

impl TrackQuery {
    /// Points a page holds unless the client says: about 15 minutes of a truck sending every 5 s.
    pub const DEFAULT_POINTS: u16 = 200;
    pub const MAX_POINTS: u16 = 1000;

    /// Parses `raw` (the query string without `?`): each parameter at most once.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let mut problems = ValidationError::default();
        let (mut since, mut until, mut limit, mut cursor) = (None, None, None, None);
        for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
            match name.as_ref() {
                "since" => once(&mut since, "since", parse_time("since", &value), &mut problems),
                "until" => once(&mut until, "until", parse_time("until", &value), &mut problems),
                "limit" => once(&mut limit, "limit", PageLimit::parse_up_to(&value, Self::MAX_POINTS), &mut problems),
                "cursor" => once(&mut cursor, "cursor", parse_cursor(value), &mut problems),
                other => problems.push(truncated(other), "is not a parameter of this track"),
            }
        }
        if let (Some(Some(since)), Some(Some(until))) = (&since, &until)
            && until < since
        {
            problems.push("until", "must not be before since");
        }
        problems.into_result(|| Self {
            since: since.flatten(),
            until: until.flatten(),
            limit: limit.flatten().unwrap_or(PageLimit(Self::DEFAULT_POINTS)),
            cursor: cursor.flatten(),
        })
    }

    /// The query a cursor is bound to: its time bounds (not the limit).
    pub fn scope(&self) -> String {
        let millis = |at: Option<DateTime<Utc>>| at.map(|at| at.timestamp_millis().to_string()).unwrap_or_default();
        format!("since={}&until={}", millis(self.since), millis(self.until))
    }
}

/// Takes a parameter that may be given once: the parsed value the first time (or the problem with
/// it), "may be given once" after that. `slot` holds `Some(None)` once a refused value was seen.
fn once<T>(
    slot: &mut Option<Option<T>>, name: &str, parsed: Result<T, ValidationError>, problems: &mut ValidationError,
) {
    if slot.is_some() {
        problems.push(name, "may be given once");
        return;
    }
    match parsed {
        Ok(value) => *slot = Some(Some(value)),
        Err(refused) => {
            problems.details.extend(refused.details);
            *slot = Some(None);
        }
    }
}

fn parse_cursor(value: Cow<'_, str>) -> Result<String, ValidationError> {
    if value.is_empty() || value.len() > MAX_CURSOR_CHARS {
        return Err(ValidationError::single("cursor", "is not a cursor this list gave out"));
    }
    Ok(value.into_owned())
}

/// An RFC 3339 time with its offset (`2026-11-30T08:00:00Z`, `…+05:30`).
fn parse_time(name: &str, value: &str) -> Result<DateTime<Utc>, ValidationError> {
    let refused = || ValidationError::single(name, "must be an RFC 3339 date-time, e.g. 2026-11-30T08:00:00Z");
    if value.len() > 40 {
        return Err(refused());
    }
    DateTime::parse_from_rfc3339(value).map(|at| at.with_timezone(&Utc)).map_err(|_| refused())
}

fn names<S: Display>(known: &[S]) -> String {
    known.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

/// A parameter name as it may be echoed back: at most 40 characters.
fn truncated(name: &str) -> String {
    name.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::trip::TripStatus;

    fn parse(raw: &str) -> Result<ListQuery<TripStatus>, ValidationError> {
        ListQuery::parse(raw, &TripStatus::ALL)
    }

    fn fields(raw: &str) -> Vec<String> {
        parse(raw).unwrap_err().details.into_iter().map(|d| d.field).collect()
    }

    #[test]
    fn an_empty_query_is_every_status_twenty_at_a_time_from_the_start() {
        let query = parse("").unwrap();
        assert_eq!((query.statuses.len(), query.limit.get(), query.cursor), (0, 20, None));
    }

    #[test]
    fn statuses_repeated_or_comma_separated_make_the_same_query() {
        let one = parse("status=accepted,searching&limit=7").unwrap();
        let other = parse("status=searching&status=accepted&status=searching&limit=7").unwrap();
        assert_eq!(one, other);
        assert_eq!(one.scope(), "status=searching,accepted");
    }

    #[test]
    fn a_limit_outside_one_to_a_hundred_or_not_a_plain_number_is_refused() {
        for bad in ["0", "101", "-1", "+7", "7.0", "", "1000", "%207"] {
            assert_eq!(fields(&format!("limit={bad}")), ["limit"], "{bad}");
        }
        assert_eq!(parse("limit=100").unwrap().limit.get(), 100);
    }

    #[test]
    fn unknown_repeated_or_unknown_status_parameters_are_each_named() {
        assert_eq!(fields("statu=accepted"), ["statu"]);
        assert_eq!(fields("limit=5&limit=6"), ["limit"]);
        assert_eq!(fields("cursor=a&cursor=b"), ["cursor"]);
        assert_eq!(fields("status=lost,found"), ["status"]);
        assert_eq!(fields("status=&limit=x"), ["status", "limit"]);
    }

    fn track_fields(raw: &str) -> Vec<String> {
        TrackQuery::parse(raw).unwrap_err().details.into_iter().map(|d| d.field).collect()
    }

    #[test]
    fn an_empty_track_query_is_the_whole_trip_two_hundred_points_at_a_time() {
        let query = TrackQuery::parse("").unwrap();
        assert_eq!((query.since, query.until, query.limit.get(), query.cursor), (None, None, 200, None));
    }

    #[test]
    fn track_times_are_rfc3339_with_any_offset_and_bind_the_cursor_to_the_same_instants() {
        let query =
            TrackQuery::parse("since=2026-11-30T08:00:00Z&until=2026-11-30T15:30:00%2B05:30&limit=1000").unwrap();
        let utc = |text: &str| Some(text.parse::<DateTime<Utc>>().unwrap());
        assert_eq!(query.until, utc("2026-11-30T10:00:00Z"), "15:30 in India is 10:00 UTC");
        let same = TrackQuery::parse("until=2026-11-30T10:00:00Z&since=2026-11-30T08:00:00Z").unwrap();
        assert_eq!(query.scope(), same.scope());
        assert_eq!(query.limit.get(), 1000);
    }

    #[test]
    fn a_bad_time_a_reversed_window_or_a_limit_beyond_a_thousand_is_named() {
        assert_eq!(track_fields("since=yesterday"), ["since"]);
        assert_eq!(track_fields("since=2026-11-30T08:00:00"), ["since"], "an offset is required");
        assert_eq!(track_fields("since=2026-11-30T09:00:00Z&until=2026-11-30T08:00:00Z"), ["until"]);
        assert_eq!(track_fields("limit=1001"), ["limit"]);
        assert_eq!(track_fields("until=2026-11-30T08:00:00Z&until=2026-11-30T08:00:00Z"), ["until"]);
        assert_eq!(track_fields("status=accepted"), ["status"]);
    }

    #[test]
    fn the_inbox_sorts_newest_first_unless_told_nearest_and_names_a_bad_sort() {
        let plain = OfferQuery::parse("").unwrap();
        assert_eq!((plain.sort, plain.limit.get(), plain.scope()), (OfferSort::Newest, 20, "sort=newest".to_owned()));
        assert_eq!(OfferQuery::parse("sort=nearest&limit=5").unwrap().sort, OfferSort::Nearest);
        let fields =
            |raw: &str| OfferQuery::parse(raw).unwrap_err().details.into_iter().map(|d| d.field).collect::<Vec<_>>();
        assert_eq!(fields("sort=closest"), ["sort"]);
        assert_eq!(fields("sort=newest&sort=nearest"), ["sort"]);
        assert_eq!(fields("status=searching"), ["status"]);
    }
}
