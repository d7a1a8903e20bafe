//! Creates the local resources from the shared definitions: DynamoDB tables (keys, GSIs, TTL),
//! Kafka topics (partitions, retention), the SNS platform application for FCM, the audit bucket and
//! the mappings' on-failure queues and buckets. Idempotent.

use anyhow::Context;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, TimeToLiveSpecification,
};
use std::collections::BTreeMap;
use std::path::Path;
use weelo_definitions::{KeyAttribute, OnFailureKind, TableDefinition, load_tables, load_topics};
use weelo_kafka::KafkaConfig;

pub async fn tables(
    client: &aws_sdk_dynamodb::Client, definitions: &Path, prefix: &str,
) -> anyhow::Result<Vec<(String, String)>> {
    let mut env = Vec::new();
    for table in load_tables(definitions)? {
        let name = format!("{prefix}{}", table.name);
        create_table(client, &table, &name).await?;
        env.push((table.env.clone(), name));
    }
    Ok(env)
}

async fn create_table(client: &aws_sdk_dynamodb::Client, table: &TableDefinition, name: &str) -> anyhow::Result<()> {
    let mut attributes = BTreeMap::new();
    let schema = key_schema(&table.hash_key, table.range_key.as_ref(), &mut attributes)?;
    let mut indexes = Vec::new();
    for index in &table.global_secondary_indexes {
        let projection = Projection::builder()
            .projection_type(ProjectionType::from(index.projection.as_str()))
            .set_non_key_attributes((!index.non_key_attributes.is_empty()).then(|| index.non_key_attributes.clone()))
            .build();
        indexes.push(
            GlobalSecondaryIndex::builder()
                .index_name(&index.name)
                .set_key_schema(Some(key_schema(&index.hash_key, index.range_key.as_ref(), &mut attributes)?))
                .projection(projection)
                .build()?,
        );
    }
    let definitions = attributes
        .iter()
        .map(|(name, kind)| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::from(kind.as_str()))
                .build()
        })
        .collect::<Result<Vec<_>, _>>()?;
    let created = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_key_schema(Some(schema))
        .set_attribute_definitions(Some(definitions))
        .set_global_secondary_indexes((!indexes.is_empty()).then_some(indexes))
        .send()
        .await;
    match created {
        Ok(_) => tracing::info!(table = name, "created table"),
        Err(error) if error.as_service_error().is_some_and(|e| e.is_resource_in_use_exception()) => {
            tracing::debug!(table = name, "table exists")
        }
        Err(error) => return Err(anyhow::Error::new(error).context(format!("creating table {name}"))),
    }
    if let Some(attribute) = &table.ttl_attribute {
        let ttl = TimeToLiveSpecification::builder().attribute_name(attribute).enabled(true).build()?;
        client.update_time_to_live().table_name(name).time_to_live_specification(ttl).send().await.ok();
    }
    Ok(())
}

/// The key schema of a table or index, noting each key attribute's type in `attributes`.
fn key_schema(
    hash: &KeyAttribute, range: Option<&KeyAttribute>, attributes: &mut BTreeMap<String, String>,
) -> anyhow::Result<Vec<KeySchemaElement>> {
    let mut schema = Vec::new();
    for (attribute, key_type) in std::iter::once((hash, KeyType::Hash)).chain(range.map(|r| (r, KeyType::Range))) {
        attributes.insert(attribute.name.clone(), attribute.kind.clone());
        schema.push(KeySchemaElement::builder().attribute_name(&attribute.name).key_type(key_type).build()?);
    }
    Ok(schema)
}

pub async fn topics(
    kafka: &KafkaConfig, definitions: &Path, replication: i32,
) -> anyhow::Result<weelo_kafka::TopicChanges> {
    weelo_kafka::ensure_topics(kafka, &load_topics(definitions)?, replication).await
}

/// The mappings' on-failure destinations (`<prefix><onFailure>`), as Terraform creates them in AWS:
/// an SQS queue for each of kind `sqs`, an S3 bucket for each of kind `s3`.
pub async fn on_failure_destinations(
    sqs: &aws_sdk_sqs::Client, s3: &aws_sdk_s3::Client, definitions: &Path, prefix: &str, region: &str,
) -> anyhow::Result<()> {
    let mappings = weelo_definitions::load_mappings(definitions)?;
    let destinations: std::collections::BTreeSet<(&str, OnFailureKind)> =
        mappings.iter().map(|m| (m.on_failure.as_str(), m.on_failure_kind)).collect();
    for (name, kind) in destinations {
        let name = format!("{prefix}{name}");
        match kind {
            // CreateQueue is idempotent for a queue with the same attributes.
            OnFailureKind::Sqs => {
                sqs.create_queue().queue_name(&name).send().await?;
            }
            OnFailureKind::S3 => bucket(s3, &name, region).await.with_context(|| format!("creating bucket {name}"))?,
        }
    }
    Ok(())
}

/// A bucket (idempotent: a bucket this account already owns is fine).
pub async fn bucket(client: &aws_sdk_s3::Client, name: &str, region: &str) -> anyhow::Result<()> {
    use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
    let location =
        CreateBucketConfiguration::builder().location_constraint(BucketLocationConstraint::from(region)).build();
    match client.create_bucket().bucket(name).create_bucket_configuration(location).send().await {
        Ok(_) => Ok(()),
        Err(error) if error.as_service_error().is_some_and(|e| e.is_bucket_already_owned_by_you()) => Ok(()),
        Err(error) => Err(anyhow::anyhow!(aws_sdk_s3::error::DisplayErrorContext(error).to_string())),
    }
}

/// The FCM platform application. Locally the credential is a placeholder: moto does not call FCM.
pub async fn platform_application(
    client: &aws_sdk_sns::Client, name: &str, credential: &str,
) -> anyhow::Result<String> {
    let output = client
        .create_platform_application()
        .name(name)
        .platform("GCM")
        .attributes("PlatformCredential", credential)
        .send()
        .await?;
    output.platform_application_arn.ok_or_else(|| anyhow::anyhow!("SNS returned no platform application ARN"))
}
