//! The sandbox's clock: the simulated controllers' timers (rollouts, progress deadlines, Job
//! back-off, garbage collection) sleep on it, and `POST /sandbox/clock` moves it forward so a
//! test sees a deadline pass without waiting for it.
//!
//! Cluster time is the time spec fields count in (`progressDeadlineSeconds`); timers run that
//! time multiplied by `--time-scale`. Advancing the clock by a cluster duration moves every timer
//! forward by the same scaled amount, so advancing by a Deployment's `progressDeadlineSeconds`
//! makes its deadline pass whatever the scale.

use std::sync::Mutex;
use std::time::Duration;

use http::Method;
use serde_json::{json, Value};
use tokio::sync::watch;
use tokio::time::Instant;

use super::http::ApiRequest;
use super::status::ApiError;

/// A clock that runs with real time plus whatever it was advanced by.
#[derive(Debug)]
pub struct Clock {
    /// Factor from cluster time to timer time.
    scale: f64,
    /// How far the clock was advanced, in timer time.
    offset: Mutex<Duration>,
    /// Wakes sleepers when the clock is advanced.
    advanced: watch::Sender<Duration>,
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new(1.0)
    }
}

impl Clock {
    /// A clock whose timers run cluster durations multiplied by `scale` (`--time-scale`).
    pub fn new(scale: f64) -> Self {
        let scale = if scale.is_finite() && scale >= 0.0 {
            scale
        } else {
            1.0
        };
        Clock {
            scale,
            offset: Mutex::new(Duration::ZERO),
            advanced: watch::Sender::new(Duration::ZERO),
        }
    }

    /// The time a cluster duration (such as `progressDeadlineSeconds`) takes on this clock.
    pub fn scaled(&self, cluster_seconds: f64) -> Duration {
        Duration::try_from_secs_f64(cluster_seconds * self.scale).unwrap_or(Duration::ZERO)
    }

    fn offset(&self) -> Duration {
        *self.offset.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Now, on this clock.
    pub fn now(&self) -> Instant {
        Instant::now() + self.offset()
    }

    /// Sleeps until `duration` has passed on this clock (sooner when it is advanced).
    pub async fn sleep(&self, duration: Duration) {
        self.sleep_until(self.now() + duration).await;
    }

    /// Sleeps until this clock reads `deadline` (an instant from [`Clock::now`]).
    pub async fn sleep_until(&self, deadline: Instant) {
        let mut advanced = self.advanced.subscribe();
        loop {
            let now = self.now();
            if now >= deadline {
                return;
            }
            tokio::select! {
                _ = tokio::time::sleep(deadline - now) => {}
                changed = advanced.changed() => {
                    if changed.is_err() {
                        tokio::time::sleep(deadline.saturating_duration_since(self.now())).await;
                        return;
                    }
                }
            }
        }
    }

    /// Moves the clock forward by a cluster duration; returns the total advance in cluster
    /// seconds.
    pub fn advance(&self, cluster: Duration) -> f64 {
        let step = self.scaled(cluster.as_secs_f64());
        let total = {
            let mut offset = self.offset.lock().unwrap_or_else(|e| e.into_inner());
            *offset += step;
            *offset
        };
        self.advanced.send_replace(total);
        self.cluster_seconds(total)
    }

    fn cluster_seconds(&self, timer: Duration) -> f64 {
        if self.scale == 0.0 {
            0.0
        } else {
            timer.as_secs_f64() / self.scale
        }
    }

    /// Answers `GET` and `POST /sandbox/clock` (body `{"advance": "10m"}` or `{"advance": 600}`).
    pub fn control(&self, request: &ApiRequest) -> Result<Value, ApiError> {
        match request.method {
            Method::GET => Ok(self.describe()),
            Method::POST => {
                let body: Value = serde_json::from_slice(&request.body)
                    .map_err(|e| ApiError::bad_request(format!("clock: {e}")))?;
                let by = match &body["advance"] {
                    Value::String(text) => parse_duration(text).ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "clock: advance {text:?} is not a duration such as \"90s\", \"10m\" or \"1h30m\""
                        ))
                    })?,
                    Value::Number(n) => n
                        .as_f64()
                        .and_then(|s| Duration::try_from_secs_f64(s).ok())
                        .ok_or_else(|| {
                            ApiError::bad_request(format!(
                                "clock: advance {n} is not a number of seconds >= 0"
                            ))
                        })?,
                    other => {
                        return Err(ApiError::bad_request(format!(
                            "clock: advance is required, a duration (\"10m\") or seconds (600), not {other}"
                        )))
                    }
                };
                if let Some(unknown) = body
                    .as_object()
                    .and_then(|o| o.keys().find(|k| *k != "advance"))
                {
                    return Err(ApiError::bad_request(format!(
                        "clock: unknown field {unknown:?}"
                    )));
                }
                self.advance(by);
                Ok(self.describe())
            }
            ref other => Err(ApiError::method_not_allowed(other.as_str())),
        }
    }

    fn describe(&self) -> Value {
        json!({
            "advancedSeconds": self.cluster_seconds(self.offset()),
            "timeScale": self.scale,
        })
    }
}

/// A Go-style duration: `500ms`, `90s`, `10m`, `1h30m`, `1.5h`; a bare number is seconds.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<f64>() {
        return Duration::try_from_secs_f64(seconds).ok();
    }
    let mut total = 0.0;
    let mut rest = text;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..number_end].parse().ok()?;
        rest = &rest[number_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_end] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[unit_end..];
        total += number * seconds;
    }
    Duration::try_from_secs_f64(total).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_go() {
        assert_eq!(parse_duration("10m"), Some(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("90"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("10 minutes"), None);
        assert_eq!(parse_duration(""), None);
        assert_eq!(parse_duration("-5s"), None);
    }

    #[tokio::test]
    async fn advancing_wakes_a_sleeper_whose_deadline_passed() {
        let clock = std::sync::Arc::new(Clock::new(0.5));
        // An hour of cluster time is half an hour of timer time; only the advance ends it.
        let sleeper = {
            let clock = clock.clone();
            tokio::spawn(async move { clock.sleep(clock.scaled(3600.0)).await })
        };
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished());
        assert_eq!(clock.advance(Duration::from_secs(3600)), 3600.0);
        tokio::time::timeout(Duration::from_secs(60), sleeper)
            .await
            .expect("the advanced clock woke the sleeper")
            .expect("sleeper task");
    }
}
