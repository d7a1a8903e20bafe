//! A small world for the flows that cross use cases: the api's bookings and orders, the fan-out
//! and the deadline sweeper over one in-memory store, with the events each publishes handed to
//! the fan-out as its topics would. Every push the fan-out publishes is checked against the
//! catalogue (`contract::pushes`).

use crate::support::*;
use chrono::{Duration, Utc};
use std::collections::BTreeSet;
use weelo_core::contract::events::{DomainEvent, FcmNotification};
use weelo_core::contract::pushes::conforms;
use weelo_core::contract::requests::NewOrder;
use weelo_core::model::geo::GeoGrid;
use weelo_core::model::ids::{BookingId, EventId, OrderId};
use weelo_core::model::order::TruckLine;
use weelo_core::model::trip::OfferTimes;
use weelo_core::model::vehicle::VehicleType;
use weelo_core::testing::{MemoryStore, RecordingBus};
use weelo_core::usecases::api::{Bookings, Create, Orders};
use weelo_core::usecases::deadlines::Deadlines;
use weelo_core::usecases::fanout::matching::MatchPolicy;
use weelo_core::usecases::fanout::{Fanout, FanoutSettings};
use weelo_core::usecases::locations::LocationProcessing;

pub struct World {
    pub store: MemoryStore,
    /// What the api and the sweeper publish (booking and order events).
    pub api_bus: RecordingBus,
    /// What the fan-out publishes (notifications, and the steps it takes).
    pub fanout_bus: RecordingBus,
    pub bookings: Bookings<MemoryStore, RecordingBus>,
    pub orders: Orders<MemoryStore, RecordingBus>,
    pub fanout: Fanout<MemoryStore, RecordingBus>,
    pub deadlines: Deadlines<MemoryStore, RecordingBus>,
}

impl World {
    pub fn new() -> Self {
        let (store, api_bus, fanout_bus) = (MemoryStore::new(), RecordingBus::default(), RecordingBus::default());
        let times = OfferTimes::default();
        let policy = MatchPolicy { max_rings: 2, wider_rings: 4, ..MatchPolicy::default() };
        let settings = FanoutSettings { grid: GeoGrid::default(), policy, times, candidates_per_truck: 20 };
        Self {
            bookings: Bookings::new(store.clone(), api_bus.clone(), times),
            orders: Orders::new(store.clone(), api_bus.clone(), times),
            fanout: Fanout::new(store.clone(), fanout_bus.clone(), settings),
            deadlines: Deadlines::new(store.clone(), api_bus.clone(), times, 10),
            store,
            api_bus,
            fanout_bus,
        }
    }

    /// A tipper driver with a fresh point `metres` north of the pickup.
    pub async fn driver(&self, id: &str, metres: f64) {
        on_the_road(&self.store, &[id]).await;
        let locations = LocationProcessing::new(self.store.clone(), GeoGrid::default(), Duration::seconds(60));
        locations.on_batch(&[point(id, north_of_pickup(metres), Utc::now())]).await.unwrap();
    }

    /// Hands the fan-out every event of CloudEvents type `ty` the api, the sweeper or the fan-out
    /// itself published (as the topic would).
    pub async fn deliver(&self, ty: &str) {
        for (id, event) in self.api_bus.of_type(ty).into_iter().chain(self.fanout_bus.of_type(ty)) {
            self.fanout.on_event(id, &event).await.unwrap();
        }
    }

    /// Creates Asha's booking and delivers its `created` event.
    pub async fn book(&self) -> BookingId {
        let id =
            self.bookings.create(Create::new(&customer("asha"), new_booking(VehicleType::Tipper), None)).await.unwrap();
        self.deliver("com.weelo.booking.created.v1").await;
        id.value.booking_id
    }

    /// Creates Asha's order for `tippers` tippers and delivers its `created` event.
    pub async fn order(&self, tippers: u32) -> OrderId {
        let trucks = vec![TruckLine { vehicle_type: VehicleType::Tipper, quantity: tippers }];
        let request = NewOrder { pickup: place(PICKUP), drop: place((18.52, 73.85)), trucks };
        let id = self.orders.create(Create::new(&customer("asha"), request, None)).await.unwrap().value.order_id;
        self.deliver("com.weelo.order.created.v1").await;
        id
    }

    /// The fan-out's pushes of `kind` so far.
    pub fn notifications(&self, kind: &str) -> Vec<(EventId, FcmNotification)> {
        let decoded = self.fanout_bus.on("notification.fcm").into_iter();
        decoded
            .filter_map(|r| match DomainEvent::from_payload(r.payload.as_bytes()).ok()? {
                (id, DomainEvent::NotificationFcm(n)) => {
                    // Every push is one the README lists, with exactly its data keys.
                    assert_eq!(conforms(&n), Ok(()));
                    (n.kind == kind).then_some((id, n))
                }
                _ => None,
            })
            .collect()
    }
}

pub fn recipients(notifications: &[(EventId, FcmNotification)]) -> BTreeSet<String> {
    notifications.iter().map(|(_, n)| n.recipient_id.to_string()).collect()
}
