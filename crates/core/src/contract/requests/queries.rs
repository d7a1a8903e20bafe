//! The query strings of the list routes (`GET /v1/bookings?status=searching,accepted&limit=7&cursor=…`),
//! parsed as strictly as the bodies: an unknown or repeated parameter, a status that does not exist
//! or a limit outside 1–100 is a 400 naming the parameter, never a silently different page.

use crate::error::ValidationError;
use std::collections::BTreeSet;
use std::fmt::Display;

/// How many items a page holds: 1–100, 20 when the client does not say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimit(u8);

impl PageLimit {
    pub const DEFAULT: u8 = 20;
    pub const MAX: u8 = 100;

    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        let problem = || ValidationError::single("limit", format!("must be a whole number from 1 to {}", Self::MAX));
        // Digits only: `+7`, ` 7` and `7.0` are refused rather than guessed at.
        if text.is_empty() || text.len() > 3 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(problem());
        }
        match text.parse::<u8>() {
            Ok(n) if (1..=Self::MAX).contains(&n) => Ok(Self(n)),
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
    /// The longest cursor accepted; ours are a fraction of this.
    pub const MAX_CURSOR_CHARS: usize = 2048;

    /// Parses `raw` (the query string without `?`), taking statuses from `known`. `status` may be
    /// repeated or comma-separated; `limit` and `cursor` may appear once.
    pub fn parse(raw: &str, known: &[S]) -> Result<Self, ValidationError> {
        let mut problems = ValidationError::default();
        let (mut statuses, mut limit, mut cursor) = (BTreeSet::new(), None, None);
        for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
            match name.as_ref() {
                "status" => {
                    for word in value.split(',') {
                        match known.iter().find(|s| s.to_string() == word) {
                            Some(status) => {
                                statuses.insert(*status);
                            }
                            None => problems.push("status", format!("must be one or more of {}", names(known))),
                        }
                    }
                }
                "limit" if limit.is_none() => match PageLimit::parse(&value) {
                    Ok(parsed) => limit = Some(parsed),
                    Err(refused) => problems.details.extend(refused.details),
                },
                "cursor" if cursor.is_none() => {
                    if value.is_empty() || value.len() > Self::MAX_CURSOR_CHARS {
                        problems.push("cursor", "is not a cursor this list gave out");
                    }
                    cursor = Some(value.into_owned());
                }
                "limit" | "cursor" => problems.push(name.as_ref(), "may be given once"),
                other => problems.push(truncated(other), "is not a parameter of this list"),
            }
        }
        problems.details.dedup();
        problems.into_result(|| Self { statuses, limit: limit.unwrap_or_default(), cursor })
    }

    /// The query a cursor is bound to: the statuses asked for (not the limit, which may change
    /// from page to page).
    pub fn scope(&self) -> String {
        let statuses: Vec<String> = self.statuses.iter().map(ToString::to_string).collect();
        format!("status={}", statuses.join(","))
    }
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
}
