//! `make bench`: renders each example chart in-process (load, compose values, render, sort) and
//! runs `rudder template` as a whole process, printing the median time of each.
//!
//! Usage: render_bench [--rudder PATH] [--iterations N] [--processes N] CHART...

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rudder::release::template::template;
use rudder::render::{Capabilities, ReleaseInfo, RenderOptions};
use rudder::values::ValuesInputs;

fn median(mut samples: Vec<Duration>) -> f64 {
    samples.sort();
    samples[samples.len() / 2].as_secs_f64() * 1000.0
}

fn main() -> Result<(), String> {
    let mut rudder: Option<PathBuf> = None;
    let mut iterations = 1000;
    let mut processes = 50;
    let mut charts = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--rudder" => rudder = args.next().map(PathBuf::from),
            "--iterations" => {
                iterations = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(iterations)
            }
            "--processes" => {
                processes = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(processes)
            }
            _ => charts.push(PathBuf::from(arg)),
        }
    }
    let options = RenderOptions {
        release: ReleaseInfo {
            name: "bench".to_string(),
            namespace: "default".to_string(),
            revision: 1,
            is_install: true,
            is_upgrade: false,
        },
        capabilities: Capabilities::default(),
        env: Some("prod".to_string()),
        lookup: None,
    };
    let inputs = ValuesInputs {
        env: Some("prod".to_string()),
        ..Default::default()
    };
    for chart in &charts {
        let mut samples = Vec::with_capacity(iterations);
        let mut documents = 0;
        for _ in 0..iterations {
            let start = Instant::now();
            let templated = template(chart, &inputs, &options).map_err(|e| e.to_string())?;
            samples.push(start.elapsed());
            documents = templated.sorted.manifests.len();
        }
        println!(
            "in-process  {:<14} --env prod  {documents} documents  median {:.3} ms over {iterations} renders",
            chart.display(),
            median(samples)
        );
    }
    if let Some(rudder) = rudder {
        for chart in &charts {
            let mut samples = Vec::with_capacity(processes);
            for _ in 0..processes {
                let start = Instant::now();
                let status = Command::new(&rudder)
                    .arg("template")
                    .arg(chart)
                    .args(["--env", "prod"])
                    .stdout(Stdio::null())
                    .status()
                    .map_err(|e| format!("cannot run {}: {e}", rudder.display()))?;
                samples.push(start.elapsed());
                if !status.success() {
                    return Err(format!("rudder template {} failed", chart.display()));
                }
            }
            println!(
                "process     {:<14} --env prod  rudder template  median {:.3} ms over {processes} runs",
                chart.display(),
                median(samples)
            );
        }
    }
    Ok(())
}
