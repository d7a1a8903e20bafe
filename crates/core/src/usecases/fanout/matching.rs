//! Matching: the transporters a booking, or each line of an order, is offered to. Those who drive
//! the vehicle type, are available, hold no other trip, and whose latest position is fresh and near
//! the pickup, nearest first. The geo index is read ring by ring around the pickup's H3 cell,
//! widening until there are enough candidates or the search's last ring is reached: the first
//! search reads rings `0..=max_rings`, the wider search the next `wider_rings` rings only.

use crate::model::geo::{GeoGrid, GeoPoint};
use crate::model::ids::UserId;
use crate::model::vehicle::VehicleType;
use crate::ports::{GeoIndexStore, StoreError, TransporterStore};
use chrono::{Duration, Utc};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::RangeInclusive;

#[derive(Debug, Clone, PartialEq)]
pub struct MatchPolicy {
    /// At most this many transporters per booking or order line (the seed: ~1000).
    pub max_candidates: usize,
    /// How far the first search widens, in H3 rings (resolution 7: ~2.4 km each).
    pub max_rings: u32,
    /// How many rings further the wider search goes when nobody accepted in the offer window.
    pub wider_rings: u32,
    /// Positions older than this are of transporters who went offline.
    pub max_position_age: Duration,
}

impl Default for MatchPolicy {
    fn default() -> Self {
        Self { max_candidates: 1000, max_rings: 10, wider_rings: 5, max_position_age: Duration::minutes(15) }
    }
}

/// Which search: the first one around the pickup, or the wider one in the rings beyond it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    First,
    Wider,
}

impl MatchPolicy {
    /// The rings a search reads.
    pub fn rings(&self, reach: Reach) -> RangeInclusive<u32> {
        match reach {
            Reach::First => 0..=self.max_rings,
            Reach::Wider => self.max_rings + 1..=self.max_rings + self.wider_rings,
        }
    }
}

/// Where to look and whom to leave out.
#[derive(Debug, Clone, Copy)]
pub struct Search<'a> {
    pub pickup: GeoPoint,
    pub reach: Reach,
    /// Never offered (those who released the booking).
    pub exclude: &'a [UserId],
}

#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub transporter_id: UserId,
    pub distance_m: f64,
}

/// Transporters for one vehicle type: a booking's match.
pub async fn find_candidates<S>(
    store: &S, grid: &GeoGrid, policy: &MatchPolicy, search: Search<'_>, vehicle: VehicleType, limit: usize,
) -> Result<Vec<Candidate>, StoreError>
where
    S: GeoIndexStore + TransporterStore,
{
    let mut found = find_candidates_by_type(store, grid, policy, search, &[(vehicle, limit)]).await?;
    Ok(found.remove(&vehicle).unwrap_or_default())
}

/// Transporters for several vehicle types around one pickup (an order's lines), at most `limit` of
/// each, in one walk of the geo index: each transporter found is read once, whichever of the types
/// they serve, and the walk widens until every type has enough or the maximum radius is reached.
pub async fn find_candidates_by_type<S>(
    store: &S, grid: &GeoGrid, policy: &MatchPolicy, search: Search<'_>, wanted: &[(VehicleType, usize)],
) -> Result<BTreeMap<VehicleType, Vec<Candidate>>, StoreError>
where
    S: GeoIndexStore + TransporterStore,
{
    let limits: BTreeMap<VehicleType, usize> =
        wanted.iter().map(|&(vehicle, limit)| (vehicle, limit.min(policy.max_candidates))).collect();
    let mut found: BTreeMap<VehicleType, Vec<Candidate>> = limits.keys().map(|&v| (v, Vec::new())).collect();
    let fresh_after = Utc::now() - policy.max_position_age;
    let mut seen: HashSet<UserId> = search.exclude.iter().cloned().collect();
    let pickup = search.pickup;
    let rings = policy.rings(search.reach);
    for ring in grid.rings(pickup, *rings.end()).into_iter().skip(*rings.start() as usize) {
        let entries = store.transporters_in_cells(&ring).await?;
        let fresh: Vec<_> = entries
            .into_iter()
            .filter(|e| e.recorded_at >= fresh_after && seen.insert(e.transporter_id.clone()))
            .collect();
        if !fresh.is_empty() {
            let ids: Vec<UserId> = fresh.iter().map(|e| e.transporter_id.clone()).collect();
            let serves: HashMap<UserId, Vec<VehicleType>> = store
                .get_profiles(&ids)
                .await?
                .into_iter()
                .filter(|p| p.available && p.active_trip.is_none())
                .map(|p| (p.transporter_id, p.vehicle_types))
                .collect();
            for entry in fresh {
                let Some(vehicles) = serves.get(&entry.transporter_id) else { continue };
                let distance_m = pickup.distance_m(&GeoPoint { lat: entry.lat, lng: entry.lng });
                for vehicle in vehicles {
                    if let Some(candidates) = found.get_mut(vehicle) {
                        candidates.push(Candidate { transporter_id: entry.transporter_id.clone(), distance_m });
                    }
                }
            }
        }
        // A ring is finished before stopping, so nobody in it loses out to someone farther away.
        if found.iter().all(|(vehicle, candidates)| candidates.len() >= limits[vehicle]) {
            break;
        }
    }
    for (vehicle, candidates) in &mut found {
        candidates.sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m));
        candidates.truncate(limits[vehicle]);
    }
    Ok(found)
}
