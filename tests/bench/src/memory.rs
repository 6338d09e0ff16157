//! The daemon's memory over a run: its resident set sampled every second from
//! `/proc/<pid>/status` (`VmRSS`), the moments an operator asks about (start, after the first
//! pass, end) and the peak the kernel records (`VmHWM`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::run::proc_field;

/// The daemon's memory in a report.
#[derive(Debug, Clone, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemoryReport {
    /// Peak resident set (`VmHWM`) at the end of the run.
    pub vm_hwm_kib: u64,
    /// Resident set (`VmRSS`) at the end of the run.
    pub vm_rss_kib: u64,
    pub vm_hwm_mib: f64,
    /// `VmRSS` when the daemon first answered `/status`, before its first pass ended.
    pub rss_start_kib: u64,
    /// `VmRSS` when every document first had a status: the first pass and one reconcile of
    /// each document done.
    pub rss_after_first_pass_kib: u64,
    /// `VmRSS` after the drift samples, before the daemon is stopped.
    pub rss_end_kib: u64,
    /// `VmRSS` every second from the daemon's start.
    pub timeline: Vec<RssSample>,
}

#[derive(Debug, Clone, Copy, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RssSample {
    /// Seconds since the daemon started.
    pub seconds: f64,
    pub rss_kib: u64,
}

/// `VmRSS` and `VmHWM` of process `pid`, in KiB (0 when it cannot be read).
pub fn rss_and_peak(pid: u32) -> (u64, u64) {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    (
        proc_field(&text, "VmRSS:").unwrap_or(0),
        proc_field(&text, "VmHWM:").unwrap_or(0),
    )
}

/// Samples a process's `VmRSS` every second on its own thread until dropped.
pub(crate) struct RssSampler {
    samples: Arc<Mutex<Vec<RssSample>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl RssSampler {
    pub(crate) fn start(pid: u32) -> RssSampler {
        let samples = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (samples, stop) = (samples.clone(), stop.clone());
            std::thread::spawn(move || {
                let started = Instant::now();
                while !stop.load(Ordering::Relaxed) {
                    let (rss, _) = rss_and_peak(pid);
                    if rss > 0 {
                        let sample = RssSample {
                            seconds: (started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
                            rss_kib: rss,
                        };
                        samples
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(sample);
                    }
                    std::thread::sleep(Duration::from_secs(1));
                }
            })
        };
        RssSampler {
            samples,
            stop,
            thread: Some(thread),
        }
    }

    /// The samples so far.
    pub(crate) fn timeline(&self) -> Vec<RssSample> {
        self.samples
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Drop for RssSampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
