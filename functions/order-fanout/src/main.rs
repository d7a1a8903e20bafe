//! Lambda entry point of the `order-fanout` function: configuration → clients → run the handler.

use lambda_runtime::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let fanout = weelo_order_fanout::from_env().await?;
    run(service_fn(|event| weelo_order_fanout::handle(&fanout, event))).await
}
