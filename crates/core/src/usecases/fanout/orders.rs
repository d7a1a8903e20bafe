//! Orders: expand an order into its truck requests and offer each line to the transporters
//! matched for its vehicle type, nearest first.

use super::notifications::{Notice, offer_record};
use super::{Fanout, FanoutError, FanoutReport, FanoutStore};
use crate::model::ids::{EventId, UserId};
use crate::model::order::{Order, OrderStatus, TruckLine};
use crate::model::vehicle::VehicleType;
use crate::ports::{EventBus, OfferSubject};
use crate::usecases::fanout::matching::{Reach, Search, find_candidates_by_type};
use chrono::Utc;
use std::collections::BTreeMap;

impl<S: FanoutStore, B: EventBus> Fanout<S, B> {
    pub(super) async fn offer_order(&self, cause: EventId, order: &Order) -> Result<FanoutReport, FanoutError> {
        // Created at the order's time, so a redelivery derives identical items.
        let requests = order.truck_requests(order.created_at);
        self.store.put_truck_requests(&requests).await?;
        let mut report = FanoutReport { truck_requests: requests.len(), ..FanoutReport::default() };
        let policy = &self.settings.policy;
        let line_limit = |line: &TruckLine| {
            (line.quantity as usize).saturating_mul(self.settings.candidates_per_truck).min(policy.max_candidates)
        };
        // Lines of the same type share that type's candidates, nearest first.
        let mut wanted: BTreeMap<VehicleType, usize> = BTreeMap::new();
        for line in &order.trucks {
            let limit = wanted.entry(line.vehicle_type).or_default();
            *limit = (*limit).max(line_limit(line));
        }
        let wanted: Vec<(VehicleType, usize)> = wanted.into_iter().collect();
        let search = Search { pickup: order.pickup.point(), reach: Reach::First, exclude: &[] };
        let candidates_by_type =
            find_candidates_by_type(&self.store, &self.settings.grid, policy, search, &wanted).await?;
        let mut notifications = Vec::new();
        for (index, line) in order.trucks.iter().enumerate() {
            let index = index as u32;
            let of_type = candidates_by_type.get(&line.vehicle_type).map(Vec::as_slice).unwrap_or_default();
            let candidates = &of_type[..of_type.len().min(line_limit(line))];
            let recipients: Vec<UserId> = candidates.iter().map(|c| c.transporter_id.clone()).collect();
            self.store.put_offers(OfferSubject::OrderLine(order.order_id, index), &recipients, Utc::now()).await?;
            report.offers += recipients.len();
            for candidate in candidates {
                let notice = Notice {
                    kind: "order.offered",
                    title: "New order near you",
                    body: format!("{} {} trucks needed near you", line.quantity, line.vehicle_type.as_str()),
                    data: vec![
                        ("orderId", order.order_id.to_string()),
                        ("line", index.to_string()),
                        ("vehicleType", line.vehicle_type.as_str().to_owned()),
                        ("trucks", line.quantity.to_string()),
                    ],
                };
                let key = format!("{}/line/{index}", candidate.transporter_id);
                notifications.push(offer_record(cause, &candidate.transporter_id, &key, notice));
            }
        }
        self.bus.publish(&notifications).await?;
        self.store.set_order_status(order.order_id, OrderStatus::Processing, OrderStatus::Open).await?;
        report.notifications = notifications.len();
        Ok(report)
    }
}
