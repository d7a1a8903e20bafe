//! Lambda entry point of the `audit-consumer` function: settings → clients → run the handler.

use lambda_runtime::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    weelo_telemetry::init("audit-consumer")?;
    let archive = weelo_audit_consumer::connect(&weelo_audit_consumer::Settings::from_env()?).await?;
    weelo_telemetry::run(|event| weelo_audit_consumer::handle(&archive, event)).await
}
