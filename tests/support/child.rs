//! The real binary as a child process whose stderr is watched line by line while it runs:
//! to act when `--wait` says it is waiting (put an object, press Ctrl-C).

#![allow(dead_code, reason = "each user takes what it needs")]
#![allow(clippy::unwrap_used, reason = "test support fails loudly")]

use std::io::{BufRead as _, Read as _};
use std::process::{Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// No test waits longer than this for a line or an exit.
const PATIENCE: Duration = Duration::from_mins(1);

pub struct Child {
    process: std::process::Child,
    lines: Receiver<String>,
    stderr: Vec<String>,
    stdout: std::thread::JoinHandle<Vec<u8>>,
}

impl Child {
    pub fn spawn(mut command: Command) -> Self {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (sender, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let mut out = child.stdout.take().unwrap();
        let stdout = std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = out.read_to_end(&mut bytes);
            bytes
        });
        Self {
            process: child,
            lines,
            stderr: Vec::new(),
            stdout,
        }
    }

    /// Waits until stderr has a line containing `text`; fails with stderr if it never comes.
    pub fn wait_for(&mut self, text: &str) {
        let deadline = Instant::now() + PATIENCE;
        let mut found = self.stderr.iter().any(|l| l.contains(text));
        while !found {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    found = line.contains(text);
                    self.stderr.push(line);
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
            }
        }
        if !found {
            let _ = self.process.kill();
        }
        assert!(
            found,
            "no line with {text:?} on stderr:\n{}",
            self.stderr.join("\n")
        );
    }

    /// Sends SIGINT, as Ctrl-C does.
    pub fn interrupt(&self) {
        let sent = Command::new("kill")
            .args(["-INT", &self.process.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    }

    /// Waits for the exit: its code, all of stderr, and stdout.
    pub fn finish(mut self) -> (Option<i32>, String, Vec<u8>) {
        let deadline = Instant::now() + PATIENCE;
        let mut status = self.process.try_wait().unwrap();
        while status.is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
            status = self.process.try_wait().unwrap();
        }
        if status.is_none() {
            let _ = self.process.kill();
        }
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.stderr.push(line);
        }
        let stderr = self.stderr.join("\n");
        assert!(status.is_some(), "did not exit:\n{stderr}");
        let stdout = self.stdout.join().unwrap();
        (status.unwrap().code(), stderr, stdout)
    }
}
