use std::sync::{Arc, Mutex};

use super::*;
use crate::engine::Leader;
use crate::model::Kind;
use crate::status::DocumentStatus;

/// A store that records each write and fails the first `fail` of them.
#[derive(Debug, Default, Clone)]
struct Store {
    writes: Arc<Mutex<Vec<String>>>,
    fail: Arc<Mutex<u32>>,
}

impl StatusSink for Store {
    async fn save(&self, record: &StatusRecord) -> Result<(), String> {
        self.write(format!("save {}", record.key.name))
    }
    async fn remove(&self, key: &Key) -> Result<(), String> {
        self.write(format!("remove {}", key.name))
    }
}

impl Store {
    fn write(&self, what: String) -> Result<(), String> {
        let mut fail = self.fail.lock().unwrap();
        if *fail > 0 {
            *fail -= 1;
            return Err("ServiceUnavailable".into());
        }
        self.writes.lock().unwrap().push(what);
        Ok(())
    }

    fn writes(&self) -> Vec<String> {
        self.writes.lock().unwrap().clone()
    }
}

fn saved(name: &str, region: &str) -> StatusChange {
    StatusChange::Saved(std::sync::Arc::new(StatusRecord {
        key: Key::new(Kind::CloudMapNamespace, name),
        account: "111111111111".into(),
        region: region.into(),
        status: DocumentStatus::default(),
    }))
}

fn removed(name: &str) -> StatusChange {
    StatusChange::Removed(Key::new(Kind::CloudMapNamespace, name))
}

fn no_report(_: WriteResult) {}

#[tokio::test]
async fn a_follower_writes_nothing_and_the_new_leader_writes_the_latest_of_each() {
    let leader = Leader::new(false);
    let store = Store::default();
    let mut writer = StatusWriter::new(store.clone(), leader.subscribe());
    writer.note(saved("a", "eu-west-1"));
    writer.note(saved("b", "eu-west-1"));
    writer.note(saved("a", "eu-west-2"));
    writer.note(removed("b"));
    writer.write_pending(&no_report).await;
    assert!(store.writes().is_empty(), "a follower writes nothing");
    assert_eq!(writer.pending(), 2);

    leader.set(true);
    writer.write_pending(&no_report).await;
    assert_eq!(store.writes(), ["save a", "remove b"]);
    assert_eq!(writer.pending(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_failed_write_is_retried_after_a_pause_not_dropped() {
    let leader = Leader::new(true);
    let store = Store::default();
    *store.fail.lock().unwrap() = 2;
    let results = Arc::new(Mutex::new(Vec::new()));
    let report = {
        let results = results.clone();
        move |r: WriteResult| results.lock().unwrap().push(r.as_str())
    };
    let mut writer = StatusWriter::new(store.clone(), leader.subscribe());
    writer.note(saved("a", "eu-west-1"));
    writer.write_pending(&report).await;
    writer.write_pending(&report).await;
    assert_eq!(writer.pending(), 1, "kept after the failure");
    assert_eq!(
        *results.lock().unwrap(),
        ["failed"],
        "paused: not tried again at once"
    );

    tokio::time::advance(FIRST_PAUSE).await;
    writer.write_pending(&report).await;
    assert_eq!(writer.pending(), 1);
    tokio::time::advance(FIRST_PAUSE).await;
    writer.write_pending(&report).await;
    assert_eq!(writer.pending(), 1, "the pause doubled");
    tokio::time::advance(FIRST_PAUSE).await;
    writer.write_pending(&report).await;
    assert_eq!(store.writes(), ["save a"]);
    assert_eq!(*results.lock().unwrap(), ["failed", "failed", "written"]);
}

#[tokio::test(start_paused = true)]
async fn run_writes_as_changes_come_and_once_more_at_stop_only_while_leading() {
    let leader = Leader::new(true);
    let store = Store::default();
    let (tx, rx) = mpsc::unbounded_channel();
    let stop = CancellationToken::new();
    let task = tokio::spawn(StatusWriter::new(store.clone(), leader.subscribe()).run(
        rx,
        stop.clone(),
        no_report,
    ));
    tx.send(saved("a", "eu-west-1")).unwrap();
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(store.writes(), ["save a"]);

    leader.set(false);
    tx.send(saved("b", "eu-west-1")).unwrap();
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(store.writes(), ["save a"], "not leading: kept");
    leader.set(true);
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(
        store.writes(),
        ["save a", "save b"],
        "written on leading again"
    );

    leader.set(false);
    tx.send(saved("c", "eu-west-1")).unwrap();
    stop.cancel();
    task.await.unwrap();
    assert_eq!(
        store.writes(),
        ["save a", "save b"],
        "a follower's stop writes nothing"
    );
}
