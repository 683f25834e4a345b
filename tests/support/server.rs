//! A running `imagebot serve` for end-to-end tests (tests/http.rs,
//! tests/browser.rs): the real binary on a free loopback port.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running `imagebot serve`, stopped when dropped.
pub struct Server {
    pub child: Child,
    /// Holds the triage database (`--db`), so tests never write elsewhere.
    pub dir: tempfile::TempDir,
    pub base: String,
    pub addr: String,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    pub fn start(extra: &[&str]) -> Server {
        Server::start_under(&[], extra)
    }

    /// Starts the server on a given address (to start it again on the same one).
    pub fn start_on(addr: &str, extra: &[&str]) -> Server {
        Server::spawn(&[], addr, extra)
    }

    /// Starts the server under a wrapper command (`prlimit --nofile=…`).
    pub fn start_under(wrapper: &[&str], extra: &[&str]) -> Server {
        Server::spawn(wrapper, "127.0.0.1:0", extra)
    }

    fn spawn(wrapper: &[&str], addr: &str, extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("triage.db");
        let bin = env!("CARGO_BIN_EXE_imagebot");
        let mut cmd = match wrapper.split_first() {
            Some((first, rest)) => {
                let mut c = Command::new(first);
                c.args(rest).arg(bin);
                c
            }
            None => Command::new(bin),
        };
        let mut child = cmd
            .args(["serve", "--addr", addr])
            .arg("--db")
            .arg(&db)
            .args(extra)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start imagebot serve");
        // Drain the log so the server never blocks on a full pipe.
        let stderr = drain(child.stderr.take().unwrap());
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the server says where it listens");
        let addr = line
            .trim()
            .strip_prefix("imagebot: listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        Server {
            child,
            dir,
            base: format!("http://{addr}"),
            addr,
            stderr,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn log(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "no exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads a child's stderr into a shared string on a thread of its own, so
/// the child never blocks on a full pipe and a test can read its log.
pub fn drain(mut err: std::process::ChildStderr) -> Arc<Mutex<String>> {
    let log = Arc::new(Mutex::new(String::new()));
    let buf = log.clone();
    std::thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        while let Ok(n) = err.read(&mut chunk) {
            if n == 0 {
                break;
            }
            buf.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&chunk[..n]));
        }
    });
    log
}
