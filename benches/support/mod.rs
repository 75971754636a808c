//! What every benchmark needs from a `rudder sandbox`: start it on a free loopback port, talk
//! raw HTTP/1.1 to it, and stop it when the benchmark ends (also on a panic).

// Each benchmark is its own crate and uses only part of this module.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// A running `rudder sandbox`, killed on drop.
pub struct Sandbox {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub host: String,
    /// The kubeconfig the sandbox wrote for its clients.
    pub kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
}

impl Sandbox {
    /// Starts `EXE sandbox --listen 127.0.0.1:0 ARGS...` and waits for its ready line, which
    /// names the URL it listens on.
    pub fn start(exe: &str, args: &[&str]) -> Sandbox {
        let dir = tempfile::tempdir().expect("tempdir");
        let kubeconfig = dir.path().join("kubeconfig");
        let mut child = Command::new(exe)
            .args(["sandbox", "--listen", "127.0.0.1:0"])
            .args(args)
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start rudder sandbox");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("ready line");
        let host = line
            .split_whitespace()
            .nth(2)
            .and_then(|u| u.strip_prefix("http://"))
            .expect("ready line has the URL")
            .to_string();
        Sandbox {
            child,
            host,
            kubeconfig,
            _dir: dir,
        }
    }

    /// The sandbox's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One raw HTTP/1.1 request to the sandbox (control API or Kubernetes, `Connection: close`);
/// returns the body, de-chunked when the answer was chunked.
pub fn http(host: &str, method: &str, path: &str, body: &str) -> String {
    let mut stream = TcpStream::connect(host).expect("connect to the sandbox");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("send");
    stream.write_all(body.as_bytes()).expect("send");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    }
}

fn dechunk(mut data: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = data.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        data = rest[size..].trim_start_matches("\r\n");
    }
    out
}
