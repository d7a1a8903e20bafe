//! Analytics' ports in memory: the marks in a map, the figures kept as published.

use crate::ports::{FigureSink, ProgressStore, StoreError};
use crate::usecases::analytics::metrics::Figures;
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Marks per stream, moved under the same condition as the DynamoDB adapter's. Clones share them.
#[derive(Clone, Default)]
pub struct MemoryProgress {
    marks: Arc<Mutex<HashMap<String, i64>>>,
}

impl MemoryProgress {
    /// Sets a mark behind the use case's back (another delivery counting first).
    pub fn set(&self, stream: &str, offset: i64) {
        self.marks.lock().unwrap().insert(stream.to_owned(), offset);
    }
}

#[async_trait]
impl ProgressStore for MemoryProgress {
    async fn counted_up_to(&self, stream: &str) -> Result<Option<i64>, StoreError> {
        Ok(self.marks.lock().unwrap().get(stream).copied())
    }

    async fn advance_count(&self, stream: &str, seen: Option<i64>, to: i64) -> Result<bool, StoreError> {
        let mut marks = self.marks.lock().unwrap();
        if marks.get(stream).copied() != seen {
            return Ok(false);
        }
        marks.insert(stream.to_owned(), to);
        Ok(true)
    }
}

/// Keeps every figure published. Clones share them.
#[derive(Clone, Default)]
pub struct RecordingFigures {
    pub published: Arc<Mutex<Vec<Figures>>>,
}

impl RecordingFigures {
    /// The sum of `metric` over every figure published that `keep` selects.
    pub fn total(&self, metric: &str, keep: impl Fn(&Figures) -> bool) -> u64 {
        self.published.lock().unwrap().iter().filter(|f| keep(f)).map(|f| f.count(metric)).sum()
    }

    /// Every sample of delay `metric` published.
    pub fn delays(&self, metric: &str) -> Vec<f64> {
        let published = self.published.lock().unwrap();
        published.iter().flat_map(|f| f.delays_ms.get(metric).cloned().unwrap_or_default()).collect()
    }
}

impl FigureSink for RecordingFigures {
    fn emit(&self, figures: &[Figures]) {
        self.published.lock().unwrap().extend_from_slice(figures);
    }
}
