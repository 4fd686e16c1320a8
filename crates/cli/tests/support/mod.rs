//! Helpers of the CLI's test binaries: run `qyzmet`, read its output, ask a running node over HTTP.
// Each test binary compiles this module and uses a part of it.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::process::{Command, Output};

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
