//! The cities analytics tells apart: a bounded list from configuration (`ANALYTICS_CITIES`), each
//! a centre and a radius; a pickup in none of them counts as [`OTHER`]. Bounded because each city
//! is a metric dimension value, and each series costs money every month.

use crate::model::geo::{GeoPoint, Place};

/// The city of a pickup outside every configured one.
pub const OTHER: &str = "other";
/// At most this many cities (each adds 10 metric series).
pub const MAX_CITIES: usize = 10;

#[derive(Debug, Clone, PartialEq)]
pub struct City {
    pub name: String,
    pub centre: GeoPoint,
    pub radius_m: f64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cities(Vec<City>);

impl Cities {
    /// Parses `Name:lat,lng,radiusKm;Name:lat,lng,radiusKm;…` (empty: no city, all `other`).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut cities = Vec::new();
        for entry in text.split(';').map(str::trim).filter(|e| !e.is_empty()) {
            let bad = || format!("{entry:?} is not Name:lat,lng,radiusKm");
            let (name, numbers) = entry.split_once(':').ok_or_else(bad)?;
            let name = name.trim();
            let numbers: Vec<f64> =
                numbers.split(',').map(|n| n.trim().parse::<f64>()).collect::<Result<_, _>>().map_err(|_| bad())?;
            let [lat, lng, radius_km] = numbers[..] else { return Err(bad()) };
            let centre = GeoPoint::parse(lat, lng).map_err(|_| format!("{entry:?}: the centre is not on Earth"))?;
            let name_ok = !name.is_empty()
                && name.len() <= 40
                && name != OTHER
                && name.chars().all(|c| c.is_alphanumeric() || c == ' ' || c == '-' || c == '_');
            if !name_ok {
                return Err(format!("{entry:?}: a name is 1–40 letters, digits, spaces, - or _, and not {OTHER:?}"));
            }
            if !(radius_km > 0.0 && radius_km <= 200.0) {
                return Err(format!("{entry:?}: the radius is from 0 to 200 km"));
            }
            if cities.iter().any(|c: &City| c.name == name) {
                return Err(format!("{name:?} is listed twice"));
            }
            cities.push(City { name: name.to_owned(), centre, radius_m: radius_km * 1000.0 });
        }
        if cities.len() > MAX_CITIES {
            return Err(format!("at most {MAX_CITIES} cities, not {}", cities.len()));
        }
        Ok(Self(cities))
    }

    /// The nearest configured city whose radius holds `place`, or [`OTHER`].
    pub fn of(&self, place: &Place) -> &str {
        let point = GeoPoint { lat: place.lat, lng: place.lng };
        self.0
            .iter()
            .map(|city| (city, city.centre.distance_m(&point)))
            .filter(|(city, distance)| *distance <= city.radius_m)
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map_or(OTHER, |(city, _)| city.name.as_str())
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|c| c.name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(lat: f64, lng: f64) -> Place {
        Place { lat, lng, address: None }
    }

    #[test]
    fn a_pickup_counts_in_the_nearest_city_that_holds_it_and_otherwise_as_other() {
        let cities = Cities::parse("Mumbai:19.076,72.8777,40; Pune:18.5204,73.8567,30").unwrap();
        assert_eq!(cities.of(&at(19.1, 72.9)), "Mumbai");
        assert_eq!(cities.of(&at(18.52, 73.85)), "Pune");
        assert_eq!(cities.of(&at(28.61, 77.2)), OTHER);
        assert_eq!(Cities::parse("").unwrap().of(&at(19.1, 72.9)), OTHER);
    }

    #[test]
    fn a_malformed_list_is_refused_with_the_entry_it_stumbled_on() {
        for bad in ["Mumbai", "Mumbai:19,72", "Mumbai:x,72,4", "other:1,2,3", "A:1,2,0", "A:1,2,3;A:4,5,6", "A:91,2,3"]
        {
            let error = Cities::parse(bad).unwrap_err();
            assert!(!error.is_empty(), "{bad}");
        }
        let eleven: Vec<String> = (0..11).map(|n| format!("C{n}:1,{n},1")).collect();
        assert!(Cities::parse(&eleven.join(";")).unwrap_err().contains("at most 10"));
    }
}
