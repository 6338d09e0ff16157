//! Writing status to the status store: only while leading, every change in the end, a failed
//! write retried.
//!
//! # Guarantees
//! - Only the leader writes: a follower (or a deposed leader) keeps its changes pending and
//!   writes nothing; each write checks that this replica still leads just before it is sent.
//! - Nothing is dropped: the latest change of each document stays pending until it is written;
//!   a failed write is retried after a pause that doubles up to a minute.
//! - Memory is bounded by the number of documents: a newer change of a document replaces the
//!   pending one.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::engine::{Leadership, StatusChange};
use crate::model::Key;
use crate::status_store::StatusRecord;

/// Where status is kept (a directory or a DynamoDB table).
pub trait StatusSink: Send + Sync {
    /// Stores a document's record.
    fn save(&self, record: &StatusRecord) -> impl Future<Output = Result<(), String>> + Send;
    /// Forgets a removed document.
    fn remove(&self, key: &Key) -> impl Future<Output = Result<(), String>> + Send;
}

/// How one write ended, as a bounded metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteResult {
    Written,
    /// Failed; it stays pending and is retried.
    Failed,
}

impl WriteResult {
    pub const ALL: [WriteResult; 2] = [WriteResult::Written, WriteResult::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            WriteResult::Written => "written",
            WriteResult::Failed => "failed",
        }
    }
}

/// The first pause after a failed write; it doubles up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_secs(1);
const MAX_PAUSE: Duration = Duration::from_secs(60);

/// Writes the status changes of a running controller to `sink`.
#[derive(Debug)]
pub struct StatusWriter<S> {
    sink: S,
    leadership: Leadership,
    /// The latest unwritten change of each document.
    pending: BTreeMap<Key, StatusChange>,
    /// After a failure: no write before this instant.
    paused_until: Option<Instant>,
    pause: Duration,
}

impl<S: StatusSink> StatusWriter<S> {
    pub fn new(sink: S, leadership: Leadership) -> StatusWriter<S> {
        StatusWriter {
            sink,
            leadership,
            pending: BTreeMap::new(),
            paused_until: None,
            pause: FIRST_PAUSE,
        }
    }

    /// How many documents' changes wait to be written.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Takes changes until `changes` closes or `stop`, writing while leading; then writes what is
    /// left once if still leading (time-box the call: a store that does not answer must not hold
    /// shutdown).
    pub async fn run(
        mut self,
        mut changes: mpsc::UnboundedReceiver<StatusChange>,
        stop: CancellationToken,
        report: impl Fn(WriteResult) + Send,
    ) {
        let mut leadership = self.leadership.clone();
        loop {
            self.write_pending(&report).await;
            let retry = self.paused_until.filter(|_| !self.pending.is_empty());
            tokio::select! {
                biased;
                () = stop.cancelled() => break,
                change = changes.recv() => match change {
                    Some(change) => self.note(change),
                    None => break,
                },
                () = leadership.changed() => {}
                () = sleep_until(retry), if retry.is_some() => self.paused_until = None,
            }
        }
        while let Ok(change) = changes.try_recv() {
            self.note(change);
        }
        self.paused_until = None;
        self.write_pending(&report).await;
        if !self.pending.is_empty() {
            tracing::warn!(
                pending = self.pending.len(),
                leading = self.leadership.is_leading(),
                "statuses left unwritten at shutdown; the leader recomputes them"
            );
        }
    }

    /// Keeps a change to write (replacing an unwritten one of the same document).
    pub fn note(&mut self, change: StatusChange) {
        let key = match &change {
            StatusChange::Saved(record) => record.key.clone(),
            StatusChange::Removed(key) => key.clone(),
        };
        self.pending.insert(key, change);
    }

    /// Writes the pending changes in key order while leading and not paused by a failure; stops
    /// at the first failure (the store is likely failing for all) and pauses.
    pub async fn write_pending(&mut self, report: &impl Fn(WriteResult)) {
        if self
            .paused_until
            .is_some_and(|until| Instant::now() < until)
        {
            return;
        }
        let keys: Vec<Key> = self.pending.keys().cloned().collect();
        for key in keys {
            // Checked before each write: a replica that stopped leading writes nothing more.
            if !self.leadership.is_leading() {
                return;
            }
            let Some(change) = self.pending.get(&key) else {
                continue;
            };
            let written = match change {
                StatusChange::Saved(record) => self.sink.save(record).await,
                StatusChange::Removed(key) => self.sink.remove(key).await,
            };
            match written {
                Ok(()) => {
                    self.pending.remove(&key);
                    self.pause = FIRST_PAUSE;
                    report(WriteResult::Written);
                }
                Err(e) => {
                    tracing::warn!(error = %e, key = %key, retry_in = ?self.pause, "cannot write status; retrying");
                    report(WriteResult::Failed);
                    self.paused_until = Some(Instant::now() + self.pause);
                    self.pause = (self.pause * 2).min(MAX_PAUSE);
                    return;
                }
            }
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests;
