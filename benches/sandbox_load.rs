//! `make bench`: load on `rudder sandbox` over loopback HTTP/1.1 keep-alive connections.
//!
//! Reports GETs per second and server-side-apply PATCHes per second with 8 concurrent clients,
//! and the sandbox's resident memory holding 10,000 ConfigMaps. Numbers, not assertions.

use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader as AsyncBufReader};
use tokio::net::TcpStream;

mod support;
use support::Sandbox;

const CLIENTS: usize = 8;
const OBJECTS: usize = 10_000;
const PHASE: Duration = Duration::from_secs(5);

/// One keep-alive HTTP/1.1 connection.
struct Connection {
    stream: AsyncBufReader<TcpStream>,
    host: String,
}

impl Connection {
    async fn open(host: &str) -> Connection {
        let stream = TcpStream::connect(host)
            .await
            .expect("connect to the sandbox");
        stream.set_nodelay(true).ok();
        Connection {
            stream: AsyncBufReader::new(stream),
            host: host.to_string(),
        }
    }

    /// Sends a request and returns the status code (the body is read and dropped).
    async fn send(&mut self, method: &str, path: &str, content_type: &str, body: &[u8]) -> u16 {
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: sandbox-bench/1\r\nAccept: application/json\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            self.host,
            body.len()
        );
        let s = self.stream.get_mut();
        s.write_all(head.as_bytes()).await.expect("write head");
        s.write_all(body).await.expect("write body");
        let mut line = String::new();
        self.stream.read_line(&mut line).await.expect("status line");
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let mut length = 0usize;
        loop {
            line.clear();
            self.stream.read_line(&mut line).await.expect("header");
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0u8; length];
        self.stream.read_exact(&mut body).await.expect("body");
        status
    }
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

fn config_map(i: usize, value: usize) -> String {
    format!(
        r#"{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"cm-{i:05}","labels":{{"app":"bench","shard":"s{}"}}}},"data":{{"key":"value-{value}","config.yaml":"replicas: 3\nimage: nginx:1.27\nfeatures: [a, b, c]\n"}}}}"#,
        i % 16
    )
}

async fn run_phase<F, Fut>(host: &str, work: F) -> (usize, usize)
where
    F: Fn(Connection, usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = (usize, usize)> + Send,
{
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let conn = Connection::open(host).await;
        let work = work.clone();
        tasks.push(tokio::spawn(async move { work(conn, c).await }));
    }
    let mut ok = 0;
    let mut failed = 0;
    for t in tasks {
        let (o, f) = t.await.expect("client task");
        ok += o;
        failed += f;
    }
    (ok, failed)
}

fn main() {
    let exe = env!("CARGO_BIN_EXE_rudder");
    let sandbox = Sandbox::start(exe, &[]);
    let (host, pid) = (sandbox.host.clone(), sandbox.pid());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let idle_rss = rss_kib(pid);
    runtime.block_on(async {
        let started = Instant::now();
        let (created, failed) = run_phase(&host, |mut conn, c| async move {
            let (mut ok, mut bad) = (0, 0);
            for i in (c..OBJECTS).step_by(CLIENTS) {
                let status = conn
                    .send(
                        "POST",
                        "/api/v1/namespaces/default/configmaps",
                        "application/json",
                        config_map(i, 0).as_bytes(),
                    )
                    .await;
                if status == 201 {
                    ok += 1
                } else {
                    bad += 1
                }
            }
            (ok, bad)
        })
        .await;
        let took = started.elapsed();
        println!(
            "create:  {created} ConfigMaps in {:.2}s ({:.0}/s, {failed} failed)",
            took.as_secs_f64(),
            created as f64 / took.as_secs_f64()
        );
        println!(
            "memory:  {} MiB RSS holding {created} objects (idle: {} MiB)",
            rss_kib(pid) / 1024,
            idle_rss / 1024
        );

        let started = Instant::now();
        let (gets, failed) = run_phase(&host, move |mut conn, c| async move {
            let (mut ok, mut bad) = (0, 0);
            let mut i = c * 997;
            while started.elapsed() < PHASE {
                i = (i + 7919) % OBJECTS;
                let path = format!("/api/v1/namespaces/default/configmaps/cm-{i:05}");
                if conn.send("GET", &path, "application/json", b"").await == 200 {
                    ok += 1
                } else {
                    bad += 1
                }
            }
            (ok, bad)
        })
        .await;
        let took = started.elapsed().as_secs_f64();
        println!(
            "get:     {:.0} GET/s with {CLIENTS} clients ({failed} failed)",
            gets as f64 / took
        );

        let started = Instant::now();
        let (applies, failed) = run_phase(&host, move |mut conn, c| async move {
            let (mut ok, mut bad) = (0, 0);
            let mut round = 0;
            while started.elapsed() < PHASE {
                round += 1;
                let i = (c + round * CLIENTS) % OBJECTS;
                let path = format!(
                    "/api/v1/namespaces/default/configmaps/cm-{i:05}?fieldManager=bench&force=true"
                );
                let body = config_map(i, round);
                if conn
                    .send(
                        "PATCH",
                        &path,
                        "application/apply-patch+yaml",
                        body.as_bytes(),
                    )
                    .await
                    == 200
                {
                    ok += 1
                } else {
                    bad += 1
                }
            }
            (ok, bad)
        })
        .await;
        let took = started.elapsed().as_secs_f64();
        println!(
            "apply:   {:.0} SSA PATCH/s with {CLIENTS} clients ({failed} failed)",
            applies as f64 / took
        );
        println!("memory:  {} MiB RSS after the runs", rss_kib(pid) / 1024);
    });
    drop(sandbox);
}
