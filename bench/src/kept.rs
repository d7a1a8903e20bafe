//! The parts of `docs/BENCHMARKS.md` that `weelo-bench local` does not measure, and so carries
//! over when it rewrites the file:
//! - the hand-measured before/after ratios from alternated runs of two builds, which one
//!   `make bench` cannot measure (it has one build): from the line [`BEGIN`] to the line [`END`],
//!   unchanged;
//! - the sections `weelo-bench remote` and `weelo-bench live` write ([`MEASURED_ELSEWHERE`]), each
//!   marked as carried over until its own command measures it again and replaces it
//!   ([`replace_section`]). `make bench` runs all three, so its report has no carried section.

pub const BEGIN: &str = "<!-- before/after: measured by hand, kept by make bench -->";
pub const END: &str = "<!-- end of before/after -->";

/// The headings of the sections other commands write.
pub const MEASURED_ELSEWHERE: [&str; 2] =
    ["## Over HTTP (`weelo-bench remote`)", "## Live tracking (local WebSocket gateway)"];

/// The line under a carried-over section's heading.
pub const CARRIED: &str =
    "_Carried over from the previous report: `weelo-bench local` does not measure this section; `make bench` does._";

/// The kept part of `previous` (the file as it was), markers included; empty if it has none.
pub fn kept_part(previous: &str) -> &str {
    let Some(start) = previous.find(BEGIN) else { return "" };
    match previous[start..].find(END) {
        Some(end) => &previous[start..start + end + END.len()],
        None => "",
    }
}

/// The sections of `previous` that other commands measure, each with the [`CARRIED`] line under
/// its heading (once), in the order of [`MEASURED_ELSEWHERE`].
pub fn carried_sections(previous: &str) -> String {
    let mut carried = String::new();
    for heading in MEASURED_ELSEWHERE {
        let Some((start, end)) = section_bounds(previous, heading) else { continue };
        let body = previous[start + heading.len()..end].trim_start_matches('\n');
        let body = body.strip_prefix(CARRIED).unwrap_or(body).trim_start_matches('\n');
        carried.push_str(&format!("\n{heading}\n\n{CARRIED}\n\n{}", body.trim_end()));
        carried.push('\n');
    }
    carried
}

/// `report` with the section that starts at `section`'s heading (its first line) replaced by
/// `section`, or with `section` appended if `report` has none.
pub fn replace_section(report: &str, section: &str) -> String {
    let section = section.trim_matches('\n');
    let heading = section.lines().next().unwrap_or_default();
    match section_bounds(report, heading) {
        Some((start, end)) if end < report.len() => format!("{}{section}\n\n{}", &report[..start], &report[end..]),
        Some((start, _)) => format!("{}{section}\n", &report[..start]),
        None => format!("{}\n\n{section}\n", report.trim_end()),
    }
}

/// Where the section under `heading` starts and ends in `text`: it ends before the next `## `
/// heading, the before/after marker, or the end.
fn section_bounds(text: &str, heading: &str) -> Option<(usize, usize)> {
    let start = text.match_indices(heading).map(|(at, _)| at).find(|&at| at == 0 || text[..at].ends_with('\n'))?;
    let after = start + heading.len();
    let end = [text[after..].find("\n## "), text[after..].find(&format!("\n{BEGIN}"))]
        .into_iter()
        .flatten()
        .min()
        .map_or(text.len(), |at| after + at + 1);
    Some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    const REMOTE: &str = "## Over HTTP (`weelo-bench remote`)";
    const LIVE: &str = "## Live tracking (local WebSocket gateway)";

    #[test]
    fn the_part_between_the_markers_is_kept_and_nothing_around_it() {
        let file = format!("# Benchmarks\nold figures\n{BEGIN}\n| a | 2× |\n{END}\n## Appended later\n");
        assert_eq!(kept_part(&file), format!("{BEGIN}\n| a | 2× |\n{END}"));
        assert_eq!(kept_part("# Benchmarks\nno markers\n"), "");
        assert_eq!(kept_part(&format!("{BEGIN}\nno end\n")), "");
    }

    #[test]
    fn the_sections_other_commands_measure_are_carried_over_marked_once() {
        // GIVEN a report with both sections, the live one already carried over once
        let file = format!(
            "# Benchmarks\n## 1. figure\nx\n{BEGIN}\nratios\n{END}\n\n{REMOTE}\n\n| run | 1 |\n\n{LIVE}\n\n{CARRIED}\n\n| live | 2 |\n"
        );

        // WHEN `local` carries them over
        let carried = carried_sections(&file);

        // THEN each comes once, with its figures and one carried-over line, and nothing else does
        assert_eq!(carried, format!("\n{REMOTE}\n\n{CARRIED}\n\n| run | 1 |\n\n{LIVE}\n\n{CARRIED}\n\n| live | 2 |\n"));
        assert_eq!(carried_sections("# Benchmarks\n## 1. figure\n"), "");
    }

    #[test]
    fn a_measured_section_replaces_its_carried_copy_and_leaves_the_others() {
        // GIVEN a report as `local` writes it, with both sections carried over
        let report =
            format!("# Benchmarks\n{}", carried_sections(&format!("{REMOTE}\n\nold run\n\n{LIVE}\n\nold live\n")));

        // WHEN `remote` measures its section again
        let replaced = replace_section(&report, &format!("\n{REMOTE}\n\n| run | new |\n"));

        // THEN its section is the new one, unmarked, once, a blank line before the next; the live
        // section is still the carried one
        assert_eq!(replaced.matches(REMOTE).count(), 1);
        assert!(replaced.contains(&format!("{REMOTE}\n\n| run | new |\n\n{LIVE}")), "{replaced}");
        assert!(!replaced.contains("old run"), "{replaced}");
        assert!(replaced.contains(&format!("{LIVE}\n\n{CARRIED}\n\nold live")), "{replaced}");
    }

    #[test]
    fn a_section_the_report_lacks_is_appended() {
        let replaced = replace_section("# Benchmarks\n## 1. figure\nx\n", &format!("\n{LIVE}\n\n| live | 3 |\n"));
        assert_eq!(replaced, format!("# Benchmarks\n## 1. figure\nx\n\n{LIVE}\n\n| live | 3 |\n"));
    }
}
