//! Lambda entry point of the `live-socket` function: settings → clients → run the handler.

use lambda_runtime::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    weelo_telemetry::init("live-socket")?;
    let function = weelo_live_socket::connect(&weelo_live_socket::Settings::from_env()?).await?;
    weelo_telemetry::run(|event| weelo_live_socket::handle(&function, event)).await
}
