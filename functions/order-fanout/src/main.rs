//! Lambda entry point of the `order-fanout` function: settings → clients → run the handler.

use lambda_runtime::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let metrics = weelo_telemetry::init("order-fanout")?;
    let fanout = weelo_order_fanout::connect(&weelo_order_fanout::Settings::from_env()?).await?;
    let reporting = weelo_msk::FailureReporting::from_env()?;
    weelo_telemetry::run(metrics, |event| reporting.answer(weelo_order_fanout::handle(&fanout, event))).await
}
