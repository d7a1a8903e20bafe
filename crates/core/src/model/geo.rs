//! Places on Earth: validated WGS-84 coordinates and an optional street address.

use serde::{Deserialize, Serialize};

/// `value` rounded to a multiple of `step`. Coordinates keep 1e-7° (about 1 cm), far below GPS
/// accuracy; rounding also keeps every stored number inside DynamoDB's range, which has no
/// magnitudes below 1e-130 (a request with `lat: 5e-324` once failed with a 500).
pub fn quantize(value: f64, step: f64) -> f64 {
    // `+ 0.0` turns -0.0 into 0.0: one zero, one fingerprint.
    (value / step).round() * step + 0.0
}

/// A latitude/longitude pair known to be finite and in range, kept to 1e-7°.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GeoPoint {
    pub lat: f64,
    pub lng: f64,
}

impl GeoPoint {
    /// Checks both coordinates and returns the problems as `(field, problem)` relative to the point.
    pub fn parse(lat: f64, lng: f64) -> Result<Self, Vec<(&'static str, &'static str)>> {
        let mut problems = Vec::new();
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            problems.push(("lat", "must be a number from -90 to 90"));
        }
        if !lng.is_finite() || !(-180.0..=180.0).contains(&lng) {
            problems.push(("lng", "must be a number from -180 to 180"));
        }
        if problems.is_empty() {
            Ok(Self { lat: quantize(lat, 1e-7), lng: quantize(lng, 1e-7) })
        } else {
            Err(problems)
        }
    }

    /// Great-circle distance in metres (haversine; plenty for dispatch radii).
    pub fn distance_m(&self, other: &GeoPoint) -> f64 {
        const EARTH_RADIUS_M: f64 = 6_371_008.8;
        let (lat1, lat2) = (self.lat.to_radians(), other.lat.to_radians());
        let d_lat = lat2 - lat1;
        let d_lng = (other.lng - self.lng).to_radians();
        let a = (d_lat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (d_lng / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_M * a.sqrt().asin()
    }
}

/// A pickup or drop location.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Place {
    pub lat: f64,
    pub lng: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

impl Place {
    pub const MAX_ADDRESS_CHARS: usize = 300;

    pub fn point(&self) -> GeoPoint {
        GeoPoint { lat: self.lat, lng: self.lng }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_out_of_range_and_non_finite_coordinates() {
        assert!(GeoPoint::parse(19.07, 72.87).is_ok());
        assert_eq!(GeoPoint::parse(90.5, 0.0).unwrap_err(), vec![("lat", "must be a number from -90 to 90")]);
        assert_eq!(GeoPoint::parse(f64::NAN, 181.0).unwrap_err().len(), 2);
    }

    #[test]
    fn distance_between_mumbai_and_pune_is_about_120_km() {
        let mumbai = GeoPoint { lat: 19.0760, lng: 72.8777 };
        let pune = GeoPoint { lat: 18.5204, lng: 73.8567 };
        let km = mumbai.distance_m(&pune) / 1000.0;
        assert!((115.0..125.0).contains(&km), "{km}");
    }
}

/// The geo index's cell scheme: H3 hexagons (Uber's grid, via `h3o`). Resolution 7 cells are
/// ~5 km² (edge ~1.2 km): a city is a few hundred cells, and a pickup's ring k reaches ~2.4·k km.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GeoGrid {
    resolution: h3o::Resolution,
}

impl Default for GeoGrid {
    fn default() -> Self {
        Self { resolution: h3o::Resolution::Seven }
    }
}

/// A resolution, 0 to 15 (`GEO_H3_RESOLUTION`).
impl std::str::FromStr for GeoGrid {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        text.parse::<u8>().ok().and_then(GeoGrid::new).ok_or(())
    }
}

impl GeoGrid {
    pub fn new(resolution: u8) -> Option<Self> {
        h3o::Resolution::try_from(resolution).ok().map(|resolution| Self { resolution })
    }

    /// The cell containing `point`, as H3's hexadecimal index.
    pub fn cell(&self, point: GeoPoint) -> String {
        self.cell_index(point).to_string()
    }

    fn cell_index(&self, point: GeoPoint) -> h3o::CellIndex {
        // GeoPoint is validated, so it is always a valid H3 coordinate.
        h3o::LatLng::new(point.lat, point.lng).expect("validated coordinates").to_cell(self.resolution)
    }

    /// The cells at grid distance 0, 1, …, `max_ring` from `point`'s cell, ring by ring.
    pub fn rings(&self, point: GeoPoint, max_ring: u32) -> Vec<Vec<String>> {
        let mut rings = vec![Vec::new(); max_ring as usize + 1];
        for (cell, distance) in self.cell_index(point).grid_disk_distances_safe(max_ring) {
            rings[distance as usize].push(cell.to_string());
        }
        rings
    }
}

#[cfg(test)]
mod grid_tests {
    use super::*;

    #[test]
    fn rings_grow_as_hexagons_and_start_at_the_points_cell() {
        let grid = GeoGrid::default();
        let mumbai = GeoPoint { lat: 19.0760, lng: 72.8777 };
        let rings = grid.rings(mumbai, 3);
        assert_eq!(rings.iter().map(Vec::len).collect::<Vec<_>>(), [1, 6, 12, 18]);
        assert_eq!(rings[0], [grid.cell(mumbai)]);
        let next_door = GeoPoint { lat: 19.0765, lng: 72.8780 };
        assert_eq!(grid.cell(next_door), grid.cell(mumbai));
    }
}
