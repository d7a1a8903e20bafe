//! Who is calling: the verified identity the use cases authorise against.

use crate::ids::UserId;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Customer,
    Transporter,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Transporter => "transporter",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "customer" => Some(Role::Customer),
            "transporter" => Some(Role::Transporter),
            _ => None,
        }
    }
}

/// A caller whose token has been verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user_id: UserId,
    pub role: Role,
}

impl Caller {
    pub fn require(&self, role: Role) -> Result<&UserId, crate::ServiceError> {
        if self.role == role {
            Ok(&self.user_id)
        } else {
            Err(crate::ServiceError::Forbidden { required: role.as_str() })
        }
    }
}
