use super::*;

#[test]
fn an_aws_destination_record_names_every_offset_of_the_failed_batch_for_its_function() {
    // GIVEN what Lambda sends to an MSK mapping's SQS destination (shape from the Lambda guide)
    let body = r#"{
        "requestContext": {"requestId": "316aa6d0", "functionArn": "arn:aws:lambda:ap-south-1:123456789012:function:weelo-prod-fcm-consumer:$LATEST",
                           "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 4},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0", "timestamp": "2026-11-14T00:38:06.021Z",
        "KafkaBatchInfo": {"batchSize": 5, "eventSourceArn": "arn:aws:kafka:ap-south-1:123456789012:cluster/weelo/x",
                           "bootstrapServers": "b-1:9098", "payloadSize": 2039,
                           "recordsInfo": {"notification.fcm-0": {"firstRecordOffset": "40", "lastRecordOffset": "42",
                                                                 "firstRecordTimestamp": "2026-11-14T00:38:04.835Z", "lastRecordTimestamp": "2026-11-14T00:38:05.580Z"},
                                           "notification.fcm-11": {"firstRecordOffset": "7", "lastRecordOffset": "8",
                                                                  "firstRecordTimestamp": "2026-11-14T00:38:04.835Z", "lastRecordTimestamp": "2026-11-14T00:38:05.580Z"}}}
    }"#;

    // WHEN it is read
    let letter = Letter::parse(body).unwrap();

    // THEN it goes back to the function the ARN names, for offsets 40..=42 and 7..=8
    assert_eq!(letter.function, "weelo-prod-fcm-consumer");
    assert_eq!(letter.error, "RetryAttemptsExhausted");
    assert!(letter.carried.is_empty());
    assert_eq!(
        letter.ranges,
        vec![
            ("notification.fcm".to_owned(), PartitionRange { partition: 0, start: 40, end: 43 }),
            ("notification.fcm".to_owned(), PartitionRange { partition: 11, start: 7, end: 9 }),
        ]
    );
}

#[test]
fn an_s3_destination_record_carries_its_whole_batch_in_the_payload() {
    // GIVEN what Lambda writes to an MSK mapping's S3 destination: the metadata and the event
    let record = ConsumedRecord {
        topic: "order.events".into(),
        partition: 2,
        offset: 70,
        timestamp_ms: 1_800_000_000_000,
        key: Some(b"order-1".to_vec()),
        value: Some(br#"{"id":"e1"}"#.to_vec()),
        headers: vec![("h".into(), vec![1])],
    };
    let event =
        weelo_msk::encode("arn:aws:kafka:ap-south-1:123456789012:cluster/weelo/x", None, std::slice::from_ref(&record));
    let body = serde_json::json!({
        "requestContext": {"requestId": "r", "functionArn": "arn:aws:lambda:ap-south-1:123456789012:function:weelo-prod-audit-consumer",
                           "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 11},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0", "timestamp": "2027-01-15T08:00:01.000Z",
        "KafkaBatchInfo": {"batchSize": 1, "eventSourceArn": "arn:aws:kafka:ap-south-1:123456789012:cluster/weelo/x",
                           "bootstrapServers": "b-1:9098", "payloadSize": 1,
                           "recordsInfo": {"order.events-2": {"firstRecordOffset": "70", "lastRecordOffset": "70",
                               "firstRecordTimestamp": "2027-01-15T08:00:00.000Z", "lastRecordTimestamp": "2027-01-15T08:00:00.000Z"}}},
        "payload": serde_json::to_string(&event).unwrap(),
    });

    // WHEN it is read
    let letter = Letter::parse(&body.to_string()).unwrap();

    // THEN its records come from the payload, byte for byte, and nothing is read back from Kafka
    assert_eq!(letter.function, "weelo-prod-audit-consumer");
    assert_eq!(letter.carried, vec![record]);
    assert!(letter.ranges.is_empty());
    assert_eq!(letter.first(), ("order.events".to_owned(), 70));
}

#[test]
fn an_s3_record_whose_payload_is_not_a_kafka_event_is_refused() {
    for payload in ["not json", r#"{"eventSource":"aws:kafka","records":{}}"#] {
        let body = serde_json::json!({
            "requestContext": {"functionArn": "arn:aws:lambda:r:1:function:f", "condition": "RetryAttemptsExhausted"},
            "KafkaBatchInfo": {"recordsInfo": {"t-0": {"firstRecordOffset": "1", "lastRecordOffset": "1"}}},
            "payload": payload,
        });
        assert!(Letter::parse(&body.to_string()).is_err(), "{payload}");
    }
}

#[test]
fn a_bridge_letter_carries_its_record_unless_it_was_too_big() {
    let carried = r#"{"function":"fcm-consumer","topic":"notification.fcm","partition":3,"offset":9,
                      "key":"aw==","value":"dg==","error":"boom","failedAt":"2026-11-26T00:00:00Z"}"#;
    let letter = Letter::parse(carried).unwrap();
    let record = ConsumedRecord {
        topic: "notification.fcm".into(),
        partition: 3,
        offset: 9,
        timestamp_ms: 0,
        key: Some(b"k".to_vec()),
        value: Some(b"v".to_vec()),
        headers: vec![],
    };
    assert_eq!(letter.carried, vec![record]);
    assert!(letter.ranges.is_empty());

    let named = r#"{"function":"fcm-consumer","topic":"notification.fcm","partition":3,"offset":9,
                    "key":null,"value":null,"valueBytes":300000,"error":"boom","failedAt":"2026-11-26T00:00:00Z"}"#;
    let letter = Letter::parse(named).unwrap();
    assert_eq!(letter.ranges, vec![("notification.fcm".into(), PartitionRange { partition: 3, start: 9, end: 10 })]);
}

#[test]
fn anything_else_is_refused_with_a_reason() {
    for body in [
        "not json",
        "{}",
        r#"{"requestContext":{"functionArn":"arn:aws:lambda:r:1:function:f","condition":"x"},"KafkaBatchInfo":{"recordsInfo":{}}}"#,
        r#"{"requestContext":{"functionArn":"arn:aws:lambda:r:1:function:f","condition":"x"},"KafkaBatchInfo":{"recordsInfo":{"t-0":{"firstRecordOffset":"9","lastRecordOffset":"3"}}}}"#,
    ] {
        assert!(Letter::parse(body).is_err(), "{body}");
    }
}
