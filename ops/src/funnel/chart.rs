//! The funnel as a PNG: the stages' totals as bars, and how long customers waited for an
//! acceptance as a histogram (30-second bins).

use super::{Funnel, Line};
use plotters::coord::ranged1d::SegmentedCoord;
use plotters::coord::types::{RangedCoordu64, RangedCoordusize};
use plotters::prelude::*;
use std::path::Path;
use weelo_core::usecases::analytics::metrics::*;

const STAGES: [(&str, &str); 7] = [
    ("created", BOOKINGS_CREATED),
    ("offered", BOOKINGS_OFFERED),
    ("accepted", BOOKINGS_ACCEPTED),
    ("expired", BOOKINGS_EXPIRED),
    ("cancelled", BOOKINGS_CANCELLED),
    ("released", BOOKINGS_RELEASED),
    ("delivered", BOOKINGS_DELIVERED),
];
const BIN_SECS: f64 = 30.0;

/// Draws `funnel` (all days, cities and vehicle types together) into a PNG at `path`.
pub fn draw(funnel: &Funnel, title: &str, path: &Path) -> anyhow::Result<()> {
    // DejaVu Sans, bundled: the chart looks the same on every machine, no system font needed.
    plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular())
        .map_err(|_| anyhow::anyhow!("the bundled font did not load"))?;
    let mut total = Line::default();
    for line in funnel.values() {
        for (metric, count) in &line.counts {
            *total.counts.entry(metric).or_default() += count;
        }
        total.time_to_accept_ms.extend(&line.time_to_accept_ms);
    }
    let root = BitMapBackend::new(path, (1200, 520)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(title, ("sans-serif", 24))?;
    let (left, right) = root.split_horizontally(620);
    stages(&left, &total)?;
    waits(&right, &total.time_to_accept_ms)?;
    root.present()?;
    Ok(())
}

/// The x axis of a bar chart (a segment per bar) over counts.
type BarChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<SegmentedCoord<RangedCoordusize>, RangedCoordu64>>;

/// How a bar chart looks: its caption, what its x axis says, its bars' colour and the gap
/// between them.
struct Bars<'l> {
    caption: String,
    x_desc: &'l str,
    colour: RGBColor,
    gap: u32,
}

/// `counts` as bars on `area`, bar `i` labelled `label(i)`, up to `top`.
fn bars<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, plotters::coord::Shift>, look: Bars<'_>, counts: &[u64], top: u64,
    label: &dyn Fn(usize) -> String,
) -> anyhow::Result<BarChart<'a, DB>>
where
    DB::ErrorType: 'static,
{
    let mut chart = ChartBuilder::on(area)
        .caption(look.caption, ("sans-serif", 18))
        .margin(16)
        .x_label_area_size(36)
        .y_label_area_size(48)
        .build_cartesian_2d((0..counts.len().max(1) - 1).into_segmented(), 0..top)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_desc(look.x_desc)
        .x_label_formatter(&|value| match value {
            SegmentValue::CenterOf(i) => label(*i),
            _ => String::new(),
        })
        .label_style(("sans-serif", 14))
        .draw()?;
    chart.draw_series(
        Histogram::vertical(&chart)
            .style(look.colour.filled())
            .margin(look.gap)
            .data(counts.iter().enumerate().map(|(i, n)| (i, *n))),
    )?;
    Ok(chart)
}

fn stages<DB: DrawingBackend>(area: &DrawingArea<DB, plotters::coord::Shift>, total: &Line) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    let counts: Vec<u64> = STAGES.iter().map(|(_, metric)| total.count(metric)).collect();
    let top = counts.iter().copied().max().unwrap_or(0).max(1) * 11 / 10 + 1;
    let look = Bars { caption: "Bookings by stage".into(), x_desc: "", colour: RGBColor(31, 119, 180), gap: 12 };
    let label = |i: usize| STAGES.get(i).map_or(String::new(), |(name, _)| (*name).to_owned());
    let mut chart = bars(area, look, &counts, top, &label)?;
    chart.draw_series(counts.iter().enumerate().map(|(i, n)| {
        // Above its bar: a label is drawn downwards from its anchor.
        let above = *n + top / 20 + 1;
        Text::new(n.to_string(), (SegmentValue::CenterOf(i), above), ("sans-serif", 14).into_font().color(&BLACK))
    }))?;
    Ok(())
}

fn waits<DB: DrawingBackend>(area: &DrawingArea<DB, plotters::coord::Shift>, samples_ms: &[f64]) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    let bins = samples_ms.iter().map(|ms| (ms / 1000.0 / BIN_SECS) as usize).max().unwrap_or(0) + 1;
    let mut counts = vec![0u64; bins];
    for ms in samples_ms {
        counts[(ms / 1000.0 / BIN_SECS) as usize] += 1;
    }
    let top = counts.iter().copied().max().unwrap_or(0).max(1) + 1;
    let caption = format!(
        "Time to accept (p50 {:.0} s, p90 {:.0} s, {} bookings)",
        super::quantile(samples_ms, 0.5) / 1000.0,
        super::quantile(samples_ms, 0.9) / 1000.0,
        samples_ms.len()
    );
    let look = Bars { caption, x_desc: "seconds from booking to acceptance", colour: RGBColor(44, 160, 44), gap: 2 };
    bars(area, look, &counts, top, &|i| format!("{:.0}", i as f64 * BIN_SECS))?;
    Ok(())
}
