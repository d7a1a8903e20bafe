//! How the api answers a trip step it could not take, for a booking and for an order's truck
//! alike: 409 with the status the trip is in, or why the transporter cannot take it.

use crate::error::ServiceError;
use crate::model::caller::Transporter;
use crate::model::trip::TripStatus;
use crate::ports::TransporterStore;
use crate::usecases::trips::StepError;

/// How many times a change that lost a race reads its trip again before giving up with 409.
pub(super) const LOOKS: usize = 3;

/// The names a kind of trip's refusals go by.
pub(super) struct TripNames {
    /// What it is called in messages (`booking`, `truck request`).
    pub what: &'static str,
    /// The code of a step its status refuses (`booking_unavailable`).
    pub unavailable: &'static str,
    /// The code of a step that kept losing races (`booking_changed`).
    pub changed: &'static str,
}

pub(super) const BOOKING: TripNames =
    TripNames { what: "booking", unavailable: "booking_unavailable", changed: "booking_changed" };
pub(super) const TRUCK: TripNames =
    TripNames { what: "truck request", unavailable: "truck_request_unavailable", changed: "truck_request_changed" };

impl TripNames {
    /// A step the trip's state refused, as the client sees it: 409 with the current status.
    pub(super) fn refused(&self, error: StepError) -> ServiceError {
        match error {
            StepError::Illegal(status) => self.unavailable(status),
            // Only reached after the caller looked again; the trip keeps changing under it.
            StepError::Lost => ServiceError::Conflict {
                code: self.changed,
                message: format!("the {} changed meanwhile; read it and try again", self.what),
                current_status: None,
            },
            StepError::TransporterUnavailable => ServiceError::Conflict {
                code: "transporter_busy",
                message: "you are on another trip, or have no transporter profile yet".into(),
                current_status: None,
            },
            StepError::Store(error) => error.into(),
        }
    }

    /// 409: the trip is `status`, which the step cannot be taken from.
    pub(super) fn unavailable(&self, status: TripStatus) -> ServiceError {
        ServiceError::Conflict {
            code: self.unavailable,
            message: format!("the {} is {status}", self.what),
            current_status: Some(status.as_str()),
        }
    }

    /// 409: the caller's offer was taken back; the trip is searching again without them.
    pub(super) fn offer_withdrawn(&self, status: TripStatus) -> ServiceError {
        ServiceError::Conflict {
            code: "offer_withdrawn",
            message: "this offer was withdrawn; you will be told if it is offered to you again".into(),
            current_status: Some(status.as_str()),
        }
    }
}

/// Why an accept could not assign the transporter: no profile yet, or another trip.
pub(super) async fn why_unavailable<S: TransporterStore>(store: &S, transporter: &Transporter) -> ServiceError {
    match store.get_profile(transporter.id()).await {
        Ok(Some(profile)) => ServiceError::Conflict {
            code: "transporter_busy",
            message: match profile.active_trip {
                Some(trip) => format!("you are on another trip ({trip}); finish or release it first"),
                None => "you are on another trip; finish or release it first".into(),
            },
            current_status: None,
        },
        Ok(None) => ServiceError::Conflict {
            code: "profile_required",
            message: "set your transporter profile (PUT /v1/transporters/me) before accepting".into(),
            current_status: None,
        },
        Err(error) => error.into(),
    }
}
