//! The functions' output: every line of every process goes to the service's stdout (a log file
//! under `make run`), labelled `<function>#<process> | `; warnings and errors are also kept, with a
//! sequence number, for `weelo-local status` to show on the terminal.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::io::Write;
use std::sync::Mutex;

/// Warnings and errors kept for the status endpoint.
const KEPT: usize = 200;

/// A warning or error line of a function (or of the service about a function).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notable {
    pub seq: u64,
    pub function: String,
    pub line: String,
}

pub struct Logs {
    out: Mutex<Box<dyn Write + Send>>,
    notable: Mutex<(u64, VecDeque<Notable>)>,
}

impl Default for Logs {
    /// Lines to the service's stdout.
    fn default() -> Self {
        Self::to(Box::new(std::io::stdout()))
    }
}

impl Logs {
    /// Lines to `out`.
    pub fn to(out: Box<dyn Write + Send>) -> Self {
        Self { out: Mutex::new(out), notable: Mutex::default() }
    }

    fn write(&self, label: &str, text: &str) {
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        let _ = writeln!(out, "{label} | {text}");
        let _ = out.flush();
    }

    /// One line a process printed.
    pub fn line(&self, label: &str, function: &str, raw: &[u8]) {
        let text = strip_ansi(&String::from_utf8_lossy(raw));
        let text = text.trim_end();
        if text.is_empty() {
            return;
        }
        self.write(label, text);
        if is_notable(text) {
            self.keep(function, text);
        }
    }

    /// Something the service itself has to say about a function (`WARN …`, `ERROR …`).
    pub fn event(&self, function: &str, text: &str) {
        self.write(function, text);
        self.keep(function, text);
    }

    /// The notable lines after `since`, oldest first.
    pub fn since(&self, since: u64) -> Vec<Notable> {
        let guard = self.notable.lock().unwrap_or_else(|p| p.into_inner());
        guard.1.iter().filter(|n| n.seq > since).cloned().collect()
    }

    fn keep(&self, function: &str, line: &str) {
        let mut guard = self.notable.lock().unwrap_or_else(|p| p.into_inner());
        guard.0 += 1;
        let seq = guard.0;
        guard.1.push_back(Notable { seq, function: function.to_owned(), line: line.to_owned() });
        if guard.1.len() > KEPT {
            guard.1.pop_front();
        }
    }
}

/// A warning or an error: tracing's text or JSON format, a panic, or `main` returning an error.
fn is_notable(line: &str) -> bool {
    let start = line.trim_start();
    start.starts_with("WARN ")
        || start.starts_with("ERROR ")
        || line.contains(r#""level":"WARN""#)
        || line.contains(r#""level":"ERROR""#)
        || start.starts_with("thread '")
        || start.starts_with("Error: ")
}

/// The text without ANSI colour codes (`ESC [ … m`).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            for next in chars.by_ref() {
                if next.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_errors_panics_and_failed_mains_are_kept_and_the_rest_only_logged() {
        // GIVEN the lines a function prints in text and JSON format, coloured or not
        let logs = Logs::to(Box::new(std::io::sink()));
        for line in [
            "\u{1b}[32m INFO\u{1b}[0m delivered",
            "\u{1b}[33m WARN\u{1b}[0m push failed transiently",
            r#"{"level":"ERROR","fields":{"message":"internal error"}}"#,
            "thread 'main' panicked at src/main.rs:1:1",
            "Error: hyper::Error(Body, IncompleteBody)",
            "  DEBUG nothing",
        ] {
            logs.line("f#1", "f", line.as_bytes());
        }
        // THEN the four notable ones are kept in order, without colour codes
        let kept: Vec<String> = logs.since(0).into_iter().map(|n| n.line).collect();
        assert_eq!(
            kept,
            [
                " WARN push failed transiently",
                r#"{"level":"ERROR","fields":{"message":"internal error"}}"#,
                "thread 'main' panicked at src/main.rs:1:1",
                "Error: hyper::Error(Body, IncompleteBody)",
            ]
        );
        // AND asking after the second gives the last two
        assert_eq!(logs.since(2).len(), 2);
    }
}
