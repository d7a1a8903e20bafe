//! Lambda entry point of the `api` function: configuration → clients → run the handler.

use lambda_http::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let app = weelo_api::App::from_env().await?;
    run(service_fn(|request| weelo_api::serve(&app, request))).await
}
