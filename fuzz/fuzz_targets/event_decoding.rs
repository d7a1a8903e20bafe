//! Any bytes as a Kafka record value reaching a consumer: decoding must give an event or a
//! DecodeError (the record is then dead-lettered), never panic; and an event that decodes must
//! survive being written again and read back unchanged (what a replay or a relay does).
#![no_main]

use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use weelo_core::contract::events::DomainEvent;

fuzz_target!(|value: &[u8]| {
    if let Ok((id, event)) = DomainEvent::from_payload(value) {
        let time = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
        let record = event.to_record(id, "/fuzz", time);
        let (again_id, again) = DomainEvent::from_payload(record.payload.as_bytes()).expect("a written event decodes");
        assert_eq!((again_id, again), (id, event));
    }
});
