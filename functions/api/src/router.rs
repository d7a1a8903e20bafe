//! Routing: which use case a method and path select. [`ROUTES`] is the list the OpenAPI test
//! compares with `docs/openapi.yaml`.

use http::Method;
use weelo_core::model::trip::TripStep;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route<'a> {
    Health,
    /// The shared-link tracking page (static; public, its token in the URL fragment).
    TrackPage,
    /// A new shared link to the booking's live track.
    ShareBooking(&'a str),
    /// Revoke one of the booking's shared links.
    RevokeShare {
        booking: &'a str,
        share: &'a str,
    },
    RegisterDevice,
    DeleteDevice(&'a str),
    PutTransporterProfile,
    IngestLocation,
    /// The transporter's live offers.
    ListOffers,
    /// The transporter's trips, the one they hold first.
    ListTrips,
    CreateBooking,
    ListBookings,
    GetBooking(&'a str),
    AcceptBooking(&'a str),
    CancelBooking(&'a str),
    /// `arrive`, `pickup`, `deliver` or `release`: a step by the booking's transporter.
    BookingStep(&'a str, TripStep),
    BookingLocation(&'a str),
    /// The booking's trip as GPS points, a page at a time.
    BookingTrack(&'a str),
    CreateOrder,
    ListOrders,
    GetOrder(&'a str),
    CancelOrder(&'a str),
    AcceptTruckRequest {
        order: &'a str,
        truck_request: &'a str,
    },
    /// One truck's trip as GPS points, a page at a time.
    TruckTrack {
        order: &'a str,
        truck_request: &'a str,
    },
    /// `arrive`, `pickup`, `deliver` or `release`: a step by the transporter holding the truck.
    TruckStep {
        order: &'a str,
        truck_request: &'a str,
        step: TripStep,
    },
}

impl Route<'_> {
    /// Whether the route reads a JSON body (and so needs `Content-Type: application/json`).
    pub fn takes_body(&self) -> bool {
        matches!(
            self,
            Route::RegisterDevice
                | Route::PutTransporterProfile
                | Route::IngestLocation
                | Route::CreateBooking
                | Route::CreateOrder
        )
    }

    pub fn needs_token(&self) -> bool {
        !matches!(self, Route::Health | Route::TrackPage)
    }
}

/// Which routes a deployment of this code serves: `API_ROUTES` (infra/definitions/functions.json).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Served {
    /// `all`: every route of the contract (the `api` function, behind API Gateway).
    #[default]
    All,
    /// `gps-ingest`: `POST /v1/tracking/location` and the liveness check only (the `gps-ingest`
    /// function, behind its Lambda function URL: a GPS point costs no API Gateway request).
    GpsIngest,
}

impl Served {
    /// The function this route set is deployed as (its metrics' `Function` dimension).
    pub fn function(self) -> &'static str {
        match self {
            Served::All => "api",
            Served::GpsIngest => "gps-ingest",
        }
    }

    /// Whether a request for `route` is answered here; any other is answered 404.
    pub fn serves(self, route: &Route) -> bool {
        match self {
            Served::All => true,
            Served::GpsIngest => matches!(route, Route::IngestLocation | Route::Health),
        }
    }

    /// Whether some method of `path` is served here: a wrong method on such a path is answered
    /// 405, on any other path 404 (so gps-ingest tells nothing of the api's other routes).
    pub fn serves_path(self, path: &str) -> bool {
        [Method::GET, Method::POST, Method::PUT, Method::DELETE]
            .iter()
            .any(|method| route(method, path).is_ok_and(|route| self.serves(&route)))
    }
}

impl std::str::FromStr for Served {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "all" => Ok(Served::All),
            "gps-ingest" => Ok(Served::GpsIngest),
            other => Err(format!("unknown route set {other:?}: all or gps-ingest")),
        }
    }
}

/// Every route served: `(method, OpenAPI path template)`.
pub const ROUTES: [(&str, &str); 31] = [
    ("GET", "/v1/health"),
    ("GET", "/track"),
    ("POST", "/v1/devices"),
    ("DELETE", "/v1/devices/{deviceId}"),
    ("PUT", "/v1/transporters/me"),
    ("POST", "/v1/tracking/location"),
    ("POST", "/v1/bookings"),
    ("GET", "/v1/bookings"),
    ("GET", "/v1/bookings/{bookingId}"),
    ("POST", "/v1/bookings/{bookingId}/accept"),
    ("POST", "/v1/bookings/{bookingId}/cancel"),
    ("POST", "/v1/bookings/{bookingId}/arrive"),
    ("POST", "/v1/bookings/{bookingId}/pickup"),
    ("POST", "/v1/bookings/{bookingId}/deliver"),
    ("POST", "/v1/bookings/{bookingId}/release"),
    ("GET", "/v1/bookings/{bookingId}/location"),
    ("GET", "/v1/bookings/{bookingId}/track"),
    ("POST", "/v1/bookings/{bookingId}/share"),
    ("DELETE", "/v1/bookings/{bookingId}/share/{shareId}"),
    ("GET", "/v1/offers"),
    ("GET", "/v1/trips"),
    ("POST", "/v1/orders"),
    ("GET", "/v1/orders"),
    ("GET", "/v1/orders/{orderId}"),
    ("POST", "/v1/orders/{orderId}/cancel"),
    ("POST", "/v1/orders/{orderId}/truck-requests/{truckRequestId}/accept"),
    ("POST", "/v1/orders/{orderId}/truck-requests/{truckRequestId}/arrive"),
    ("POST", "/v1/orders/{orderId}/truck-requests/{truckRequestId}/pickup"),
    ("POST", "/v1/orders/{orderId}/truck-requests/{truckRequestId}/deliver"),
    ("POST", "/v1/orders/{orderId}/truck-requests/{truckRequestId}/release"),
    ("GET", "/v1/orders/{orderId}/truck-requests/{truckRequestId}/track"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteError {
    NotFound,
    /// The path exists with other methods (listed for the `Allow` header).
    MethodNotAllowed(&'static str),
}

pub fn route<'a>(method: &Method, path: &'a str) -> Result<Route<'a>, RouteError> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    let (route, allowed) = match segments.as_slice() {
        ["v1", "health"] => (on(method, Method::GET, Route::Health), "GET"),
        ["track"] => (on(method, Method::GET, Route::TrackPage), "GET"),
        ["v1", "devices"] => (on(method, Method::POST, Route::RegisterDevice), "POST"),
        ["v1", "devices", id] => (on(method, Method::DELETE, Route::DeleteDevice(id)), "DELETE"),
        ["v1", "transporters", "me"] => (on(method, Method::PUT, Route::PutTransporterProfile), "PUT"),
        ["v1", "tracking", "location"] => (on(method, Method::POST, Route::IngestLocation), "POST"),
        ["v1", "bookings"] => {
            let route = on(method, Method::POST, Route::CreateBooking).or(on(method, Method::GET, Route::ListBookings));
            (route, "GET, POST")
        }
        ["v1", "bookings", id] => (on(method, Method::GET, Route::GetBooking(id)), "GET"),
        ["v1", "bookings", id, "accept"] => (on(method, Method::POST, Route::AcceptBooking(id)), "POST"),
        ["v1", "bookings", id, "cancel"] => (on(method, Method::POST, Route::CancelBooking(id)), "POST"),
        ["v1", "bookings", id, "location"] => (on(method, Method::GET, Route::BookingLocation(id)), "GET"),
        ["v1", "bookings", id, "track"] => (on(method, Method::GET, Route::BookingTrack(id)), "GET"),
        ["v1", "bookings", id, "share"] => (on(method, Method::POST, Route::ShareBooking(id)), "POST"),
        ["v1", "bookings", booking, "share", share] => {
            (on(method, Method::DELETE, Route::RevokeShare { booking, share }), "DELETE")
        }
        ["v1", "bookings", id, verb] => match TripStep::BY_HOLDER.into_iter().find(|step| step.verb() == *verb) {
            Some(step) => (on(method, Method::POST, Route::BookingStep(id, step)), "POST"),
            None => return Err(RouteError::NotFound),
        },
        ["v1", "offers"] => (on(method, Method::GET, Route::ListOffers), "GET"),
        ["v1", "trips"] => (on(method, Method::GET, Route::ListTrips), "GET"),
        ["v1", "orders"] => {
            let route = on(method, Method::POST, Route::CreateOrder).or(on(method, Method::GET, Route::ListOrders));
            (route, "GET, POST")
        }
        ["v1", "orders", id] => (on(method, Method::GET, Route::GetOrder(id)), "GET"),
        ["v1", "orders", id, "cancel"] => (on(method, Method::POST, Route::CancelOrder(id)), "POST"),
        ["v1", "orders", order, "truck-requests", truck_request, "accept"] => {
            (on(method, Method::POST, Route::AcceptTruckRequest { order, truck_request }), "POST")
        }
        ["v1", "orders", order, "truck-requests", truck_request, "track"] => {
            (on(method, Method::GET, Route::TruckTrack { order, truck_request }), "GET")
        }
        ["v1", "orders", order, "truck-requests", truck_request, verb] => {
            match TripStep::BY_HOLDER.into_iter().find(|step| step.verb() == *verb) {
                Some(step) => (on(method, Method::POST, Route::TruckStep { order, truck_request, step }), "POST"),
                None => return Err(RouteError::NotFound),
            }
        }
        _ => return Err(RouteError::NotFound),
    };
    route.ok_or(RouteError::MethodNotAllowed(allowed))
}

fn on<'a>(method: &Method, expected: Method, route: Route<'a>) -> Option<Route<'a>> {
    (*method == expected).then_some(route)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_route_is_served_by_its_method() {
        for (method, template) in ROUTES {
            let path = template
                .replace("{bookingId}", "b")
                .replace("{orderId}", "o")
                .replace("{truckRequestId}", "t")
                .replace("{deviceId}", "d")
                .replace("{shareId}", "s");
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            assert!(route(&method, &path).is_ok(), "{method} {path}");
        }
    }

    #[test]
    fn unknown_paths_and_wrong_methods_are_told_apart() {
        assert_eq!(route(&Method::GET, "/v1/nothing"), Err(RouteError::NotFound));
        assert_eq!(route(&Method::DELETE, "/v1/bookings/x"), Err(RouteError::MethodNotAllowed("GET")));
        assert_eq!(route(&Method::GET, "/v1/bookings/abc/"), Ok(Route::GetBooking("abc")));
    }

    #[test]
    fn the_gps_ingest_set_serves_only_points_and_the_liveness_check() {
        let served: Vec<_> = ROUTES
            .iter()
            .filter(|(method, template)| {
                let route = route(&Method::from_bytes(method.as_bytes()).unwrap(), template).unwrap();
                Served::GpsIngest.serves(&route)
            })
            .collect();
        assert_eq!(served, [&("GET", "/v1/health"), &("POST", "/v1/tracking/location")]);
        assert!(
            ROUTES
                .iter()
                .all(|(m, t)| Served::All.serves(&route(&Method::from_bytes(m.as_bytes()).unwrap(), t).unwrap()))
        );
        assert!(Served::GpsIngest.serves_path("/v1/tracking/location") && Served::GpsIngest.serves_path("/v1/health"));
        assert!(!Served::GpsIngest.serves_path("/v1/bookings/b") && Served::All.serves_path("/v1/bookings/b"));
        assert_eq!("gps-ingest".parse(), Ok(Served::GpsIngest));
        assert_eq!("all".parse(), Ok(Served::All));
        assert!("gps".parse::<Served>().is_err());
    }

    #[test]
    fn every_function_running_this_code_names_its_route_set_and_reports_metrics_as_itself() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../infra/definitions/functions.json");
        let file: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let functions = file["functions"].as_array().unwrap();
        let running_api = functions.iter().filter(|f| f.get("binary").unwrap_or(&f["name"]) == "api");
        let mut names = Vec::new();
        for function in running_api {
            let name = function["name"].as_str().unwrap();
            let routes: Served = function["environment"]["API_ROUTES"].as_str().expect(name).parse().unwrap();
            assert_eq!(routes.function(), name);
            names.push(name);
        }
        assert_eq!(names, ["api", "gps-ingest"]);
    }
}
