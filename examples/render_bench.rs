//! `make bench`: renders each example chart in-process (load, compose values, render, sort) and
//! runs `rudder template` as a whole process, printing the median time of each. With `--corpus
//! DIR` it instead runs `rudder template NAME CHART -n NS -f values.yaml` for every case of the Helm
//! chart corpus and prints the ratio of Helm's fresh-process time (`DIR/timing.json`) to rudder's.
//!
//! Usage: render_bench [--rudder PATH] [--iterations N] [--processes N] CHART...
//!        render_bench --rudder PATH --corpus DIR [--processes N]

use std::path::{Path, PathBuf};
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
    let mut corpus: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--rudder" => rudder = args.next().map(PathBuf::from),
            "--corpus" => corpus = args.next().map(PathBuf::from),
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
    if let Some(corpus) = corpus {
        let rudder = rudder.ok_or("--corpus needs --rudder PATH")?;
        return bench_corpus(&rudder, &corpus, processes);
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

/// Helm's fresh-process time of one corpus case: from spawning the process to the end of its
/// first render (timing.json's `start_to_first_render`).
struct HelmCase {
    chart: String,
    case: String,
    fresh_ms: f64,
}

fn helm_cases(corpus: &Path) -> Result<Vec<HelmCase>, String> {
    let path = corpus.join("timing.json");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let timing: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let cases = timing["cases"]
        .as_array()
        .ok_or_else(|| format!("{}: no cases", path.display()))?;
    Ok(cases
        .iter()
        .filter_map(|c| {
            Some(HelmCase {
                chart: c["chart"].as_str()?.to_string(),
                case: c["case"].as_str()?.to_string(),
                fresh_ms: c["fresh_process_ms"]["start_to_first_render"].as_f64()?,
            })
        })
        .collect())
}

/// Runs every corpus case `processes` times as a whole `rudder template` process and prints the
/// median per case, the ratio Helm/rudder, and the median over cases. Cases Helm renders with an
/// error by design (`expected_error.json`) are timed too: rudder must fail as fast.
fn bench_corpus(rudder: &Path, corpus: &Path, processes: usize) -> Result<(), String> {
    let mut ratios = Vec::new();
    let mut rudder_medians = Vec::new();
    let mut helm_times = Vec::new();
    let mut slower = Vec::new();
    println!(
        "{:<48} {:>10} {:>10} {:>8}",
        "corpus case (rudder template, whole process)", "rudder ms", "helm ms", "speedup"
    );
    for case in helm_cases(corpus)? {
        let dir = corpus.join("cases").join(&case.chart).join(&case.case);
        let Ok(release) = std::fs::read_to_string(dir.join("release.json")) else {
            continue;
        };
        let release: serde_json::Value =
            serde_json::from_str(&release).map_err(|e| format!("{}: {e}", dir.display()))?;
        let name = release["name"].as_str().unwrap_or("release-name");
        let namespace = release["namespace"].as_str().unwrap_or("default");
        let chart = corpus.join("charts").join(&case.chart);
        let mut samples = Vec::with_capacity(processes);
        for _ in 0..processes {
            let start = Instant::now();
            Command::new(rudder)
                .arg("template")
                .arg(name)
                .arg(&chart)
                .args(["-n", namespace, "-f"])
                .arg(dir.join("values.yaml"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .map_err(|e| format!("cannot run {}: {e}", rudder.display()))?;
            samples.push(start.elapsed());
        }
        let ms = median(samples);
        let ratio = case.fresh_ms / ms;
        let label = format!("{}/{}", case.chart, case.case);
        println!(
            "{label:<48} {ms:>10.2} {:>10.1} {ratio:>7.1}x",
            case.fresh_ms
        );
        if ratio < 1.0 {
            slower.push(label);
        }
        ratios.push(ratio);
        rudder_medians.push(ms);
        helm_times.push(case.fresh_ms);
    }
    if ratios.is_empty() {
        return Err(format!("no cases found in {}", corpus.display()));
    }
    let mid = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let worst = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    println!(
        "corpus: {} cases, median rudder {:.2} ms vs Helm {:.1} ms fresh; median speedup {:.1}x, worst {:.1}x{}",
        ratios.len(),
        mid(rudder_medians),
        mid(helm_times),
        mid(ratios),
        worst,
        if slower.is_empty() {
            String::new()
        } else {
            format!("; slower than Helm: {}", slower.join(", "))
        }
    );
    Ok(())
}
