//! Matching: which transporters to offer a booking to. Transporters who serve the vehicle type, are
//! available, and whose latest position is fresh and near the pickup, nearest first. The geo index
//! is read ring by ring around the pickup's H3 cell, widening until there are enough candidates or
//! the maximum radius is reached.

use crate::geo::{GeoGrid, GeoPoint};
use crate::ids::UserId;
use crate::ports::{GeoIndexStore, StoreError, TransporterStore};
use crate::vehicle::VehicleType;
use chrono::{Duration, Utc};
use std::collections::HashSet;

#[derive(Debug, Clone, PartialEq)]
pub struct MatchPolicy {
    /// At most this many transporters per booking (the seed: ~1000).
    pub max_candidates: usize,
    /// How far to widen, in H3 rings (resolution 7: ~2.4 km each).
    pub max_rings: u32,
    /// Positions older than this are of transporters who went offline.
    pub max_position_age: Duration,
}

impl Default for MatchPolicy {
    fn default() -> Self {
        Self { max_candidates: 1000, max_rings: 10, max_position_age: Duration::minutes(15) }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub transporter_id: UserId,
    pub distance_m: f64,
}

pub async fn find_candidates<S>(
    store: &S,
    grid: &GeoGrid,
    policy: &MatchPolicy,
    pickup: GeoPoint,
    vehicle: VehicleType,
    limit: usize,
) -> Result<Vec<Candidate>, StoreError>
where
    S: GeoIndexStore + TransporterStore,
{
    let limit = limit.min(policy.max_candidates);
    let fresh_after = Utc::now() - policy.max_position_age;
    let mut seen: HashSet<UserId> = HashSet::new();
    let mut candidates: Vec<Candidate> = Vec::new();
    for ring in grid.rings(pickup, policy.max_rings) {
        let entries = store.transporters_in_cells(&ring).await?;
        let fresh: Vec<_> = entries
            .into_iter()
            .filter(|e| e.recorded_at >= fresh_after && seen.insert(e.transporter_id.clone()))
            .collect();
        if !fresh.is_empty() {
            let ids: Vec<UserId> = fresh.iter().map(|e| e.transporter_id.clone()).collect();
            let eligible: HashSet<UserId> = store
                .get_profiles(&ids)
                .await?
                .into_iter()
                .filter(|p| p.available && p.vehicle_types.contains(&vehicle))
                .map(|p| p.transporter_id)
                .collect();
            candidates.extend(fresh.into_iter().filter(|e| eligible.contains(&e.transporter_id)).map(|e| Candidate {
                distance_m: pickup.distance_m(&GeoPoint { lat: e.lat, lng: e.lng }),
                transporter_id: e.transporter_id,
            }));
        }
        // A ring is finished before stopping, so nobody in it loses out to someone farther away.
        if candidates.len() >= limit {
            break;
        }
    }
    candidates.sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m));
    candidates.truncate(limit);
    Ok(candidates)
}
