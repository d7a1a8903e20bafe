//! Who is calling: the verified identity the use cases authorise against. An operation for one
//! role takes a [`Customer`] or a [`Transporter`], which only [`Caller`] makes after checking the
//! role, so the edge checks it before it even decodes the body (403 before 400).

use crate::model::ids::UserId;
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
    /// The caller as a customer, for the operations only customers may use; 403 otherwise.
    pub fn customer(&self) -> Result<Customer, crate::ServiceError> {
        self.require(Role::Customer).map(Customer)
    }

    /// The caller as a transporter, for the operations only transporters may use; 403 otherwise.
    pub fn transporter(&self) -> Result<Transporter, crate::ServiceError> {
        self.require(Role::Transporter).map(Transporter)
    }

    fn require(&self, role: Role) -> Result<UserId, crate::ServiceError> {
        if self.role == role {
            Ok(self.user_id.clone())
        } else {
            Err(crate::ServiceError::Forbidden { required: role.as_str() })
        }
    }
}

/// A caller verified to be a customer: the only way to call a customer's operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer(UserId);

/// A caller verified to be a transporter: the only way to call a transporter's operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transporter(UserId);

impl Customer {
    pub fn id(&self) -> &UserId {
        &self.0
    }
}

impl Transporter {
    pub fn id(&self) -> &UserId {
        &self.0
    }
}
