//! Lambda entry point of the `api` function: settings → clients → run the handler.

use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    // The metrics' Function dimension is the function this code runs as: api, or gps-ingest.
    let settings = weelo_api::Settings::from_env();
    weelo_telemetry::init(settings.as_ref().map_or("api", |s| s.routes.function()))?;
    let settings = settings?;
    let app = weelo_api::App::connect(&settings).await?;
    // `serve` answers every error as a response (its error type is `Infallible`).
    weelo_telemetry::run_http(|request| async { weelo_api::serve(&app, request).await.map_err(Error::from) }).await
}
