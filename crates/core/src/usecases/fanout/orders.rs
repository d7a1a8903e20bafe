//! Orders: expand an order into its truck requests and offer each line to the transporters matched
//! for its vehicle type, nearest first; offer a line again when one of its trucks is released, and
//! wider when its trucks' first window passed; take a line's offers back once nothing on it is
//! searching (in the table, unlike a booking's: a line's offer stands for any of its trucks that
//! searches, which no one truck's release time can say); cancel a cancelled order's trucks and
//! tell the transporters already on the way.

use super::notifications::{Notice, offer_record, order_withdrawal_record, stamp};
use super::{FANOUT_EVENT_SOURCE, Fanout, FanoutError, FanoutReport, FanoutStore};
use crate::contract::events::{EventRecord, OrderCancelled, TruckRequestChanged};
use crate::model::ids::{EventId, UserId};
use crate::model::order::{Order, OrderStatus, OrderView, TruckLine, TruckRequestStatus};
use crate::model::trip::TripStep;
use crate::model::vehicle::VehicleType;
use crate::ports::{EventBus, OfferSubject};
use crate::usecases::fanout::matching::{Reach, Search, find_candidates, find_candidates_by_type};
use crate::usecases::trips::{Step, StepError};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

impl<S: FanoutStore, B: EventBus> Fanout<S, B> {
    pub(super) async fn offer_order(&self, cause: EventId, order: &Order) -> Result<FanoutReport, FanoutError> {
        // Created at the order's time, so a redelivery derives identical items.
        let requests = order.truck_requests(order.created_at, &self.settings.times);
        self.store.put_truck_requests(&requests).await?;
        let mut report = FanoutReport { truck_requests: requests.len(), ..FanoutReport::default() };
        // Lines of the same type share that type's candidates, nearest first.
        let mut wanted: BTreeMap<VehicleType, usize> = BTreeMap::new();
        for line in &order.trucks {
            let limit = wanted.entry(line.vehicle_type).or_default();
            *limit = (*limit).max(self.line_limit(line));
        }
        let wanted: Vec<(VehicleType, usize)> = wanted.into_iter().collect();
        let search = Search { pickup: order.pickup.point(), reach: Reach::First, exclude: &[] };
        let (grid, policy) = (&self.settings.grid, &self.settings.policy);
        let candidates_by_type = find_candidates_by_type(&self.store, grid, policy, search, &wanted).await?;
        let mut notifications = Vec::new();
        for (index, line) in order.trucks.iter().enumerate() {
            let of_type = candidates_by_type.get(&line.vehicle_type).map(Vec::as_slice).unwrap_or_default();
            let recipients: Vec<UserId> =
                of_type.iter().take(self.line_limit(line)).map(|c| c.transporter_id.clone()).collect();
            notifications.extend(self.offer_line(cause, order, index as u32, &recipients).await?);
            report.offers += recipients.len();
        }
        self.bus.publish(&notifications).await?;
        self.store.set_order_status(order.order_id, OrderStatus::Processing, OrderStatus::Open).await?;
        report.notifications = notifications.len();
        Ok(report)
    }

    /// Cancels every truck of a cancelled order that is not picked up yet (each a step of its own,
    /// whose event tells its transporter), then takes back every line's offers.
    pub(super) async fn cancel_order(
        &self, cause: EventId, cancelled: &OrderCancelled,
    ) -> Result<FanoutReport, FanoutError> {
        let Some(view) = self.store.get_order(cancelled.order_id).await? else { return Ok(FanoutReport::default()) };
        let times = &self.settings.times;
        let cancel = Step { step: TripStep::Cancel, transporter: None, times, source: FANOUT_EVENT_SOURCE };
        for request in view.truck_requests.iter().filter(|r| TripStep::Cancel.apply(r.status()).is_some()) {
            let customer = &view.order.customer_id;
            match cancel.take_truck_request(&self.store, &self.bus, request, customer, false).await {
                Ok(_) | Err(StepError::Lost | StepError::Illegal(_) | StepError::TransporterUnavailable) => {}
                Err(StepError::Store(error)) => return Err(error.into()),
            }
        }
        let mut report = FanoutReport::default();
        for line in 0..view.order.trucks.len() as u32 {
            report += self.withdraw_line(cause, &view, line, "cancelled").await?;
        }
        Ok(report)
    }

    pub(super) async fn on_truck_changed(
        &self, cause: EventId, changed: &TruckRequestChanged,
    ) -> Result<FanoutReport, FanoutError> {
        let request = &changed.request;
        let Some(view) = self.store.get_order(request.order_id).await? else { return Ok(FanoutReport::default()) };
        let line = request.line;
        let searching = |view: &OrderView| {
            view.truck_requests.iter().any(|r| r.line == line && r.status() == TruckRequestStatus::Searching)
        };
        match changed.step {
            TripStep::Accept if !searching(&view) => self.withdraw_line(cause, &view, line, "accepted").await,
            TripStep::Expire if !searching(&view) => self.withdraw_line(cause, &view, line, "expired").await,
            TripStep::Release | TripStep::Widen if view.order.status != OrderStatus::Cancelled => {
                let current = view.truck_requests.iter().find(|r| r.truck_request_id == request.truck_request_id);
                if current.is_none_or(|now| now.trip.revision != request.trip.revision) {
                    return Ok(FanoutReport::default());
                }
                // The trucks of a line widen together: the first of them still searching offers the
                // line wider, once, and the others' events change nothing.
                let widened = view.truck_requests.iter().filter(|r| {
                    r.line == line && r.status() == TruckRequestStatus::Searching && r.trip.search_round > 0
                });
                if changed.step == TripStep::Widen
                    && widened.map(|r| r.truck_request_id).min() != Some(request.truck_request_id)
                {
                    return Ok(FanoutReport::default());
                }
                let subject = OfferSubject::OrderLine(request.order_id, line);
                self.store.withdraw_offers(subject, changed.transporter_id.as_slice()).await?;
                let reach = if changed.step == TripStep::Widen { Reach::Wider } else { Reach::First };
                self.reoffer_line(cause, &view, line, reach).await
            }
            TripStep::Cancel if changed.previous_status.is_assigned() => {
                let Some(transporter) = &changed.transporter_id else { return Ok(FanoutReport::default()) };
                let notice = Notice {
                    kind: "order.truck-cancelled",
                    title: "Trip cancelled",
                    body: "The customer cancelled the order; you are free for other work".into(),
                    data: vec![
                        ("orderId", request.order_id.to_string()),
                        ("truckRequestId", request.truck_request_id.to_string()),
                    ],
                };
                self.bus.publish(&[offer_record(cause, transporter, transporter.as_str(), notice)]).await?;
                Ok(FanoutReport { notifications: 1, ..FanoutReport::default() })
            }
            _ => Ok(FanoutReport::default()),
        }
    }

    /// Offers one line again, nearest first (`reach`), never to those who released one of its
    /// trucks. Wider offers are told once per line whichever of its trucks widened.
    async fn reoffer_line(
        &self, cause: EventId, view: &OrderView, line: u32, reach: Reach,
    ) -> Result<FanoutReport, FanoutError> {
        let Some(truck_line) = view.order.trucks.get(line as usize) else { return Ok(FanoutReport::default()) };
        let released: Vec<UserId> = view
            .truck_requests
            .iter()
            .filter(|r| r.line == line)
            .flat_map(|r| r.trip.released_by.iter().cloned())
            .collect();
        let search = Search { pickup: view.order.pickup.point(), reach, exclude: &released };
        let (grid, policy) = (&self.settings.grid, &self.settings.policy);
        let limit = self.line_limit(truck_line);
        let candidates = find_candidates(&self.store, grid, policy, search, truck_line.vehicle_type, limit).await?;
        let recipients: Vec<UserId> = candidates.into_iter().map(|c| c.transporter_id).collect();
        let cause = match reach {
            Reach::First => cause,
            // The same notification ids whichever of the line's trucks widened.
            Reach::Wider => EventId::derive(&format!("{}/line/{line}/wider", view.order.order_id)),
        };
        let notifications = self.offer_line(cause, &view.order, line, &recipients).await?;
        self.bus.publish(&notifications).await?;
        Ok(FanoutReport { offers: recipients.len(), notifications: notifications.len(), ..FanoutReport::default() })
    }

    /// Offers line `line` of `order` to `recipients` and returns their notifications.
    async fn offer_line(
        &self, cause: EventId, order: &Order, line: u32, recipients: &[UserId],
    ) -> Result<Vec<EventRecord>, FanoutError> {
        let Some(truck_line) = order.trucks.get(line as usize) else { return Ok(Vec::new()) };
        let offered_at = Utc::now();
        self.store.put_offers(OfferSubject::OrderLine(order.order_id, line), recipients, offered_at).await?;
        let vehicle = truck_line.vehicle_type.as_str();
        Ok(recipients
            .iter()
            .map(|transporter| {
                let notice = Notice {
                    kind: "order.offered",
                    title: "New order near you",
                    body: format!("{} {vehicle} trucks needed near you", truck_line.quantity),
                    data: vec![
                        ("orderId", order.order_id.to_string()),
                        ("line", line.to_string()),
                        ("vehicleType", vehicle.to_owned()),
                        ("trucks", truck_line.quantity.to_string()),
                        ("offeredAt", stamp(offered_at)),
                    ],
                };
                offer_record(cause, transporter, &format!("{transporter}/line/{line}"), notice)
            })
            .collect())
    }

    /// Tells every transporter holding a live offer of the line, but those with a truck of it, to
    /// drop it (one data-only push each, naming it by its time), then takes the offers back: a
    /// later step of the line (a cancel, a refilled truck's expiry) finds only offers made since.
    async fn withdraw_line(
        &self, cause: EventId, view: &OrderView, line: u32, reason: &str,
    ) -> Result<FanoutReport, FanoutError> {
        let order_id = view.order.order_id;
        let subject = OfferSubject::OrderLine(order_id, line);
        let holders: Vec<&UserId> =
            view.truck_requests.iter().filter(|r| r.line == line).filter_map(|r| r.trip.accepted_by.as_ref()).collect();
        let open = self.store.open_offers(subject).await?;
        let others: Vec<(UserId, DateTime<Utc>)> = open.into_iter().filter(|(t, _)| !holders.contains(&t)).collect();
        let notifications: Vec<EventRecord> =
            others.iter().map(|(t, at)| order_withdrawal_record(cause, t, order_id, line, reason, *at)).collect();
        let others: Vec<UserId> = others.into_iter().map(|(t, _)| t).collect();
        self.bus.publish(&notifications).await?;
        self.store.withdraw_offers(subject, &others).await?;
        Ok(FanoutReport { withdrawn: others.len(), notifications: notifications.len(), ..FanoutReport::default() })
    }

    /// How many transporters a line is offered to: so many per truck, within the policy's maximum.
    fn line_limit(&self, line: &TruckLine) -> usize {
        let per_truck = self.settings.candidates_per_truck;
        (line.quantity as usize).saturating_mul(per_truck).min(self.settings.policy.max_candidates)
    }
}
