//! Truck types a customer can ask for and a transporter can serve.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VehicleType {
    Open,
    Container,
    Tipper,
    Trailer,
    Tanker,
    Mini,
}

impl VehicleType {
    pub const ALL: [VehicleType; 6] = [
        VehicleType::Open,
        VehicleType::Container,
        VehicleType::Tipper,
        VehicleType::Trailer,
        VehicleType::Tanker,
        VehicleType::Mini,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            VehicleType::Open => "open",
            VehicleType::Container => "container",
            VehicleType::Tipper => "tipper",
            VehicleType::Trailer => "trailer",
            VehicleType::Tanker => "tanker",
            VehicleType::Mini => "mini",
        }
    }
}
