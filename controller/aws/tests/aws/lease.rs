//! The leader lease against the emulator, with a 3-second lease (renewed every second, led for
//! at most two seconds after the last successful renewal).

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::AttributeValue;
use ecs_topology_aws::Clients;
use ecs_topology_aws::lease::{Lease, LeaseHandle};
use ecs_topology_core::config::LeaseConfig;
use ecs_topology_core::duration::HumanDuration;
use ecs_topology_testkit::{create_table, emulator};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout};
use tokio_util::sync::CancellationToken;

use super::{EAST, budgets, clients};

const LEASE: Duration = Duration::from_secs(3);
/// Scheduling and emulator latency allowed on top of the lease's own timing.
const SLACK: Duration = Duration::from_millis(400);

/// A lease table in a fresh account.
struct World {
    account: String,
    clients: Clients,
}

impl World {
    async fn new() -> World {
        let account = emulator().new_account();
        let clients = clients(&account).await;
        create_table(&clients.dynamodb, "state").await;
        World { account, clients }
    }

    fn contender(&self, holder: &str) -> Contender {
        Contender::start(self.clients.clone(), holder)
    }

    /// `a`, once it leads, and `b`, started after and once it knows the lease is held.
    async fn leader_and_follower(&self) -> (Contender, Contender) {
        let a = self.contender("a");
        a.leads_within(LEASE).await;
        (a, self.follower().await)
    }

    /// `b`, once it knows the lease is held, and not leading.
    async fn follower(&self) -> Contender {
        let b = self.contender("b");
        b.known().await;
        assert!(!b.handle.is_leading());
        b
    }

    /// The lease item's holder and expiry (epoch ms).
    async fn item(&self) -> (String, u64) {
        let item = self
            .clients
            .dynamodb
            .get_item()
            .table_name("state")
            .key("pk", AttributeValue::S("lease#leader".into()))
            .consistent_read(true)
            .send()
            .await
            .unwrap();
        let item = item.item().unwrap();
        (
            item["holder"].as_s().unwrap().clone(),
            item["expires_at"].as_n().unwrap().parse().unwrap(),
        )
    }
}

/// One replica's lease loop.
struct Contender {
    handle: LeaseHandle,
    shutdown: CancellationToken,
    task: JoinHandle<()>,
}

impl Contender {
    fn start(clients: Clients, holder: &str) -> Contender {
        let config = LeaseConfig {
            dynamodb_table: "state".into(),
            name: "leader".into(),
            duration: HumanDuration(LEASE),
        };
        let lease = Lease::new(clients, budgets(), &config).with_holder(holder);
        let handle = lease.handle();
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(lease.run(shutdown.clone()));
        Contender {
            handle,
            shutdown,
            task,
        }
    }

    async fn known(&self) {
        let known = self.handle.clone();
        timeout(LEASE, async {
            while !known.is_known() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .expect("the first attempt answers");
    }

    /// Waits until this replica leads; how long that took.
    async fn leads_within(&self, limit: Duration) -> Duration {
        let started = Instant::now();
        let mut handle = self.handle.clone();
        timeout(limit, handle.wait_until_leading())
            .await
            .unwrap_or_else(|_| panic!("{} did not lead within {limit:?}", handle.holder()));
        started.elapsed()
    }

    async fn stop(self) {
        self.shutdown.cancel();
        self.task.await.unwrap();
    }
}

fn epoch_ms() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

#[tokio::test]
async fn of_two_contenders_never_both_lead_and_neither_only_briefly() {
    let world = World::new().await;
    let (a, b) = (world.contender("a"), world.contender("b"));
    a.known().await;
    b.known().await;
    // Over six renewals never both. Neither only while a renewal is late: the holder stops
    // leading when a renewal has not come back in time (a loaded machine can be that slow), and
    // then it, or the follower once the lease expires, leads again within a lease time.
    let until = Instant::now() + 2 * LEASE;
    let mut neither_since: Option<Instant> = None;
    while Instant::now() < until {
        let (in_a, in_b) = (a.handle.is_leading(), b.handle.is_leading());
        assert!(!(in_a && in_b), "both lead");
        if in_a || in_b {
            neither_since = None;
        } else {
            let since = *neither_since.get_or_insert_with(Instant::now);
            assert!(
                since.elapsed() <= LEASE + SLACK,
                "nobody led for {:?}",
                since.elapsed()
            );
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    // The one that leads is the item's holder.
    timeout(LEASE + SLACK, async {
        while !a.handle.is_leading() && !b.handle.is_leading() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("one of the two leads within a lease time");
    let leader = if a.handle.is_leading() { "a" } else { "b" };
    assert_eq!(world.item().await.0, leader);
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn a_new_leader_takes_over_within_one_lease_time_after_the_holder_dies() {
    let world = World::new().await;
    let (a, b) = world.leader_and_follower().await;

    // Killed: no release.
    a.task.abort();
    let waited = b.leads_within(LEASE + SLACK).await;
    assert_eq!(world.item().await.0, "b");
    assert!(waited <= LEASE + SLACK, "took over after {waited:?}");
    b.stop().await;
}

#[tokio::test]
async fn a_holder_that_cannot_renew_stops_leading_before_its_lease_expires() {
    let world = World::new().await;
    // The holder reaches the emulator through a proxy that can be cut.
    let proxy = Proxy::start().await;
    let config = emulator()
        .sdk_config(&world.account, EAST)
        .await
        .to_builder()
        .endpoint_url(format!("http://{}", proxy.addr))
        .build();
    let a = Contender::start(Clients::new(&config, &world.account, EAST), "a");
    a.leads_within(LEASE).await;
    let b = world.follower().await;

    proxy.cut();
    let mut leading = a.handle.leading();
    timeout(LEASE, leading.wait_for(|leading| !*leading))
        .await
        .expect("the holder stops leading")
        .unwrap();
    let stopped_at = epoch_ms();
    let (holder, expires_at) = world.item().await;
    assert_eq!(holder, "a", "nobody took over before the lease expired");
    let margin = expires_at.saturating_sub(stopped_at);
    assert!(
        margin + u64::try_from(SLACK.as_millis()).unwrap() >= 1000,
        "stopped leading only {margin} ms before the lease expired"
    );

    b.leads_within(LEASE).await;
    let took_over_at = epoch_ms();
    assert!(took_over_at >= expires_at, "b led before a's lease expired");
    assert!(!a.handle.is_leading());
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn releasing_the_lease_on_shutdown_lets_another_replica_take_over_at_once() {
    let world = World::new().await;
    let (a, b) = world.leader_and_follower().await;

    let a_handle = a.handle.clone();
    a.stop().await;
    assert!(!a_handle.is_leading());
    // Within one attempt interval (a third of the lease), not at the lease's expiry.
    let waited = b.leads_within(LEASE / 3 + SLACK).await;
    assert!(waited <= LEASE / 3 + SLACK, "took over after {waited:?}");
    b.stop().await;
}

/// A TCP proxy to the emulator; [`Proxy::cut`] refuses and drops every connection from then on.
struct Proxy {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Proxy {
    async fn start() -> Proxy {
        let upstream: SocketAddr = emulator()
            .endpoint_url()
            .trim_start_matches("http://")
            .parse()
            .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                connections.spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Proxy { addr, task }
    }

    /// Drops the listener and every open connection (with the task that owns them).
    fn cut(&self) {
        self.task.abort();
    }
}
