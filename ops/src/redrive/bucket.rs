//! Redriving an S3 on-failure destination: one object per failed batch, each holding the whole
//! invocation event. An object is deleted once the function processed its records; any other
//! object stays for the next run or a person.

use super::{Redriven, redrive_one};
use crate::invoke::Invoker;

/// Redrives the objects of `bucket` (at most `max`, in key order, so oldest first within a
/// mapping's partition). `function` overrides the function each object names.
pub(super) async fn redrive_bucket(bucket: &str, function: Option<&str>, max: usize) -> anyhow::Result<Vec<Redriven>> {
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let s3 = weelo_audit::s3_client(&aws);
    let keys = keys(&s3, bucket, max).await?;
    let invoker = Invoker::from_env().await;
    let source = format!("s3://{bucket}");
    let bar = crate::progress(keys.len() as u64, &format!("redriving {source}"));
    let mut outcomes = Vec::with_capacity(keys.len());
    for key in keys {
        // A reason names the object, for the person who looks at it next.
        let outcome = match read(&s3, bucket, &key).await {
            Ok(body) => match redrive_one(&invoker, &source, function, &body).await {
                Redriven::NotRedrivable { reason } => Redriven::NotRedrivable { reason: format!("{key}: {reason}") },
                other => other,
            },
            Err(error) => Redriven::NotRedrivable { reason: format!("{key}: {error:#}") },
        };
        if matches!(outcome, Redriven::Processed { .. }) {
            s3.delete_object().bucket(bucket).key(&key).send().await.map_err(s3_error)?;
        }
        outcomes.push(outcome);
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(outcomes)
}

/// The first `max` keys of the bucket.
async fn keys(s3: &aws_sdk_s3::Client, bucket: &str, max: usize) -> anyhow::Result<Vec<String>> {
    let mut keys = Vec::new();
    let mut pages = s3.list_objects_v2().bucket(bucket).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(s3_error)?;
        keys.extend(page.contents().iter().filter_map(|o| o.key().map(str::to_owned)));
        if keys.len() >= max {
            keys.truncate(max);
            break;
        }
    }
    Ok(keys)
}

async fn read(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> anyhow::Result<String> {
    let object = s3.get_object().bucket(bucket).key(key).send().await.map_err(s3_error)?;
    let bytes = object.body.collect().await?.into_bytes();
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn s3_error<E: std::error::Error + Send + Sync + 'static>(error: E) -> anyhow::Error {
    anyhow::anyhow!(aws_sdk_s3::error::DisplayErrorContext(error).to_string())
}
