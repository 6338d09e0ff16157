//! Leadership as terms: each stretch of time this replica leads is one [`Term`], ended the moment
//! it stops leading, so that a change begun in one term can be cut off when the term ends.
//!
//! # Guarantees
//! - [`Leader::set`]`(false)` ends the current term before anyone can see "not leading": a change
//!   that checks its term ([`Term::check`]) after the lease was lost always finds it ended.
//! - A term never comes back: leading again starts a new term with a higher number, so a change
//!   holding an old term stays fenced off even when this replica leads again later.

use std::sync::Mutex;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::status::{ErrorClass, ErrorInfo};

/// One stretch of leading. Cheap to clone; every clone ends together.
#[derive(Debug, Clone)]
pub struct Term {
    number: u64,
    ended: CancellationToken,
}

impl Term {
    /// The term's number: 1 for the first time this replica leads, raised by each new term.
    pub fn number(&self) -> u64 {
        self.number
    }

    /// Whether this replica stopped leading since the term began.
    pub fn is_over(&self) -> bool {
        self.ended.is_cancelled()
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
}

impl Leader {
    pub fn new(leading: bool) -> Leader {
        let leader = Leader {
            flag: watch::channel(false).0,
            term: watch::channel(None).0,
            count: Mutex::new(0),
        };
        leader.set(leading);
        leader
    }

    /// Starts a term (when not leading yet) or ends the current one; returns whether leading
    /// changed.
    pub fn set(&self, leading: bool) -> bool {
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
        *self.flag.borrow()
    }

    /// The current term, while leading.
    pub fn term(&self) -> Option<Term> {
        self.term.borrow().clone()
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

    #[test]
    fn always_leads_in_one_term() {
        let leadership = Leadership::always();
        assert!(leadership.is_leading());
        assert!(!leadership.term().unwrap().is_over());
    }
}
