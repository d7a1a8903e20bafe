//! The funnel as a text table: one line per day, city and vehicle type, then the total.

use super::{Funnel, Line, quantile};
use weelo_core::usecases::analytics::metrics::*;

const COLUMNS: [(&str, &str); 8] = [
    ("created", BOOKINGS_CREATED),
    ("offered", BOOKINGS_OFFERED),
    ("reached", TRANSPORTERS_REACHED),
    ("accepted", BOOKINGS_ACCEPTED),
    ("expired", BOOKINGS_EXPIRED),
    ("cancelled", BOOKINGS_CANCELLED),
    ("released", BOOKINGS_RELEASED),
    ("delivered", BOOKINGS_DELIVERED),
];

fn seconds(ms: f64) -> String {
    format!("{:.0}s", ms / 1000.0)
}

fn row(label: [&str; 3], line: &Line) -> String {
    let mut text = format!("{:<10}  {:<14} {:<9}", label[0], label[1], label[2]);
    for (heading, metric) in COLUMNS {
        text.push_str(&format!(" {:>w$}", line.count(metric), w = heading.len()));
    }
    let created = line.count(BOOKINGS_CREATED);
    let rate = if created == 0 {
        "-".to_owned()
    } else {
        format!("{:.0}%", 100.0 * line.count(BOOKINGS_ACCEPTED) as f64 / created as f64)
    };
    let offer = &line.time_to_first_offer_ms;
    let accept = &line.time_to_accept_ms;
    text.push_str(&format!(
        " {:>7}  {:>6} {:>6}  {:>6} {:>6} {:>6}",
        rate,
        seconds(quantile(offer, 0.5)),
        seconds(quantile(offer, 0.9)),
        seconds(quantile(accept, 0.5)),
        seconds(quantile(accept, 0.9)),
        seconds(quantile(accept, 1.0)),
    ));
    text
}

/// The table, with a total line; "no bookings" when the funnel is empty.
pub fn render(funnel: &Funnel) -> String {
    if funnel.is_empty() {
        return "no bookings in the archive for those days\n".to_owned();
    }
    let mut text = format!("{:<10}  {:<14} {:<9}", "day", "city", "vehicle");
    for (heading, _) in COLUMNS {
        text.push_str(&format!(" {heading}"));
    }
    text.push_str("  accept%  offer p50/p90  accept p50/p90/max\n");
    let mut total = Line::default();
    for ((day, city, vehicle), line) in funnel {
        text.push_str(&row([&day.to_string(), city, vehicle], line));
        text.push('\n');
        for (metric, count) in &line.counts {
            *total.counts.entry(metric).or_default() += count;
        }
        total.time_to_first_offer_ms.extend(&line.time_to_first_offer_ms);
        total.time_to_accept_ms.extend(&line.time_to_accept_ms);
    }
    text.push_str(&row(["total", "", ""], &total));
    text.push('\n');
    text
}
