//! Lambda entry point of the `order-fanout` function: settings → clients → run the handler.

use lambda_runtime::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    weelo_telemetry::init("order-fanout")?;
    let fanout = weelo_order_fanout::connect(&weelo_order_fanout::Settings::from_env()?).await?;
    weelo_telemetry::run(|event| weelo_order_fanout::handle(&fanout, event)).await
}
