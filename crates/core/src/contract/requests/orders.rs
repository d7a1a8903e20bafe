//! `POST /v1/orders`.

use super::{PlaceInput, limits};
use crate::error::ValidationError;
use crate::model::geo::Place;
use crate::model::order::TruckLine;
use crate::model::vehicle::VehicleType;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TruckLineInput {
    pub vehicle_type: VehicleType,
    pub quantity: u32,
}

/// The body of `POST /v1/orders`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateOrderRequest {
    pub pickup: PlaceInput,
    pub drop: PlaceInput,
    pub trucks: Vec<TruckLineInput>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewOrder {
    pub pickup: Place,
    pub drop: Place,
    pub trucks: Vec<TruckLine>,
}

impl NewOrder {
    pub fn trucks_requested(&self) -> u32 {
        self.trucks.iter().map(|t| t.quantity).sum()
    }
}

impl CreateOrderRequest {
    pub fn validate(self) -> Result<NewOrder, ValidationError> {
        use limits::*;
        let mut problems = ValidationError::default();
        let pickup = self.pickup.validate("pickup", &mut problems);
        let drop = self.drop.validate("drop", &mut problems);
        if self.trucks.is_empty() || self.trucks.len() > MAX_ORDER_LINES {
            problems.push("trucks", format!("must have 1 to {MAX_ORDER_LINES} lines"));
        }
        for (i, line) in self.trucks.iter().enumerate() {
            if !(1..=MAX_TRUCKS_PER_LINE).contains(&line.quantity) {
                problems.push(format!("trucks[{i}].quantity"), format!("must be from 1 to {MAX_TRUCKS_PER_LINE}"));
            }
        }
        let total: u64 = self.trucks.iter().map(|t| u64::from(t.quantity)).sum();
        if total > u64::from(MAX_TRUCKS_PER_ORDER) {
            problems.push("trucks", format!("must request at most {MAX_TRUCKS_PER_ORDER} trucks in total"));
        }
        let trucks =
            self.trucks.iter().map(|t| TruckLine { vehicle_type: t.vehicle_type, quantity: t.quantity }).collect();
        problems.into_result(|| NewOrder { pickup, drop, trucks })
    }
}
