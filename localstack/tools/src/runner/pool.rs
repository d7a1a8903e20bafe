//! One function's processes and invocations. Invocations wait in a queue; a process that polls the
//! Runtime API's `next` takes the oldest; processes are started while invocations wait and fewer
//! than `concurrency` run. Every invocation ends in exactly one [`Outcome`]: the function's answer,
//! its reported error, the exit of its process, or the timeout.

use super::process::{self, Exited};
use super::status::{FunctionStatus, InstanceStatus, Stats};
use super::{FunctionConfig, Host};
use bytes::Bytes;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime};
use tokio::sync::oneshot;
use tokio::task::AbortHandle;

pub type InstanceId = u32;

/// How an invocation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The function's answer.
    Response(Bytes),
    /// An error, as Lambda reports it (`X-Amz-Function-Error: Unhandled`): the function's own
    /// (`errorType` from its report), or Lambda's on its behalf (`Runtime.ExitError`, `Sandbox.Timedout`).
    Error { error_type: String, body: Bytes },
}

impl Outcome {
    /// The `errorType` of a failed invocation; `None` for an answer.
    pub fn failure(&self) -> Option<&str> {
        match self {
            Outcome::Response(_) => None,
            Outcome::Error { error_type, .. } => Some(error_type),
        }
    }

    /// An error Lambda reports on the function's behalf, in Lambda's shape.
    pub fn lambda_error(error_type: &str, request_id: &str, message: &str) -> Self {
        let body = serde_json::json!({
            "errorType": error_type,
            "errorMessage": format!("RequestId: {request_id} Error: {message}"),
        });
        Outcome::Error { error_type: error_type.to_owned(), body: Bytes::from(body.to_string()) }
    }
}

/// An invocation as a process receives it from `next`.
#[derive(Debug)]
pub struct Invocation {
    pub request_id: String,
    pub payload: Bytes,
    /// Milliseconds since the epoch (`Lambda-Runtime-Deadline-Ms`).
    pub deadline_ms: u64,
}

/// The instance is not (or no longer) one of this function's live processes.
#[derive(Debug, thiserror::Error)]
#[error("no such process of this function")]
pub struct Gone;

struct Pending {
    request_id: String,
    payload: Bytes,
    reply: oneshot::Sender<Outcome>,
}

struct InFlight {
    instance: InstanceId,
    reply: oneshot::Sender<Outcome>,
    timer: AbortHandle,
}

struct Instance {
    pid: u32,
    started: Instant,
    /// The binary's modification time when this process started: a newer one replaces it.
    built: Option<SystemTime>,
    /// The request it is running.
    busy: Option<String>,
    /// It has polled `next` at least once (its init is done).
    polled: bool,
    /// Being ended by us (timeout, rebuild, shutdown): its exit is expected.
    ending: bool,
    kill: Option<oneshot::Sender<()>>,
    invocations: u64,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Pending>,
    /// Processes waiting in `next`, with the channel that hands them an invocation.
    waiting: Vec<(InstanceId, oneshot::Sender<Invocation>)>,
    instances: BTreeMap<InstanceId, Instance>,
    in_flight: HashMap<String, InFlight>,
    last_instance: InstanceId,
    stats: Stats,
    /// The service is stopping: no process is started any more.
    stopping: bool,
}

pub struct Function {
    pub config: FunctionConfig,
    host: Arc<Host>,
    state: Mutex<State>,
}

impl Function {
    pub fn new(config: FunctionConfig, host: Arc<Host>) -> Arc<Self> {
        Arc::new(Self { config, host, state: Mutex::new(State::default()) })
    }

    /// Runs one invocation to its outcome.
    pub async fn invoke(self: &Arc<Self>, payload: Bytes) -> Outcome {
        let request_id = uuid::Uuid::new_v4().to_string();
        let (reply, answer) = oneshot::channel();
        {
            let mut state = self.lock();
            state.stats.invocations += 1;
            state.queue.push_back(Pending { request_id: request_id.clone(), payload, reply });
            self.dispatch(&mut state);
        }
        answer.await.unwrap_or_else(|_| Outcome::lambda_error("Runtime.Unknown", &request_id, "invocation dropped"))
    }

    /// `next` of the Runtime API: waits for the next invocation for process `instance`.
    pub async fn next(self: &Arc<Self>, instance: InstanceId) -> Result<Invocation, Gone> {
        let handed = {
            let mut state = self.lock();
            let stale = self.is_stale(state.instances.get(&instance).ok_or(Gone)?);
            let live = state.instances.get_mut(&instance).ok_or(Gone)?;
            live.polled = true;
            live.busy = None;
            if stale {
                self.end(&mut state, instance, "its binary was rebuilt");
                return Err(Gone);
            }
            let (tx, rx) = oneshot::channel();
            state.waiting.push((instance, tx));
            self.dispatch(&mut state);
            rx
        };
        handed.await.map_err(|_| Gone)
    }

    /// `response` or `error` of the Runtime API: process `instance` finished `request_id`.
    /// `false` if that request is no longer running there (it timed out meanwhile).
    pub fn complete(&self, instance: InstanceId, request_id: &str, outcome: Outcome) -> bool {
        let mut state = self.lock();
        if state.in_flight.get(request_id).is_none_or(|f| f.instance != instance) {
            return false;
        }
        let flight = state.in_flight.remove(request_id).expect("checked above");
        flight.timer.abort();
        if let Some(live) = state.instances.get_mut(&instance) {
            live.busy = None;
        }
        state.stats.record(outcome.failure());
        if let Outcome::Error { error_type, .. } = &outcome {
            self.host.logs.event(&self.config.name, &format!("WARN invocation {request_id} failed: {error_type}"));
        }
        let _ = flight.reply.send(outcome);
        true
    }

    /// `init/error` of the Runtime API: the process could not start; it exits next.
    pub fn init_failed(&self, instance: InstanceId, body: &[u8]) {
        let text = String::from_utf8_lossy(body);
        self.host.logs.event(&self.config.name, &format!("ERROR process #{instance} failed its init: {text}"));
    }

    /// Ends every process of the function, and starts none after: what waits, or comes, fails.
    pub fn end_all(&self) {
        let mut state = self.lock();
        state.stopping = true;
        self.fail_queued(&mut state);
        let ids: Vec<InstanceId> = state.instances.keys().copied().collect();
        for id in ids {
            self.end(&mut state, id, "the service is stopping");
        }
    }

    /// Whether none of its processes is left.
    pub fn ended(&self) -> bool {
        self.lock().instances.is_empty()
    }

    pub fn status(&self) -> FunctionStatus {
        let state = self.lock();
        FunctionStatus {
            name: self.config.name.clone(),
            timeout_seconds: self.config.timeout.as_secs_f64(),
            concurrency: self.config.concurrency,
            queued: state.queue.len(),
            instances: state
                .instances
                .iter()
                .map(|(id, i)| InstanceStatus {
                    id: *id,
                    pid: i.pid,
                    busy: i.busy.is_some(),
                    up_seconds: i.started.elapsed().as_secs_f64(),
                    invocations: i.invocations,
                })
                .collect(),
            stats: state.stats.clone(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Hands waiting invocations to waiting processes, then starts processes for what still waits.
    fn dispatch(self: &Arc<Self>, state: &mut State) {
        if state.stopping {
            self.fail_queued(state);
            return;
        }
        while !state.queue.is_empty() {
            let Some((instance, handoff)) = state.waiting.pop() else { break };
            if state.instances.get(&instance).is_none_or(|i| self.is_stale(i)) {
                self.end(state, instance, "its binary was rebuilt");
                continue;
            }
            let Pending { request_id, payload, reply } = state.queue.pop_front().expect("not empty");
            let deadline = SystemTime::now() + self.config.timeout;
            let deadline_ms = deadline.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().as_millis() as u64;
            let invocation = Invocation { request_id: request_id.clone(), payload: payload.clone(), deadline_ms };
            if handoff.send(invocation).is_err() {
                // That poll was abandoned (its connection closed): keep the invocation for another.
                state.queue.push_front(Pending { request_id, payload, reply });
                continue;
            }
            let timer = self.start_timer(request_id.clone());
            state.in_flight.insert(request_id.clone(), InFlight { instance, reply, timer });
            if let Some(live) = state.instances.get_mut(&instance) {
                live.busy = Some(request_id);
                live.invocations += 1;
            }
        }
        // Processes that will poll soon: starting, or between an answer and their next poll.
        let waiting: Vec<InstanceId> = state.waiting.iter().map(|(id, _)| *id).collect();
        let soon =
            state.instances.iter().filter(|(id, i)| i.busy.is_none() && !i.ending && !waiting.contains(id)).count();
        let mut to_start = state.queue.len().saturating_sub(soon);
        while to_start > 0 && state.instances.values().filter(|i| !i.ending).count() < self.config.concurrency {
            if let Err(error) = self.start(state) {
                let message = format!("could not start {}: {error}", self.config.binary.display());
                self.host.logs.event(&self.config.name, &format!("ERROR {message}"));
                self.fail_oldest(state, "Runtime.InvalidEntrypoint", &message);
                break;
            }
            to_start -= 1;
        }
    }

    fn start(self: &Arc<Self>, state: &mut State) -> std::io::Result<()> {
        state.last_instance += 1;
        let id = state.last_instance;
        let built = self.binary_built();
        let (kill, killed) = oneshot::channel();
        let pid = process::start(&self.config, id, &self.host, killed, {
            let function = self.clone();
            move |exited| function.exited(id, exited)
        })?;
        state.stats.starts += 1;
        state.instances.insert(
            id,
            Instance {
                pid,
                started: Instant::now(),
                built,
                busy: None,
                polled: false,
                ending: false,
                kill: Some(kill),
                invocations: 0,
            },
        );
        Ok(())
    }

    /// A process ended: the invocation it ran fails, and it is replaced if invocations wait.
    fn exited(self: &Arc<Self>, instance: InstanceId, exited: Exited) {
        let mut state = self.lock();
        let Some(gone) = state.instances.remove(&instance) else { return };
        state.waiting.retain(|(id, _)| *id != instance);
        if gone.ending {
            // Ended with an invocation running (the service is stopping): it is answered now.
            // (A timed-out one was answered already.)
            if let Some(request_id) = gone.busy {
                self.fail_in_flight(&mut state, &request_id, "Runtime.ExitError", "the service is stopping");
            }
        } else {
            state.stats.exits += 1;
            let message = format!("Runtime exited with error: {exited}");
            self.host
                .logs
                .event(&self.config.name, &format!("ERROR process #{instance} (pid {}) ended: {exited}", gone.pid));
            match gone.busy {
                Some(request_id) => self.fail_in_flight(&mut state, &request_id, "Runtime.ExitError", &message),
                // It died before it could take any invocation: fail one rather than restart it forever.
                None if !gone.polled => self.fail_oldest(&mut state, "Runtime.ExitError", &message),
                None => {}
            }
        }
        self.dispatch(&mut state);
    }

    /// The timer of `request_id` ran out: it fails, and the process running it is ended.
    fn timed_out(self: &Arc<Self>, request_id: &str) {
        let mut state = self.lock();
        let Some(instance) = state.in_flight.get(request_id).map(|f| f.instance) else { return };
        state.stats.timeouts += 1;
        let seconds = self.config.timeout.as_secs_f64();
        let message = format!("Task timed out after {seconds:.2} seconds");
        self.host.logs.event(&self.config.name, &format!("ERROR invocation {request_id}: {message}"));
        self.fail_in_flight(&mut state, request_id, "Sandbox.Timedout", &message);
        self.end(&mut state, instance, "its invocation timed out");
    }

    fn start_timer(self: &Arc<Self>, request_id: String) -> AbortHandle {
        let (function, timeout) = (self.clone(), self.config.timeout);
        tokio::spawn(async move {
            tokio::time::sleep(timeout).await;
            function.timed_out(&request_id);
        })
        .abort_handle()
    }

    fn fail_in_flight(&self, state: &mut State, request_id: &str, error_type: &str, message: &str) {
        if let Some(flight) = state.in_flight.remove(request_id) {
            flight.timer.abort();
            let outcome = Outcome::lambda_error(error_type, request_id, message);
            state.stats.record(outcome.failure());
            let _ = flight.reply.send(outcome);
        }
    }

    fn fail_queued(&self, state: &mut State) {
        while !state.queue.is_empty() {
            self.fail_oldest(state, "Runtime.ExitError", "the service is stopping");
        }
    }

    fn fail_oldest(&self, state: &mut State, error_type: &str, message: &str) {
        if let Some(pending) = state.queue.pop_front() {
            let outcome = Outcome::lambda_error(error_type, &pending.request_id, message);
            state.stats.record(outcome.failure());
            let _ = pending.reply.send(outcome);
        }
    }

    /// Ends process `instance` (its exit is then expected, not a failure).
    fn end(&self, state: &mut State, instance: InstanceId, why: &str) {
        state.waiting.retain(|(id, _)| *id != instance);
        if let Some(live) = state.instances.get_mut(&instance)
            && let Some(kill) = live.kill.take()
        {
            live.ending = true;
            tracing::debug!(function = %self.config.name, instance, why, "ending process");
            let _ = kill.send(());
        }
    }

    fn binary_built(&self) -> Option<SystemTime> {
        std::fs::metadata(&self.config.binary).and_then(|m| m.modified()).ok()
    }

    fn is_stale(&self, instance: &Instance) -> bool {
        instance.built.is_some() && self.binary_built().is_some_and(|now| Some(now) != instance.built)
    }
}
