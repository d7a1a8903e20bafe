//! Figure 4c: what a booking's trip costs after its offers, counted: one transporter accepts,
//! arrives, picks up and delivers through the api, and each step's event goes through
//! order-fanout (which tells everyone else to drop the offer, a push each and no write) and the
//! fcm-consumer (the customer's pushes, and the others' "taken" pushes), as their mappings on
//! `booking.events` and `notification.fcm` deliver them.

use crate::counts::{Emulators, Tally};
use crate::figures::{RecordingBus, fanout_over, msk_event_over_partitions, push_service};
use crate::world::booking_at;
use std::sync::Arc;
use std::time::Duration;
use weelo_core::contract::events::DomainEvent;
use weelo_core::model::ids::{BookingId, EventId};
use weelo_core::ports::{BookingStore, OfferStore, OfferSubject};
use weelo_kafka::KafkaEventBus;
use weelo_testkit::api::{ApiClient, User};

/// The steps a transporter takes through the api, in order.
pub const STEPS: [&str; 4] = ["accept", "arrive", "pickup", "deliver"];

pub struct TripFigure {
    /// Transporters the booking was offered to (all but one are told to drop it).
    pub recipients: usize,
    /// What the steps, their events' handling and the pushes made the emulators do.
    pub counted: Tally,
}

/// Books at `centre` for a customer with a phone, offers it to up to `recipients` of
/// `transporters` (not counted), then counts the trip as the module says.
pub async fn trip_steps(
    api: &ApiClient, centre: (f64, f64), transporters: &[User], recipients: usize,
) -> anyhow::Result<TripFigure> {
    let customer = User::with_phone(api, "customer").await;
    let answer = api.call("POST", "/v1/bookings", Some(&customer), Some(booking_at(centre))).await;
    anyhow::ensure!(answer.status == 201, "booking: {answer:?}");
    let id = BookingId::parse(answer.body["bookingId"].as_str().unwrap_or_default())?;
    let store = &api.app().store;
    let booking = store.get_booking(id).await?.ok_or_else(|| anyhow::anyhow!("booking vanished"))?;
    let kafka = KafkaEventBus::connect(&weelo_kafka::KafkaConfig::from_env()?).await?;
    let bus = RecordingBus { kafka, published: Arc::default() };
    let fanout = fanout_over(bus.clone(), Some(recipients)).await?;
    fanout.on_event(EventId::generate(), &DomainEvent::BookingCreated(booking)).await?;
    let offered = store.offered_to(OfferSubject::Booking(id)).await?;
    let winner = transporters
        .iter()
        .find(|t| offered.contains(&t.user_id()))
        .ok_or_else(|| anyhow::anyhow!("the booking was offered to none of the seeded transporters"))?;
    bus.published.lock().expect("not poisoned").clear();
    let push = weelo_msk::Consumer::new(push_service(Duration::ZERO).await?, weelo_msk::FailureReporting::default());

    let emulators = Emulators::from_env()?;
    let since = chrono::Utc::now();
    emulators.start().await?;
    for step in STEPS {
        let answer = api.call("POST", &format!("/v1/bookings/{id}/{step}"), Some(winner), None).await;
        anyhow::ensure!(answer.status == 200, "{step}: {answer:?}");
    }
    // Every event of the booking from the accept on (the steps' own, and any a step causes).
    let records = weelo_testkit::records_with_key("booking.events", &id.to_string(), since, STEPS.len()).await;
    let events: Vec<(EventId, DomainEvent)> = records
        .iter()
        .map(|record| record.event().map_err(|e| anyhow::anyhow!("{e}")))
        .collect::<anyhow::Result<_>>()?;
    let steps: Vec<&(EventId, DomainEvent)> =
        events.iter().filter(|(_, event)| !matches!(event, DomainEvent::BookingCreated(_))).collect();
    anyhow::ensure!(steps.len() >= STEPS.len(), "expected {} step events, read {}", STEPS.len(), steps.len());
    for (event_id, event) in steps {
        fanout.on_event(*event_id, event).await?;
        push.on_event(*event_id, event).await?;
    }
    let notifications = std::mem::take(&mut *bus.published.lock().expect("not poisoned"));
    let response = weelo_fcm_consumer::handle(&push, msk_event_over_partitions(&notifications, 12))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    anyhow::ensure!(response.is_success(), "pushes failed: {response:?}");
    Ok(TripFigure { recipients: offered.len(), counted: emulators.read().await? })
}
