use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_s3::config::ProvideCredentials;
use aws_sdk_servicediscovery::types::{FilterCondition, NamespaceFilter, NamespaceFilterName};
use ecs_topology_testkit::{emulator, free_port, http};

pub const REGION: &str = "ap-northeast-1";
/// The controller's own account: where moto puts the static test credentials.
pub const OWN: &str = "123456789012";

/// Fresh accounts, a bucket, and a config for daemons.
pub struct Setup {
    pub dir: PathBuf,
    pub server: String,
    pub client: String,
    pub bucket: String,
    pub controller: String,
}

impl Setup {
    pub async fn new(extra_config: &str) -> Setup {
        let server = emulator().new_account();
        let client = emulator().new_account();
        let bucket = format!("desired-{server}");
        let dir = std::env::temp_dir().join(format!("ecs-topology-daemon-{server}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        create_bucket(OWN, &bucket).await;
        let setup = Setup {
            dir,
            server: server.clone(),
            client: client.clone(),
            bucket,
            controller: format!("ctl-{server}"),
        };
        let config = format!(
            "name: {ctl}\naccounts:\n  server: {{id: '{server}', roleArn: 'arn:aws:iam::{server}:role/t'}}\n  client: {{id: '{client}', roleArn: 'arn:aws:iam::{client}:role/t'}}\nregions: [{REGION}]\npollInterval: 1s\nresyncInterval: 1m\nstatus: {{directory: '{status}'}}\n{extra_config}",
            ctl = setup.controller,
            status = setup.dir.join("status").display(),
        );
        std::fs::write(setup.dir.join("config.yaml"), config).unwrap();
        setup
    }

    /// Writes the document `topology/{key}` of the setup's bucket.
    pub async fn put(&self, key: &str, text: &str) {
        put_document(OWN, &self.bucket, key, text).await;
    }

    pub async fn delete(&self, key: &str) {
        s3_of(OWN)
            .await
            .delete_object()
            .bucket(&self.bucket)
            .key(format!("topology/{key}"))
            .send()
            .await
            .unwrap();
    }

    /// `ecs-topology run` from `source` with this setup's config, on the emulator's default
    /// credentials.
    pub fn start(&self, source: &str) -> Daemon {
        self.start_with_env(source, &[])
    }

    /// As [`Setup::start`], with `env` (name, value) set for the process.
    pub fn start_with_env(&self, source: &str, env: &[(&str, &str)]) -> Daemon {
        let port = free_port();
        let log = self.dir.join(format!("daemon-{port}.log"));
        let child = emulator()
            .command(env!("CARGO_BIN_EXE_ecs-topology"), REGION)
            .envs(env.iter().copied())
            .args(["run", "--source", source, "--config"])
            .arg(self.dir.join("config.yaml"))
            .args(["--listen", &format!("127.0.0.1:{port}"), "--grace", "5s"])
            .env("ECS_TOPOLOGY_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .current_dir(&self.dir)
            .spawn()
            .unwrap();
        Daemon { child, port, log }
    }

    pub fn s3_source(&self) -> String {
        format!("s3://{}/topology/", self.bucket)
    }

    /// Writes `a.yaml`, the namespace `name`, starts a daemon from the bucket, and waits until
    /// the namespace exists.
    pub async fn start_on_one_namespace(&self, name: &str, description: &str) -> Daemon {
        self.put("a.yaml", &namespace_doc(name, description)).await;
        let daemon = self.start(&self.s3_source());
        self.until_namespaces(1, Duration::from_secs(30), "created")
            .await;
        daemon
    }

    /// Waits, at most `limit`, until the server account has `count` namespaces.
    pub async fn until_namespaces(&self, count: usize, limit: Duration, what: &str) {
        eventually(limit, what, || async {
            self.namespaces(&self.server).await.len() == count
        })
        .await;
    }

    pub async fn namespaces(&self, account: &str) -> Vec<(String, Option<String>)> {
        let filter = NamespaceFilter::builder()
            .name(NamespaceFilterName::ResourceOwner)
            .values("SELF")
            .condition(FilterCondition::Eq)
            .build()
            .unwrap();
        let reply = cloud_map(account)
            .await
            .list_namespaces()
            .filters(filter)
            .send()
            .await
            .unwrap();
        let mut out: Vec<_> = reply
            .namespaces()
            .iter()
            .map(|n| {
                (
                    n.name().unwrap().to_owned(),
                    n.description().map(str::to_owned),
                )
            })
            .collect();
        out.sort();
        out
    }

    /// The names of `account`'s own namespaces, sorted.
    pub async fn namespace_names(&self, account: &str) -> Vec<String> {
        let namespaces = self.namespaces(account).await;
        namespaces.into_iter().map(|(name, _)| name).collect()
    }

    /// Drifts the server account's (first) namespace by hand: its description becomes
    /// `by hand`, as an operator in the console would leave it.
    pub async fn drift_namespace_by_hand(&self) {
        let cm = cloud_map(&self.server).await;
        let list = cm.list_namespaces().send().await.unwrap();
        let id = list.namespaces()[0].id().unwrap().to_owned();
        let change = aws_sdk_servicediscovery::types::HttpNamespaceChange::builder()
            .description("by hand")
            .build()
            .unwrap();
        cm.update_http_namespace()
            .id(&id)
            .namespace(change)
            .send()
            .await
            .unwrap();
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub async fn cloud_map(account: &str) -> aws_sdk_servicediscovery::Client {
    aws_sdk_servicediscovery::Client::new(&emulator().sdk_config(account, REGION).await)
}

/// The S3 client of `account`, path-style.
pub async fn s3_of(account: &str) -> aws_sdk_s3::Client {
    let config = emulator().sdk_config(account, REGION).await;
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    )
}

/// Creates `bucket` in `account`, in [`REGION`].
pub async fn create_bucket(account: &str, bucket: &str) {
    let location = aws_sdk_s3::types::CreateBucketConfiguration::builder()
        .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(REGION))
        .build();
    s3_of(account)
        .await
        .create_bucket()
        .bucket(bucket)
        .create_bucket_configuration(location)
        .send()
        .await
        .unwrap();
}

/// Writes `topology/{key}` of `bucket` in `account`.
pub async fn put_document(account: &str, bucket: &str, key: &str, text: &str) {
    s3_of(account)
        .await
        .put_object()
        .bucket(bucket)
        .key(format!("topology/{key}"))
        .body(text.as_bytes().to_vec().into())
        .send()
        .await
        .unwrap();
}

pub async fn dynamodb() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&emulator().sdk_config(OWN, REGION).await)
}

/// A daemon of its own account: `own` is a fresh account whose credentials the daemon runs
/// with, so that the source bucket and the daemon's own calls can be faulted without touching
/// any other test (they all share the emulator's default account).
pub struct OwnAccount {
    pub own: String,
    pub bucket: String,
}

impl OwnAccount {
    pub async fn new() -> OwnAccount {
        let own = emulator().new_account();
        let bucket = format!("own-{own}");
        create_bucket(&own, &bucket).await;
        OwnAccount { own, bucket }
    }

    pub async fn put(&self, key: &str, text: &str) {
        put_document(&self.own, &self.bucket, key, text).await;
    }

    /// `ecs-topology run` from this account's bucket with `setup`'s config, as `[`Setup::start`]
    /// starts it but with this account's credentials.
    pub async fn start(&self, setup: &Setup) -> Daemon {
        let config = emulator().sdk_config(&self.own, REGION).await;
        let credentials = config
            .credentials_provider()
            .unwrap()
            .provide_credentials()
            .await
            .unwrap();
        setup.start_with_env(
            &format!("s3://{}/topology/", self.bucket),
            &[
                ("AWS_ACCESS_KEY_ID", credentials.access_key_id()),
                ("AWS_SECRET_ACCESS_KEY", credentials.secret_access_key()),
                ("AWS_SESSION_TOKEN", credentials.session_token().unwrap()),
            ],
        )
    }
}

/// A running daemon; killed when dropped.
pub struct Daemon {
    pub child: Child,
    pub port: u16,
    pub log: PathBuf,
}

impl Daemon {
    /// GET a path; (status, body), or (0, "") when nothing answers.
    pub fn get(&self, path: &str) -> (u16, String) {
        http::get(self.port, path).unwrap_or_default()
    }

    /// A metric's value (the first sample whose line starts with `prefix`).
    pub fn metric(&self, prefix: &str) -> Option<f64> {
        let (_, text) = self.get("/metrics");
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits, at most `limit`, until `/readyz` answers 200.
    pub async fn until_ready(&self, limit: Duration) {
        eventually(limit, "ready", || async { self.get("/readyz").0 == 200 }).await;
    }

    /// Waits, at most `limit`, until `/healthz` answers 200.
    pub async fn until_healthy(&self, limit: Duration, what: &str) {
        eventually(limit, what, || async { self.get("/healthz").0 == 200 }).await;
    }

    /// Waits, at most `limit`, until `/healthz` answers 503 naming the loop `stuck`.
    pub async fn until_unhealthy(&self, stuck: &str, limit: Duration) {
        eventually(
            limit,
            &format!("healthz fails, naming the {stuck}"),
            || async {
                let (code, body) = self.get("/healthz");
                code == 503 && body.contains(stuck)
            },
        )
        .await;
    }

    /// Waits, at most `limit`, until the metric `prefix` is at least 1.
    pub async fn until_counted(&self, prefix: &str, limit: Duration, what: &str) {
        eventually(limit, what, || async {
            self.metric(prefix).unwrap_or(0.0) >= 1.0
        })
        .await;
    }

    /// Waits, at most `limit`, until a reconcile of a namespace has ended having changed it.
    pub async fn until_namespace_changed(&self, limit: Duration) {
        self.until_counted(
            "ecs_topology_reconcile_total{kind=\"CloudMapNamespace\",result=\"changed\"}",
            limit,
            "reconciled",
        )
        .await;
    }

    /// Sends SIGTERM and asserts that the daemon exits successfully within `within`; returns
    /// how long it took.
    pub fn terminate_cleanly(&mut self, within: Duration) -> Duration {
        let started = Instant::now();
        let status = self.terminate(within);
        let took = started.elapsed();
        let status = status
            .unwrap_or_else(|| panic!("still running {within:?} after SIGTERM\n{}", self.log()));
        assert!(status.success(), "{status:?}\n{}", self.log());
        took
    }

    /// Sends SIGTERM and waits for the exit, at most `within`.
    pub fn terminate(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until `check` holds, polling; panics with `what` after `limit`.
pub async fn eventually<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub fn namespace_doc(name: &str, description: &str) -> String {
    format!(
        "apiVersion: ecs-topology.dev/v1alpha1\nkind: CloudMapNamespace\nmetadata: {{name: {name}}}\nspec: {{account: server, region: {REGION}, name: {name}.internal, description: {description}}}\n"
    )
}
