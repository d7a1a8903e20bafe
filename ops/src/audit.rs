//! `weelo-ops audit query`: one booking's (or order's, or user's) whole history from the audit
//! archive, oldest first: what the customer asked, who was offered it, who was pushed, who won.

use chrono::{Duration, NaiveDate, Utc};
use weelo_audit::{ArchiveSettings, ArchivedRecord};

/// The archived records mentioning `id` over the last `days` days (today included).
/// `location.updated` is skipped unless asked for: it is most of the archive's bytes and names
/// transporters, not bookings.
pub async fn query(id: &str, days: i64, include_locations: bool) -> anyhow::Result<Vec<ArchivedRecord>> {
    let archive = ArchiveSettings::from_env()?.connect().await;
    let today: NaiveDate = Utc::now().date_naive();
    let skip: &[&str] = if include_locations { &[] } else { &["location.updated"] };
    Ok(archive.search(id, today - Duration::days(days.max(1) - 1), today, skip).await?)
}

/// One line per record: time, topic, offset, event type and subject.
pub fn line(record: &ArchivedRecord) -> String {
    let value = record.value.as_ref();
    let field = |name: &str| value.and_then(|v| v.get(name)).and_then(|v| v.as_str()).unwrap_or("-").to_owned();
    format!(
        "{}  {:<30} {}-{}@{:<6} {:<45} {}",
        record.timestamp.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
        record.id.topic,
        record.id.topic,
        record.id.partition,
        record.id.offset,
        record.event_type().unwrap_or(if record.value_base64.is_some() { "(not JSON)" } else { "-" }),
        field("subject"),
    )
}
