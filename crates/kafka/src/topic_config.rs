//! Setting a topic's configuration keys with Kafka's `IncrementalAlterConfigs` (KIP-339), which
//! rust-rdkafka 0.39 does not wrap, through the librdkafka call it binds.
//!
//! The older `AlterConfigs`, which rust-rdkafka does wrap, replaces a topic's whole set of
//! overrides: setting one key means reading the others and sending them back. That read is
//! answered from a broker's copy of the cluster metadata, which can lag the controller, so an
//! override set moments earlier (by an operator, say) could be silently dropped; and a managed
//! cluster may refuse a key that can only be set at creation even when it is sent back unchanged.
//! `IncrementalAlterConfigs` names only the keys it sets (it is what `kafka-configs.sh --alter`
//! uses), so nothing else on the topic is touched.

use crate::KafkaContext;
use anyhow::{Context, anyhow, bail};
use rdkafka::admin::AdminClient;
use rdkafka::bindings as rd;
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;
use std::ffi::{CStr, CString, c_char};
use std::sync::Arc;
use std::time::Duration;

/// Sets each `(key, value)` on `topic`, leaving its other configuration as it is, and waits for
/// the controller's answer (at most `timeout`).
pub(crate) async fn set_topic_configs(
    admin: &Arc<AdminClient<KafkaContext>>, topic: &str, entries: &[(&str, &str)], timeout: Duration,
) -> anyhow::Result<()> {
    let topic = CString::new(topic).context("a topic name with a NUL byte")?;
    let entries = entries
        .iter()
        .map(|(key, value)| Ok((CString::new(*key)?, CString::new(*value)?)))
        .collect::<Result<Vec<_>, std::ffi::NulError>>()
        .context("a configuration entry with a NUL byte")?;
    let admin = Arc::clone(admin);
    // Waiting for the result blocks the calling thread (librdkafka's queue poll).
    tokio::task::spawn_blocking(move || alter_blocking(&admin, &topic, &entries, timeout)).await?
}

fn alter_blocking(
    admin: &AdminClient<KafkaContext>, topic: &CStr, entries: &[(CString, CString)], timeout: Duration,
) -> anyhow::Result<()> {
    let client = admin.inner().native_ptr();
    let timeout_ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
    // SAFETY: every pointer below is created here, checked for null, used only while its owner
    // (an `Owned` guard, or a `CString` borrowed for the whole call) is alive, and freed once
    // by that guard. librdkafka copies the resource and the options when the request is made,
    // and the client outlives the call because `admin` is borrowed for all of it.
    unsafe {
        let resource = topic_settings(topic, entries)?;
        let options = request_options(client, timeout_ms)?;
        let queue = Owned::new(rd::rd_kafka_queue_new(client), rd::rd_kafka_queue_destroy)?;
        let mut resources = [resource.0];
        rd::rd_kafka_IncrementalAlterConfigs(client, resources.as_mut_ptr(), resources.len(), options.0, queue.0);
        outcome(&queue, timeout_ms, timeout)
    }
}

/// The topic's resource with a SET of each entry.
///
/// # Safety
/// Only as [`alter_blocking`] calls it: `topic` and `entries` are borrowed for the whole call.
unsafe fn topic_settings(
    topic: &CStr, entries: &[(CString, CString)],
) -> anyhow::Result<Owned<rd::rd_kafka_ConfigResource_t>> {
    unsafe {
        let resource = Owned::new(
            rd::rd_kafka_ConfigResource_new(rd::rd_kafka_ResourceType_t::RD_KAFKA_RESOURCE_TOPIC, topic.as_ptr()),
            rd::rd_kafka_ConfigResource_destroy,
        )?;
        for (key, value) in entries {
            let error = rd::rd_kafka_ConfigResource_add_incremental_config(
                resource.0,
                key.as_ptr(),
                rd::rd_kafka_AlterConfigOpType_t::RD_KAFKA_ALTER_CONFIG_OP_TYPE_SET,
                value.as_ptr(),
            );
            if !error.is_null() {
                let message = text(rd::rd_kafka_error_string(error));
                rd::rd_kafka_error_destroy(error);
                bail!("setting {} on topic {}: {message}", key.to_string_lossy(), topic.to_string_lossy());
            }
        }
        Ok(resource)
    }
}

/// The request's options: IncrementalAlterConfigs with `timeout_ms`.
///
/// # Safety
/// `client` is the live client of an `AdminClient` borrowed for the whole call.
unsafe fn request_options(
    client: *mut rd::rd_kafka_t, timeout_ms: i32,
) -> anyhow::Result<Owned<rd::rd_kafka_AdminOptions_t>> {
    unsafe {
        let options = Owned::new(
            rd::rd_kafka_AdminOptions_new(client, rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_INCREMENTALALTERCONFIGS),
            rd::rd_kafka_AdminOptions_destroy,
        )?;
        let mut reason: [c_char; 512] = [0; 512];
        let code =
            rd::rd_kafka_AdminOptions_set_request_timeout(options.0, timeout_ms, reason.as_mut_ptr(), reason.len());
        if code != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
            bail!("setting the request timeout: {}", text(reason.as_ptr()));
        }
        Ok(options)
    }
}

/// Waits on `queue` for the request's answer and reads the topic's outcome from it.
///
/// # Safety
/// `queue` is the queue the request was made with, alive for the whole call.
unsafe fn outcome(queue: &Owned<rd::rd_kafka_queue_t>, timeout_ms: i32, timeout: Duration) -> anyhow::Result<()> {
    unsafe {
        // librdkafka answers on the queue by the request timeout; the margin covers its own
        // bookkeeping, so a missing event means the client is stuck rather than the broker slow.
        let event = rd::rd_kafka_queue_poll(queue.0, timeout_ms.saturating_add(5_000));
        let event = Owned::new(event, rd::rd_kafka_event_destroy)
            .map_err(|_| anyhow!("no answer to IncrementalAlterConfigs within {timeout:?} and 5 s more"))?;
        if rd::rd_kafka_event_type(event.0) != rd::RD_KAFKA_EVENT_INCREMENTALALTERCONFIGS_RESULT {
            bail!("librdkafka answered IncrementalAlterConfigs with another event");
        }
        let code = rd::rd_kafka_event_error(event.0);
        if code != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
            let detail = text(rd::rd_kafka_event_error_string(event.0));
            return Err(refusal(code, format!("IncrementalAlterConfigs failed: {detail}")));
        }
        let result = rd::rd_kafka_event_IncrementalAlterConfigs_result(event.0);
        let mut count = 0;
        let answered = rd::rd_kafka_IncrementalAlterConfigs_result_resources(result, &mut count);
        if answered.is_null() || count != 1 {
            bail!("IncrementalAlterConfigs answered for {count} resources, asked for 1");
        }
        let outcome = *answered;
        let code = rd::rd_kafka_ConfigResource_error(outcome);
        if code != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
            let detail = text(rd::rd_kafka_ConfigResource_error_string(outcome));
            return Err(refusal(code, format!("{} ({detail})", RDKafkaErrorCode::from(code))));
        }
        Ok(())
    }
}

/// A refusal with its code kept in the chain of causes (see `crate::access`).
fn refusal(code: rd::rd_kafka_resp_err_t, what: String) -> anyhow::Error {
    anyhow::Error::new(KafkaError::AdminOp(RDKafkaErrorCode::from(code))).context(what)
}

/// A librdkafka object freed by its destructor when dropped.
struct Owned<T>(*mut T, unsafe extern "C" fn(*mut T));

impl<T> Owned<T> {
    fn new(pointer: *mut T, destroy: unsafe extern "C" fn(*mut T)) -> anyhow::Result<Self> {
        if pointer.is_null() {
            bail!("librdkafka returned no object");
        }
        Ok(Self(pointer, destroy))
    }
}

impl<T> Drop for Owned<T> {
    fn drop(&mut self) {
        // SAFETY: the pointer is non-null, came from librdkafka with `destroy` as its matching
        // destructor, and is freed only here.
        unsafe { (self.1)(self.0) }
    }
}

/// A C string from librdkafka (borrowed, possibly null) as Rust text.
///
/// # Safety
/// `pointer` is null or points at a NUL-terminated string that lives for this call.
unsafe fn text(pointer: *const c_char) -> String {
    if pointer.is_null() {
        return String::new();
    }
    unsafe { CStr::from_ptr(pointer) }.to_string_lossy().into_owned()
}
