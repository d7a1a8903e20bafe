//! Lambda entry point of the `api` function: settings → clients → run the handler.

use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let metrics = weelo_telemetry::init("api")?;
    let settings = weelo_api::Settings::from_env()?;
    let app = weelo_api::App::connect(&settings).await?;
    // `serve` answers every error as a response (its error type is `Infallible`).
    weelo_telemetry::run_http(metrics, |request| async { weelo_api::serve(&app, request).await.map_err(Error::from) })
        .await
}
