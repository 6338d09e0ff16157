//! The short table of a report.

use std::fmt::Write as _;

use crate::compare::Comparison;
use crate::run::Report;

/// One line per figure: measured, limit, target, verdict.
pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} documents ({} objects), {} accounts x {} regions, throttle {}, poll {} s",
        r.mix.total(),
        r.objects,
        r.shape["accounts"],
        r.shape["regions"],
        r.convergence.throttled_profile,
        r.drift.poll_seconds,
    );
    let _ = writeln!(
        out,
        "{:<38} {:>12} {:>14} {:>10} {:>6}",
        "figure", "measured", "limit", "target", "met"
    );
    let mut line =
        |name: &str, measured: String, limit: String, target: &str, met: Option<bool>| {
            let verdict = verdict(met);
            let _ = writeln!(
                out,
                "{name:<38} {measured:>12} {limit:>14} {target:>10} {verdict:>6}"
            );
        };
    let p = &r.observation_pass;
    line(
        "calls per observation pass",
        p.calls.to_string(),
        format!("{} (batch)", p.batch_minimum),
        "<= 1.1x",
        Some(p.ratio_to_minimum <= 1.1),
    );
    line(
        "  the same, vs the reads the APIs force",
        p.calls.to_string(),
        format!("{} (reads)", p.read_minimum),
        "<= 1.1x",
        Some(p.ratio_to_read_minimum <= 1.1),
    );
    line(
        "  each settled pass (the last counts)",
        p.passes
            .iter()
            .map(|s| s.calls.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        "-".into(),
        "-",
        None,
    );
    line(
        "  calls per object (naive: 1 describe)",
        format!("{:.3}", p.calls_per_object),
        format!("{:.3} (naive)", p.naive_calls_per_object),
        "-",
        None,
    );
    line(
        "mutating calls in a converged pass",
        p.mutating.to_string(),
        "0".into(),
        "0",
        Some(p.mutating == 0),
    );
    for (operation, calls) in &p.by_operation {
        let reads = p
            .read_minimum_by_operation
            .get(operation)
            .copied()
            .unwrap_or(0);
        line(
            &format!("    {operation}"),
            calls.to_string(),
            format!("{reads} (reads)"),
            "-",
            None,
        );
    }
    let c = &r.convergence;
    line(
        "initial convergence (s)",
        format!("{:.1}", c.seconds),
        format!("{:.1} (throttle)", c.throttle_minimum_seconds),
        "<= 1.25x",
        c.ratio_to_minimum.map(|x| x <= 1.25),
    );
    let d = &r.drift;
    #[allow(clippy::cast_precision_loss)]
    let bound = d.poll_seconds as f64 + 1.0;
    line(
        "drift to correction, p50 (s)",
        format!("{:.2}", d.p50_seconds),
        format!("{bound:.0} (poll+1)"),
        "<= poll+1",
        (!d.samples.is_empty()).then_some(d.p50_seconds <= bound),
    );
    line(
        "daemon peak RSS (MiB)",
        format!("{:.1}", r.memory.vm_hwm_mib),
        "64".into(),
        "<= 64",
        Some(r.memory.vm_hwm_mib <= 64.0),
    );
    let m = &r.memory;
    line(
        "  RSS at start / first pass / end (MiB)",
        format!(
            "{} / {} / {}",
            m.rss_start_kib / 1024,
            m.rss_after_first_pass_kib / 1024,
            m.rss_end_kib / 1024
        ),
        "-".into(),
        "-",
        None,
    );
    if let Some(pl) = &r.planning {
        line(
            &format!("plan_all, {} docs, median (ms)", pl.documents),
            format!("{:.1}", pl.median_ms),
            "100".into(),
            "<= 100",
            Some(pl.median_ms <= 100.0),
        );
    }
    if let Some(c) = &r.comparison {
        out.push_str(&comparison(c));
    }
    out
}

/// Polling and events side by side: drift to correction and calls per hour, with the targets
/// of events (p50 <= 3 s, calls per hour <= 1/8 of polling's).
pub fn comparison(c: &Comparison) -> String {
    let mut out = String::new();
    let (p, e) = (&c.polling, &c.events);
    let _ = writeln!(
        out,
        "\npolling vs change events (delivery delay {} s, debounce {})",
        c.delivery_delay_seconds, c.debounce
    );
    let _ = writeln!(
        out,
        "{:<38} {:>12} {:>16} {:>10} {:>6}",
        "figure",
        format!("poll {} s", p.poll_seconds),
        format!("events+poll {} s", e.poll_seconds),
        "target",
        "met"
    );
    let line = |out: &mut String,
                name: &str,
                polling: String,
                events: String,
                target: &str,
                met: Option<bool>| {
        let verdict = verdict(met);
        let _ = writeln!(
            out,
            "{name:<38} {polling:>12} {events:>16} {target:>10} {verdict:>6}"
        );
    };
    line(
        &mut out,
        &format!(
            "drift to correction, p50 of {}/{} (s)",
            p.drift.samples.len(),
            e.drift.samples.len()
        ),
        format!("{:.2}", p.drift.p50_seconds),
        format!("{:.2}", e.drift.p50_seconds),
        "<= 3",
        Some(!e.drift.samples.is_empty() && e.drift.p50_seconds <= 3.0),
    );
    line(
        &mut out,
        "drift to correction, p95 (s)",
        format!("{:.2}", p.drift.p95_seconds),
        format!("{:.2}", e.drift.p95_seconds),
        "-",
        None,
    );
    line(
        &mut out,
        "API calls per hour, converged",
        format!("{:.0}", p.calls_per_hour.per_hour),
        format!("{:.0}", e.calls_per_hour.per_hour),
        "<= 1/8",
        Some(c.calls_ratio <= 0.125),
    );
    let _ = writeln!(
        out,
        "  events / polling: {:.3}; events queue left with {} message(s)",
        c.calls_ratio, c.queue_left
    );
    out
}

/// Whether a target is met: `yes`, `NO`, or `-` when there is none.
fn verdict(met: Option<bool>) -> &'static str {
    match met {
        Some(true) => "yes",
        Some(false) => "NO",
        None => "-",
    }
}
