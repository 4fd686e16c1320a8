//! Helpers of the CLI's test binaries: run `qyzmet`, read its output, ask a running node over HTTP.
// Each test binary compiles this module and uses a part of it.
#![allow(dead_code)]

pub mod browser;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Output, Stdio};

/// Runs `qyzmet` without the environment's database URL (tests choose their database).
pub fn qyzmet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_qyzmet"))
        .args(args)
        .env_remove("QYZMET_DATABASE_URL")
        .output()
        .expect("run qyzmet")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A plain HTTP/1.1 GET with `Accept-Language`; the whole reply, head and body.
pub fn http_get(address: &str, path: &str, lang: &str) -> String {
    let mut stream = std::net::TcpStream::connect(address).expect("connect");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nAccept-Language: {lang}\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut reply = String::new();
    stream.read_to_string(&mut reply).expect("read");
    reply
}

/// A running `qyzmet serve`, stopped when dropped (also when a test fails).
pub struct Serving {
    child: Child,
    /// The first line it printed ("Qyzmet on … serving http://ADDRESS…").
    pub line: String,
    pub address: String,
}

impl Serving {
    /// The process id of the node.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Starts `qyzmet serve` with `args` (the command's environment as given) and waits for its
    /// first line.
    pub fn start(command: &mut Command) -> Serving {
        let mut child = command
            .env_remove("QYZMET_DATABASE_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start serve");
        let line = BufReader::new(child.stdout.take().expect("stdout"))
            .lines()
            .next()
            .expect("a line")
            .expect("line");
        let address = line
            .rsplit("http://")
            .next()
            .expect("address")
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned();
        Serving {
            child,
            line,
            address,
        }
    }

    pub fn get(&self, path: &str) -> String {
        http_get(&self.address, path, "kk")
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
