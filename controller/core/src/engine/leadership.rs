//! Leadership as terms: each stretch of time this replica leads is one [`Term`], ended the moment
//! it stops leading, so that a change begun in one term can be cut off when the term ends.
//!
//! # Guarantees
//! - [`Leader::set`]`(false)` ends the current term before anyone can see "not leading": a change
//!   that checks its term ([`Term::check`]) after the lease was lost always finds it ended.
//! - A term never comes back: leading again starts a new term with a higher number, so a change
//!   holding an old term stays fenced off even when this replica leads again later.
//! - Leading given until an instant ([`Leader::lead_until`], the lease's deadline) ends at that
//!   instant for every reader, whether or not the task that keeps the lease has run since: a
//!   replica whose runtime stalled past its deadline reads "not leading" and finds its term over
//!   the moment it runs again, before the lease task can say so.

use std::sync::{Arc, Mutex};

use tokio::time::Instant;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::status::{ErrorClass, ErrorInfo};

/// One stretch of leading. Cheap to clone; every clone ends together.
#[derive(Debug, Clone)]
pub struct Term {
    number: u64,
    ended: CancellationToken,
    until: Until,
}

/// Until when leading lasts without another word from the lease (`None`: until told otherwise).
type Until = Arc<Mutex<Option<Instant>>>;

/// Whether `until` has not passed.
fn within(until: &Until) -> bool {
    let until = *until.lock().unwrap_or_else(|e| e.into_inner());
    until.is_none_or(|at| Instant::now() < at)
}

impl Term {
    /// The term's number: 1 for the first time this replica leads, raised by each new term.
    pub fn number(&self) -> u64 {
        self.number
    }

    /// Whether this replica stopped leading since the term began.
    pub fn is_over(&self) -> bool {
        self.ended.is_cancelled() || !within(&self.until)
    }

    /// Resolves when the term ends (never for a single instance's term).
    pub async fn ended(&self) {
        self.ended.cancelled().await;
    }

    /// `Ok` while the term lasts; afterwards the error a change stops with, naming `operation`,
    /// the call it did not make.
    ///
    /// # Errors
    /// When the term has ended.
    pub fn check(&self, operation: &str) -> Result<(), ErrorInfo> {
        if self.is_over() {
            Err(ErrorInfo::new(
                ErrorClass::Transient,
                format!(
                    "{operation}: not sent: this replica stopped leading (term {} ended); the \
                     leader carries the change on",
                    self.number
                ),
            ))
        } else {
            Ok(())
        }
    }
}

/// The sending side: the lease (or a test) says whether this replica leads.
#[derive(Debug)]
pub struct Leader {
    flag: watch::Sender<bool>,
    term: watch::Sender<Option<Term>>,
    /// The last term's number.
    count: Mutex<u64>,
    until: Until,
}

impl Leader {
    pub fn new(leading: bool) -> Leader {
        let leader = Leader {
            flag: watch::channel(false).0,
            term: watch::channel(None).0,
            count: Mutex::new(0),
            until: Arc::default(),
        };
        leader.set(leading);
        leader
    }

    /// Leads until `until` (a new term when not leading yet, the same term when leading): at
    /// that instant readers find leading over by themselves, unless this is called again with
    /// a later one first. Returns whether leading changed.
    pub fn lead_until(&self, until: Instant) -> bool {
        // A deadline that passed unseen ended the term for every reader already: it is ended
        // for good (before the new deadline could make it look alive), and leading again is a
        // new term.
        let lapsed = !within(&self.until);
        let ended = lapsed && self.set_flag(false);
        *self.until.lock().unwrap_or_else(|e| e.into_inner()) = Some(until);
        self.set_flag(true) || ended
    }

    /// Starts a term (when not leading yet) or ends the current one; returns whether leading
    /// changed. Leading set here has no deadline.
    pub fn set(&self, leading: bool) -> bool {
        if leading {
            *self.until.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
        self.set_flag(leading)
    }

    fn set_flag(&self, leading: bool) -> bool {
        let mut count = self.count.lock().unwrap_or_else(|e| e.into_inner());
        let changed = *self.flag.borrow() != leading;
        if !changed {
            return false;
        }
        if leading {
            *count += 1;
            self.term.send_replace(Some(Term {
                number: *count,
                ended: CancellationToken::new(),
                until: self.until.clone(),
            }));
        } else if let Some(term) = self.term.send_replace(None) {
            // Ended before "not leading" is visible.
            term.ended.cancel();
        }
        self.flag.send_replace(leading);
        true
    }

    pub fn subscribe(&self) -> Leadership {
        Leadership {
            flag: self.flag.subscribe(),
            term: self.term.subscribe(),
            until: self.until.clone(),
        }
    }
}

impl Drop for Leader {
    /// A leader that goes away, however it goes, leads no more.
    fn drop(&mut self) {
        self.set(false);
    }
}

/// The receiving side: whether this replica leads, and in which term. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Leadership {
    flag: watch::Receiver<bool>,
    term: watch::Receiver<Option<Term>>,
    until: Until,
}

impl Leadership {
    /// A replica that always leads, in one term that never ends (no lease configured, or
    /// `apply --once`).
    pub fn always() -> Leadership {
        let leader = Leader::new(true);
        let leadership = leader.subscribe();
        // Not dropped: dropping would end the term.
        std::mem::forget(leader);
        leadership
    }

    /// Whether this replica leads now.
    pub fn is_leading(&self) -> bool {
        *self.flag.borrow() && within(&self.until)
    }

    /// The current term, while leading.
    pub fn term(&self) -> Option<Term> {
        self.term.borrow().clone().filter(|t| !t.is_over())
    }

    /// The "leading" flag, to watch for changes.
    pub fn flag(&self) -> watch::Receiver<bool> {
        self.flag.clone()
    }

    /// Waits until leading changes (or the leader is gone: then never returns).
    pub async fn changed(&mut self) {
        if self.flag.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_term_ends_before_not_leading_shows_and_never_comes_back() {
        let leader = Leader::new(false);
        let leadership = leader.subscribe();
        assert!(leadership.term().is_none() && !leadership.is_leading());

        assert!(leader.set(true));
        let first = leadership.term().expect("a term while leading");
        assert_eq!(first.number(), 1);
        assert!(first.check("CreateHttpNamespace").is_ok());
        assert!(!leader.set(true), "leading again without a change");
        assert_eq!(leadership.term().unwrap().number(), 1);

        assert!(leader.set(false));
        assert!(first.is_over() && !leadership.is_leading());
        let e = first.check("TagResource").unwrap_err();
        assert!(e.message.contains("TagResource") && e.message.contains("term 1"));

        leader.set(true);
        let second = leadership.term().unwrap();
        assert_eq!(second.number(), 2);
        assert!(first.is_over() && !second.is_over());
        drop(leader);
        assert!(second.is_over() && !leadership.is_leading());
    }

    #[tokio::test(start_paused = true)]
    async fn leading_until_a_deadline_ends_there_even_when_nobody_says_so() {
        let leader = Leader::new(false);
        let leadership = leader.subscribe();
        let start = Instant::now();
        assert!(leader.lead_until(start + std::time::Duration::from_secs(2)));
        let first = leadership.term().unwrap();
        // Renewed in time: the same term, with the later deadline.
        tokio::time::advance(std::time::Duration::from_secs(1)).await;
        assert!(!leader.lead_until(start + std::time::Duration::from_secs(3)));
        assert_eq!(leadership.term().unwrap().number(), first.number());
        // The deadline passes while the lease task does not run (a stalled runtime): every
        // reader finds leading over at once, and the term's check refuses the next call.
        tokio::time::advance(std::time::Duration::from_secs(2)).await;
        assert!(!leadership.is_leading() && leadership.term().is_none());
        assert!(first.is_over());
        assert!(first.check("CreateVpcEndpoint").is_err());
        // Renewed late: a new term; the lapsed one stays over.
        assert!(leader.lead_until(Instant::now() + std::time::Duration::from_secs(2)));
        let second = leadership.term().unwrap();
        assert!(second.number() > first.number());
        assert!(first.is_over() && !second.is_over() && leadership.is_leading());
        // Leading set without a deadline has none.
        leader.set(false);
        assert!(leader.set(true));
        tokio::time::advance(std::time::Duration::from_secs(60)).await;
        assert!(leadership.is_leading());
    }

    #[test]
    fn always_leads_in_one_term() {
        let leadership = Leadership::always();
        assert!(leadership.is_leading());
        assert!(!leadership.term().unwrap().is_over());
    }
}
