//! Analytics' ports: the counted-once mark per partition, and where the figures go.

use super::StoreError;
use crate::usecases::analytics::metrics::Figures;
use async_trait::async_trait;

/// Per stream (`<scope>#<topic>#<partition>`) the highest offset whose record was counted.
#[async_trait]
pub trait ProgressStore: Send + Sync {
    /// The highest offset counted on `stream`, if any.
    async fn counted_up_to(&self, stream: &str) -> Result<Option<i64>, StoreError>;

    /// Moves the mark of `stream` from `seen` to `to`, only if it is still `seen` (nobody counted
    /// those records meanwhile): true if it moved.
    async fn advance_count(&self, stream: &str, seen: Option<i64>, to: i64) -> Result<bool, StoreError>;
}

/// Publishes figures (CloudWatch metrics through EMF in the function).
pub trait FigureSink: Send + Sync {
    fn emit(&self, figures: &[Figures]);
}
