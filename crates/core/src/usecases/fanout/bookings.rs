//! Bookings: offer a booking when it is open, again to the others when its transporter releases
//! it, in the rings beyond when its first search found nobody in time; tell the offered
//! transporters to drop it when it is accepted, cancelled or expired. Their offers are left in the
//! table as they were (two writes an offer saved on every trip): the booking's trip says they no
//! longer stand ([`Trip::offer_stands`]), and a release makes offers anew.
//!
//! [`Trip::offer_stands`]: crate::model::trip::Trip::offer_stands

use super::notifications::{Notice, offer_record, stamp, withdrawal_record};
use super::{FANOUT_EVENT_SOURCE, Fanout, FanoutError, FanoutReport, FanoutStore};
use crate::contract::events::{BookingChanged, BookingOffered, DomainEvent, EventRecord, OfferRound};
use crate::model::booking::Booking;
use crate::model::ids::{EventId, UserId};
use crate::model::trip::{TripStatus, TripStep};
use crate::ports::{EventBus, OfferSubject};
use crate::usecases::fanout::matching::{Candidate, Reach, Search, find_candidates};
use crate::usecases::trips::{Step, StepError};
use chrono::{DateTime, Utc};

impl<S: FanoutStore, B: EventBus> Fanout<S, B> {
    pub(super) async fn on_booking_created(
        &self, cause: EventId, booking: &Booking,
    ) -> Result<FanoutReport, FanoutError> {
        match booking.trip.status {
            TripStatus::Searching => self.offer_booking(cause, booking, OfferRound::First).await,
            // Scheduled: offered when its deadline opens it.
            _ => Ok(FanoutReport::default()),
        }
    }

    pub(super) async fn on_booking_changed(
        &self, cause: EventId, changed: &BookingChanged,
    ) -> Result<FanoutReport, FanoutError> {
        let booking = &changed.booking;
        let subject = OfferSubject::Booking(booking.booking_id);
        match changed.step {
            TripStep::Open => self.offer_booking(cause, booking, OfferRound::First).await,
            TripStep::Widen => self.offer_booking(cause, booking, OfferRound::Wider).await,
            TripStep::Release => {
                // The releaser can no longer accept it; everyone else near may.
                self.store.withdraw_offers(subject, changed.transporter_id.as_slice()).await?;
                self.offer_booking(cause, booking, OfferRound::Again).await
            }
            TripStep::Accept => self.withdraw(cause, booking, "accepted", booking.trip.accepted_by.as_ref()).await,
            TripStep::Expire => self.withdraw(cause, booking, "expired", None).await,
            TripStep::Cancel => {
                let assignee = changed.transporter_id.as_ref().filter(|_| changed.previous_status.is_assigned());
                // Only a search cancelled leaves offers standing: after an accept the others were
                // told when it was accepted (and their offers are left as written).
                let mut report = if changed.previous_status == TripStatus::Searching {
                    self.withdraw(cause, booking, "cancelled", None).await?
                } else {
                    FanoutReport::default()
                };
                if let Some(assignee) = assignee {
                    let notice = Notice {
                        kind: "booking.cancelled",
                        title: "Trip cancelled",
                        body: "The customer cancelled this booking; you are free for other work".into(),
                        data: vec![("bookingId", booking.booking_id.to_string())],
                    };
                    self.bus.publish(&[offer_record(cause, assignee, assignee.as_str(), notice)]).await?;
                    self.store.withdraw_offers(subject, std::slice::from_ref(assignee)).await?;
                    report.notifications += 1;
                }
                Ok(report)
            }
            TripStep::Arrive | TripStep::PickUp | TripStep::Deliver => Ok(FanoutReport::default()),
        }
    }

    /// Offers `booking` to the transporters its `round` of search finds, never to those who
    /// released it, and says so on `booking.events` ([`BookingOffered`]). When the first search
    /// finds nobody the wider one starts at once; when that finds nobody and nobody holds an
    /// offer, the booking expires at once.
    async fn offer_booking(
        &self, cause: EventId, booking: &Booking, round: OfferRound,
    ) -> Result<FanoutReport, FanoutError> {
        let reach = if round == OfferRound::Wider { Reach::Wider } else { Reach::First };
        let (grid, policy) = (&self.settings.grid, &self.settings.policy);
        let search = Search { pickup: booking.pickup.point(), reach, exclude: &booking.trip.released_by };
        let candidates =
            find_candidates(&self.store, grid, policy, search, booking.vehicle_type, policy.max_candidates).await?;
        let subject = OfferSubject::Booking(booking.booking_id);
        if candidates.is_empty() {
            let next = match reach {
                Reach::First => TripStep::Widen,
                Reach::Wider if self.current_offers(booking).await?.is_empty() => TripStep::Expire,
                Reach::Wider => return Ok(FanoutReport::default()),
            };
            self.step_if_unchanged(booking, next).await?;
            return Ok(FanoutReport::default());
        }
        let first_offer = match round {
            OfferRound::First => true,
            OfferRound::Again => false,
            OfferRound::Wider => self.current_offers(booking).await?.is_empty(),
        };
        let recipients: Vec<UserId> = candidates.iter().map(|c| c.transporter_id.clone()).collect();
        // Never before the release the api stamped on its own clock: an offer of this search must
        // stand, however far behind that clock this one runs.
        let offered_at = booking.trip.released_at.map_or(Utc::now(), |released| Utc::now().max(released));
        self.store.put_offers(subject, &recipients, offered_at).await?;
        let notifications: Vec<EventRecord> =
            candidates.iter().map(|c| offer_notice(cause, booking, c, offered_at)).collect();
        let pushes = notifications.len();
        let offered = BookingOffered {
            booking_id: booking.booking_id,
            vehicle_type: booking.vehicle_type,
            pickup: booking.pickup.clone(),
            created_at: booking.created_at,
            scheduled_at: booking.scheduled_at,
            round,
            first_offer,
            transporters: u32::try_from(recipients.len()).unwrap_or(u32::MAX),
        };
        let id = EventId::derive(&format!("{cause}/booking.offered"));
        let records =
            [notifications, vec![DomainEvent::BookingOffered(offered).to_record(id, FANOUT_EVENT_SOURCE, Utc::now())]];
        self.bus.publish(&records.concat()).await?;
        Ok(FanoutReport { offers: recipients.len(), notifications: pushes, ..FanoutReport::default() })
    }

    /// Takes `step` on the booking if nothing happened to it since `seen` (a redelivered or
    /// overtaken event changes nothing).
    async fn step_if_unchanged(&self, seen: &Booking, step: TripStep) -> Result<(), FanoutError> {
        let Some(stored) = self.store.get_booking(seen.booking_id).await? else { return Ok(()) };
        if stored.trip.revision != seen.trip.revision {
            return Ok(());
        }
        let times = &self.settings.times;
        let taken = Step { step, transporter: None, times, source: FANOUT_EVENT_SOURCE };
        match taken.take_booking(&self.store, &self.bus, &stored).await {
            Ok(_) | Err(StepError::Lost | StepError::Illegal(_) | StepError::TransporterUnavailable) => Ok(()),
            Err(StepError::Store(error)) => Err(error.into()),
        }
    }

    /// The offers of `booking` made for its current search (since its last release, if any) and
    /// not taken back, with when each was made.
    async fn current_offers(&self, booking: &Booking) -> Result<Vec<(UserId, DateTime<Utc>)>, FanoutError> {
        let open = self.store.open_offers(OfferSubject::Booking(booking.booking_id)).await?;
        Ok(open.into_iter().filter(|(_, at)| booking.trip.offer_is_current(*at)).collect())
    }

    /// Tells every transporter offered `booking` in its last search but `keep` to drop the offer
    /// (one data-only push each, naming it by its time). Nothing is written: the booking no longer
    /// searches, so those offers stand no more. A redelivery finds the same transporters and sends
    /// the same notification ids.
    async fn withdraw(
        &self, cause: EventId, booking: &Booking, reason: &str, keep: Option<&UserId>,
    ) -> Result<FanoutReport, FanoutError> {
        // A step seen again (a retried batch, a replay) after the booking was released and offered
        // anew: the offers open now belong to that new search, not to this step.
        let stored = self.store.get_booking(booking.booking_id).await?;
        if stored.is_some_and(|s| s.trip.revision > booking.trip.revision && s.status() == TripStatus::Searching) {
            return Ok(FanoutReport::default());
        }
        let open = self.current_offers(booking).await?;
        let others: Vec<(UserId, DateTime<Utc>)> = open.into_iter().filter(|(t, _)| Some(t) != keep).collect();
        let notifications: Vec<EventRecord> =
            others.iter().map(|(t, at)| withdrawal_record(cause, t, booking.booking_id, reason, *at)).collect();
        self.bus.publish(&notifications).await?;
        Ok(FanoutReport { withdrawn: others.len(), notifications: notifications.len(), ..FanoutReport::default() })
    }
}

/// The push offering `booking` to one candidate, with how far the pickup is from them.
fn offer_notice(cause: EventId, booking: &Booking, candidate: &Candidate, offered_at: DateTime<Utc>) -> EventRecord {
    let vehicle = booking.vehicle_type.as_str();
    let notice = Notice {
        kind: "booking.offered",
        title: "New booking near you",
        body: format!("A {vehicle} truck is needed {:.1} km from you", candidate.distance_m / 1000.0),
        data: vec![
            ("bookingId", booking.booking_id.to_string()),
            ("vehicleType", vehicle.to_owned()),
            ("distanceM", format!("{:.0}", candidate.distance_m)),
            ("offeredAt", stamp(offered_at)),
        ],
    };
    offer_record(cause, &candidate.transporter_id, candidate.transporter_id.as_str(), notice)
}
