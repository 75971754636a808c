//! `make bench`: renders each example chart in-process (load, compose values, render, sort) and
//! runs `rudder template` as a whole process, printing the median time of each. With `--corpus
//! DIR` it instead runs `rudder template NAME CHART -n NS -f values.yaml` for every case of the Helm
//! chart corpus and prints the ratio of Helm's fresh-process time (`DIR/timing.json`) to rudder's.
//!
//! With `--helm-python PYTHON` (a Python with `helm_python`, Helm 4's SDK) Helm's fresh process
//! is also timed now, on this machine, taking turns with rudder's runs, instead of read from
//! timing.json: on a machine whose speed drifts, only times taken together compare.
//!
//! Usage: render_bench [--rudder PATH] [--iterations N] [--processes N] CHART...
//!        render_bench --rudder PATH --corpus DIR [--processes N] [--helm-python PYTHON]

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
    let mut helm_python: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--rudder" => rudder = args.next().map(PathBuf::from),
            "--corpus" => corpus = args.next().map(PathBuf::from),
            "--helm-python" => helm_python = args.next().map(PathBuf::from),
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
        return bench_corpus(&rudder, &corpus, processes, helm_python.as_deref());
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
fn bench_corpus(
    rudder: &Path,
    corpus: &Path,
    processes: usize,
    helm_python: Option<&Path>,
) -> Result<(), String> {
    let mut ratios = Vec::new();
    let mut rudder_medians = Vec::new();
    let mut helm_times = Vec::new();
    let mut slower = Vec::new();
    println!(
        "{:<48} {:>10} {:>10} {:>8}",
        "corpus case (rudder template, whole process)",
        "rudder ms",
        if helm_python.is_some() {
            "helm now"
        } else {
            "helm ms"
        },
        "speedup"
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
        let mut helm_samples = Vec::new();
        for run in 0..processes {
            // Helm's process takes ten times rudder's: one in four runs keeps the bench short.
            if let (Some(python), 0) = (helm_python, run % 4) {
                helm_samples.push(helm_fresh_ms(python, &chart, &dir, name, namespace)?);
            }
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
        let helm_ms = if helm_samples.is_empty() {
            case.fresh_ms
        } else {
            helm_samples.sort_by(f64::total_cmp);
            helm_samples[helm_samples.len() / 2]
        };
        let ratio = helm_ms / ms;
        let label = format!("{}/{}", case.chart, case.case);
        println!("{label:<48} {ms:>10.2} {helm_ms:>10.1} {ratio:>7.1}x");
        if ratio < 1.0 {
            slower.push(label);
        }
        ratios.push(ratio);
        rudder_medians.push(ms);
        helm_times.push(helm_ms);
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

/// Helm's start-to-first-render time as timing.json defines it: from just before spawning a
/// Python that imports Helm's SDK, parses the values, loads the chart and renders it once, to the
/// end of that render, read on the system-wide monotonic clock by both processes.
fn helm_fresh_ms(
    python: &Path,
    chart: &Path,
    case: &Path,
    name: &str,
    namespace: &str,
) -> Result<f64, String> {
    const SCRIPT: &str = "import sys, time\n\
from helm_python import Chart, values_from_yaml\n\
chart, values, name, namespace = sys.argv[1:5]\n\
v = values_from_yaml(open(values).read())\n\
c = Chart.load(chart)\n\
try:\n    c.render(v, name=name, namespace=namespace, is_install=True)\n\
except Exception:\n    pass\n\
print(time.monotonic())\n";
    let start = monotonic_seconds();
    let out = Command::new(python)
        .args(["-c", SCRIPT])
        .arg(chart)
        .arg(case.join("values.yaml"))
        .args([name, namespace])
        .stderr(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    let end: f64 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|_| {
            format!(
                "{} printed no time: is helm_python installed?",
                python.display()
            )
        })?;
    Ok((end - start) * 1000.0)
}

/// CLOCK_MONOTONIC in seconds, the clock Python's `time.monotonic` reads.
fn monotonic_seconds() -> f64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes the timespec it is given.
    unsafe {
        libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now);
    }
    now.tv_sec as f64 + now.tv_nsec as f64 / 1e9
}
