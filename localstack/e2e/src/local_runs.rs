//! The local runs as processes of a test's own: `make run` (`localstack/run.sh`) and a private
//! local Lambda service (`weelo-local functions`) with settings of its own; and what a service
//! reports of its processes.

use std::io::{BufRead, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use weelo_local::runner::ServiceStatus;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// `localstack/run.sh` on `port`, started as a person starts `make run`; stopped when dropped. What it prints is kept and copied to `.local/logs/<log name>`.
pub struct MakeRun {
    /// `None` once stopped.
    child: Option<Child>,
    pub output: Arc<Mutex<Vec<String>>>,
    pub base_url: String,
}

impl MakeRun {
    /// Starts it and returns once its banner is printed (everything is up), or fails the test.
    pub async fn start(port: u16, log_name: &str) -> Self {
        let mut child = Command::new("bash")
            .arg("localstack/run.sh")
            .current_dir(ROOT)
            .env("WEELO_RUN_PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .expect("starting localstack/run.sh");
        let output = Arc::new(Mutex::new(Vec::new()));
        let log = format!("{ROOT}/.local/logs/{log_name}");
        copy_lines(child.stdout.take().expect("stdout"), output.clone(), &log);
        copy_lines(child.stderr.take().expect("stderr"), output.clone(), &log);
        let run = Self { child: Some(child), output, base_url: format!("http://127.0.0.1:{port}/lambda-url/api") };
        let started = crate::eventually(600, async || run.printed("Weelo is running locally")).await;
        assert!(started, "make run did not start within 10 min (see .local/logs/{log_name})");
        run
    }

    /// Whether some line it printed contains `needle`.
    pub fn printed(&self, needle: &str) -> bool {
        self.output.lock().unwrap().iter().any(|line| line.contains(needle))
    }

    /// The lines it printed that contain `needle`.
    pub fn lines_with(&self, needle: &str) -> Vec<String> {
        self.output.lock().unwrap().iter().filter(|line| line.contains(needle)).cloned().collect()
    }
}

impl MakeRun {
    /// Stops it as Ctrl-C would: TERM to its process group, which `run.sh` traps to stop what it
    /// started (TERM, not INT: a shell started in the background ignores SIGINT, and so would
    /// this one then). Returns whether it stopped everything it started by itself; what is still
    /// running then is stopped here.
    pub fn stop(&mut self) -> bool {
        let Some(mut child) = self.child.take() else { return true };
        let group = format!("-{}", child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let ended = (0..60).any(|_| {
            std::thread::sleep(Duration::from_millis(500));
            child.try_wait().ok().flatten().is_some()
        });
        if !ended {
            let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
            let _ = child.wait();
        }
        let mut clean = ended;
        for name in ["demo-driver", "relay-schedule", "deadline-schedule", "bridge", "functions"] {
            let pid_file = format!("{ROOT}/.local/pids/{name}.pid");
            if let Ok(pid) = std::fs::read_to_string(&pid_file) {
                clean = false;
                let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", pid.trim())]).status();
                let _ = std::fs::remove_file(pid_file);
            }
        }
        clean
    }
}

impl Drop for MakeRun {
    fn drop(&mut self) {
        self.stop();
    }
}

fn copy_lines(stream: impl std::io::Read + Send + 'static, lines: Arc<Mutex<Vec<String>>>, log: &str) {
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(log).ok();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stream).lines().map_while(Result::ok) {
            if let Some(file) = file.as_mut() {
                let _ = writeln!(file, "{line}");
            }
            lines.lock().unwrap().push(line);
        }
    });
}

/// A `weelo-local functions` of a test's own on `port`, with the local stack's environment changed
/// by `env` and more `args` (e.g. `--timeout fcm-consumer=2`); ended when dropped.
pub struct PrivateFunctions {
    child: Child,
    pub url: String,
    /// Its log: every line its function processes printed.
    pub log: String,
}

impl PrivateFunctions {
    pub async fn start(port: u16, env: &[(&str, String)], args: &[&str]) -> Self {
        let binary = std::env::var("WEELO_LOCAL_BIN").expect("WEELO_LOCAL_BIN (set by localstack/e2e.sh)");
        let stack_env = std::fs::read_to_string(format!("{ROOT}/.local/stack.env")).expect(".local/stack.env");
        let mut lines: Vec<String> = stack_env
            .lines()
            .filter(|line| !env.iter().any(|(key, _)| line.starts_with(&format!("{key}="))))
            .map(str::to_owned)
            .collect();
        lines.extend(env.iter().map(|(key, value)| format!("{key}={value}")));
        let env_file = format!("{ROOT}/.local/e2e-functions-{port}.env");
        std::fs::write(&env_file, lines.join("\n")).expect("writing the env file");
        let log_path = format!("{ROOT}/.local/logs/e2e-functions-{port}.log");
        let log = std::fs::File::create(&log_path).expect("a log file");
        let bin_dir = std::path::Path::new(&binary).parent().expect("the binaries' folder").to_owned();
        let child = Command::new(&binary)
            .current_dir(ROOT)
            .args(["functions", "--port", &port.to_string(), "--env-file", &env_file])
            .arg("--bin-dir")
            .arg(bin_dir)
            .args(args)
            .stdout(log.try_clone().expect("the log file"))
            .stderr(log)
            .spawn()
            .expect("starting weelo-local functions");
        let service = Self { child, url: format!("http://127.0.0.1:{port}"), log: log_path };
        let up =
            crate::eventually(60, async || reqwest::get(format!("{}/_weelo/status", service.url)).await.is_ok()).await;
        assert!(up, "weelo-local functions did not answer on port {port}");
        service
    }
}

impl Drop for PrivateFunctions {
    fn drop(&mut self) {
        // SIGTERM: the service ends its function processes before it exits.
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }
}

/// What the local Lambda service at `url` (`http://127.0.0.1:<port>`) reports.
pub async fn functions_status(url: &str) -> ServiceStatus {
    let response = reqwest::get(format!("{url}/_weelo/status")).await.expect("the service answers");
    response.json().await.expect("a status document")
}

/// Kills every process of `function` in the service at `url` outright (SIGKILL), as a crash
/// would; returns how many there were.
pub async fn kill_processes(url: &str, function: &str) -> usize {
    let status = functions_status(url).await;
    let pids: Vec<u32> = status
        .functions
        .iter()
        .filter(|f| f.name == function)
        .flat_map(|f| f.instances.iter().map(|i| i.pid))
        .collect();
    for pid in &pids {
        let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
    }
    pids.len()
}
