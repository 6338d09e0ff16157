//! Change events: CloudTrail's record of a mutating AWS call, as EventBridge delivers it
//! (`detail-type: AWS API Call via CloudTrail`), read into the (account, region) and kinds it
//! touches, so that just those are observed again.
//!
//! # Guarantees
//! - An event maps to the kinds whose [`Resource::EVENTS`](crate::engine::Resource::EVENTS) list
//!   its `eventSource` and `eventName`, in the account (`recipientAccountId`) and region
//!   (`awsRegion`) it happened in; anything else is ignored, never an error that blocks the
//!   queue.
//! - An event caused by the controller itself (its own role session in a target account) is
//!   recognised: the change that made it already updated what the controller knows.
//! - A burst of events coalesces: [`Debounce`] hands out each (scope, kind) at most once per
//!   window, and a lone change at once.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;

use crate::engine::{Resource, Scope};
use crate::kinds::for_kind;
use crate::model::Kind;

/// The `detail-type` of CloudTrail management events on EventBridge.
pub const DETAIL_TYPE: &str = "AWS API Call via CloudTrail";

/// What one event touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Touch {
    pub scope: Scope,
    /// The kinds whose objects the call may have changed.
    pub kinds: BTreeSet<Kind>,
    /// The service, as a bounded metric label: `servicediscovery`, `ram`, `ec2`, `ecs`.
    pub source: &'static str,
    /// The call was made by the controller itself.
    pub own: bool,
    /// When the call happened (seconds since the Unix epoch), when the event says.
    pub event_time: Option<u64>,
}

/// Why an event touches nothing the controller manages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ignored {
    /// Not a CloudTrail API-call event (another detail-type, or not JSON).
    NotApiCall,
    /// A call of no kind's interest (a read, or another service).
    Unmapped { source: String, name: String },
    /// A CloudTrail event without the account or region.
    Incomplete(&'static str),
}

/// Every (`eventSource`, `eventName`) some kind observes again for: what the event rules of
/// the target accounts must forward (`deploy/`).
pub fn observed_events() -> BTreeSet<(&'static str, &'static str)> {
    Kind::ALL.into_iter().flat_map(events_of).collect()
}

/// The (`eventSource`, `eventName`) of the calls that change the objects of `kind`.
pub fn events_of(kind: Kind) -> impl Iterator<Item = (&'static str, &'static str)> {
    let (source, names) = for_kind!(kind, R => (R::EVENT_SOURCE, R::EVENTS));
    names.iter().map(move |name| (source, *name))
}

/// The services whose events some kind lists: the `source` label values.
pub fn sources() -> BTreeSet<&'static str> {
    Kind::ALL
        .into_iter()
        .flat_map(events_of)
        .map(|(source, _)| service_of(source))
        .collect()
}

/// `servicediscovery.amazonaws.com` → `servicediscovery`.
fn service_of(event_source: &'static str) -> &'static str {
    event_source
        .strip_suffix(".amazonaws.com")
        .unwrap_or(event_source)
}

/// Reads an EventBridge event (the SQS message body). `own_sessions` are the role session names
/// the controller uses in target accounts.
///
/// # Errors
/// [`Ignored`] when the event touches nothing the controller manages.
pub fn read_event(body: &str, own_sessions: &BTreeSet<String>) -> Result<Touch, Ignored> {
    let event: Value = serde_json::from_str(body).map_err(|_| Ignored::NotApiCall)?;
    if event["detail-type"] != DETAIL_TYPE {
        return Err(Ignored::NotApiCall);
    }
    let detail = &event["detail"];
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let (Some(source), Some(name)) = (text(&detail["eventSource"]), text(&detail["eventName"]))
    else {
        return Err(Ignored::NotApiCall);
    };
    let mut kinds = BTreeSet::new();
    let mut service = None;
    for kind in Kind::ALL {
        for (s, n) in events_of(kind) {
            if s == source && n == name {
                kinds.insert(kind);
                service = Some(service_of(s));
            }
        }
    }
    let Some(service) = service else {
        return Err(Ignored::Unmapped { source, name });
    };
    let account = text(&detail["recipientAccountId"])
        .or_else(|| text(&event["account"]))
        .ok_or(Ignored::Incomplete("recipientAccountId"))?;
    let region = text(&detail["awsRegion"])
        .or_else(|| text(&event["region"]))
        .ok_or(Ignored::Incomplete("awsRegion"))?;
    let own = detail["userIdentity"]["arn"]
        .as_str()
        .and_then(session_of)
        .is_some_and(|session| own_sessions.contains(session));
    Ok(Touch {
        scope: Scope::new(account, region),
        kinds,
        source: service,
        own,
        event_time: detail["eventTime"]
            .as_str()
            .or_else(|| event["time"].as_str())
            .and_then(epoch_seconds),
    })
}

/// The session name of an assumed-role ARN (`arn:aws:sts::1:assumed-role/ROLE/SESSION`).
fn session_of(arn: &str) -> Option<&str> {
    let resource = arn.split(':').nth(5)?;
    let mut parts = resource.splitn(3, '/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("assumed-role"), Some(_), Some(session)) => Some(session),
        _ => None,
    }
}

/// Seconds since the Unix epoch of a UTC time as CloudTrail writes it: `2026-12-02T01:02:03Z`
/// (fractions of a second allowed, ignored).
pub fn epoch_seconds(time: &str) -> Option<u64> {
    let time = time.strip_suffix('Z')?;
    let (date, clock) = time.split_once('T')?;
    let mut d = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (year, month, day) = (d.next()??, d.next()??, d.next()??);
    let clock = clock.split('.').next()?;
    let mut c = clock.splitn(3, ':').map(|p| p.parse::<i64>().ok());
    let (hour, minute, second) = (c.next()??, c.next()??, c.next()??);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + hour * 3600 + minute * 60 + second).ok()
}

/// Coalesces the (scope, kind) pairs of a burst of events, handing them out at most once per
/// window and never holding back a lone change: an event that comes after a quiet window is due
/// at once; events that come within the window after the last hand-out wait until it has passed
/// and are then handed out together.
///
/// # Guarantees
/// - A lone change waits for nothing: its delivery delay is all the latency events add to
///   the targeted observation.
/// - However many events arrive, the pairs are handed out at most once per window; a burst
///   costs at most two observations of each pair it touches (its first event's and the rest's).
#[derive(Debug)]
pub struct Debounce {
    window: Duration,
    pending: BTreeSet<(Scope, Kind)>,
    /// When the first pending event arrived; `None` when nothing is pending.
    opened: Option<tokio::time::Instant>,
    /// When pairs were last handed out; `None` before the first time.
    taken: Option<tokio::time::Instant>,
}

impl Debounce {
    pub fn new(window: Duration) -> Debounce {
        Debounce {
            window,
            pending: BTreeSet::new(),
            opened: None,
            taken: None,
        }
    }

    /// Notes what an event touches.
    pub fn add(&mut self, touch: &Touch, now: tokio::time::Instant) {
        for kind in &touch.kinds {
            self.pending.insert((touch.scope.clone(), *kind));
        }
        if !touch.kinds.is_empty() {
            self.opened.get_or_insert(now);
        }
    }

    /// How long until the pending pairs are due (`None`: nothing pending).
    pub fn due_in(&self, now: tokio::time::Instant) -> Option<Duration> {
        let opened = self.opened?;
        let due = match self.taken {
            Some(taken) => opened.max(taken + self.window),
            None => opened,
        };
        Some(due.saturating_duration_since(now))
    }

    /// The pending pairs once they are due; empties them and starts a window.
    pub fn take_due(&mut self, now: tokio::time::Instant) -> Option<BTreeSet<(Scope, Kind)>> {
        if self.due_in(now)? > Duration::ZERO {
            return None;
        }
        self.opened = None;
        self.taken = Some(now);
        Some(std::mem::take(&mut self.pending))
    }
}

#[cfg(test)]
mod tests;
