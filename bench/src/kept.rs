//! The hand-measured part of `docs/BENCHMARKS.md`: before/after ratios from alternated runs of two
//! builds, which one `make bench` cannot measure (it has one build). `weelo-bench local` rewrites
//! the file and carries this part over unchanged, from the line [`BEGIN`] to the line [`END`].

pub const BEGIN: &str = "<!-- before/after: measured by hand, kept by make bench -->";
pub const END: &str = "<!-- end of before/after -->";

/// The kept part of `previous` (the file as it was), markers included; empty if it has none.
pub fn kept_part(previous: &str) -> &str {
    let Some(start) = previous.find(BEGIN) else { return "" };
    match previous[start..].find(END) {
        Some(end) => &previous[start..start + end + END.len()],
        None => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_part_between_the_markers_is_kept_and_nothing_around_it() {
        let file = format!("# Benchmarks\nold figures\n{BEGIN}\n| a | 2× |\n{END}\n## Appended later\n");
        assert_eq!(kept_part(&file), format!("{BEGIN}\n| a | 2× |\n{END}"));
        assert_eq!(kept_part("# Benchmarks\nno markers\n"), "");
        assert_eq!(kept_part(&format!("{BEGIN}\nno end\n")), "");
    }
}
