//! Responses: JSON bodies, and the one place where errors become HTTP statuses. Error bodies have
//! one shape, `{"error": {"code", "message", "details"?, "currentStatus"?}}`, and never carry
//! internal error text.

use lambda_http::{Body, Response};
use serde::Serialize;
use weelo_core::{FieldProblem, ServiceError};

pub fn json(status: u16, value: &impl Serialize) -> Response<Body> {
    let body = serde_json::to_string(value).expect("response values serialise to JSON");
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::Text(body))
        .expect("a response with valid status and headers")
}

/// 204: done, nothing to say.
pub fn no_content() -> Response<Body> {
    Response::builder().status(204).body(Body::Empty).expect("a response with a valid status")
}

#[derive(Serialize)]
struct ErrorEnvelope<'a> {
    error: ErrorBody<'a>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "<[FieldProblem]>::is_empty")]
    details: &'a [FieldProblem],
    #[serde(rename = "currentStatus", skip_serializing_if = "Option::is_none")]
    current_status: Option<&'a str>,
}

pub fn error(status: u16, code: &str, message: &str) -> Response<Body> {
    error_with_details(status, code, message, &[])
}

fn error_with_details(status: u16, code: &str, message: &str, details: &[FieldProblem]) -> Response<Body> {
    json(status, &ErrorEnvelope { error: ErrorBody { code, message, details, current_status: None } })
}

/// The status and body for each use-case failure.
pub fn service_error(failure: &ServiceError) -> Response<Body> {
    match failure {
        ServiceError::Validation(v) => {
            error_with_details(400, "validation_failed", "the request is invalid; see details", &v.details)
        }
        ServiceError::Forbidden { required } => {
            error(403, "forbidden", &format!("this operation needs the {required} role"))
        }
        ServiceError::NotFound { what } => error(404, "not_found", &format!("{what} not found")),
        ServiceError::Conflict { code, message, current_status } => {
            let body = ErrorBody { code, message, details: &[], current_status: *current_status };
            json(409, &ErrorEnvelope { error: body })
        }
        ServiceError::Unavailable { what } => {
            let mut response =
                error(503, "service_unavailable", &format!("{what} is temporarily unavailable; retry shortly"));
            response.headers_mut().insert("retry-after", http::HeaderValue::from_static("1"));
            response
        }
        ServiceError::Internal(source) => {
            tracing::error!(error = ?source, "internal error");
            error(500, "internal_error", "something went wrong on our side")
        }
    }
}
