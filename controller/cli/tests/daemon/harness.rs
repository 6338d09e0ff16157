use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_servicediscovery::types::{FilterCondition, NamespaceFilter, NamespaceFilterName};
use ecs_topology_testkit::{emulator, free_port, http};

pub const REGION: &str = "ap-northeast-1";
/// The controller's own account: where moto puts the static test credentials.
pub const OWN: &str = "123456789012";

/// Fresh accounts, a bucket, and a config for daemons.
pub struct Setup {
    pub dir: PathBuf,
    pub server: String,
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
        let location = aws_sdk_s3::types::CreateBucketConfiguration::builder()
            .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(REGION))
            .build();
        s3().await
            .create_bucket()
            .bucket(&bucket)
            .create_bucket_configuration(location)
            .send()
            .await
            .unwrap();
        let setup = Setup {
            dir,
            server: server.clone(),
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

    pub async fn put(&self, key: &str, text: &str) {
        s3().await
            .put_object()
            .bucket(&self.bucket)
            .key(format!("topology/{key}"))
            .body(text.as_bytes().to_vec().into())
            .send()
            .await
            .unwrap();
    }

    pub async fn delete(&self, key: &str) {
        s3().await
            .delete_object()
            .bucket(&self.bucket)
            .key(format!("topology/{key}"))
            .send()
            .await
            .unwrap();
    }

    pub fn start(&self, source: &str) -> Daemon {
        let port = free_port();
        let log = std::fs::File::create(self.dir.join(format!("daemon-{port}.log"))).unwrap();
        let child = emulator()
            .command(env!("CARGO_BIN_EXE_ecs-topology"), REGION)
            .args(["run", "--source", source, "--config"])
            .arg(self.dir.join("config.yaml"))
            .args(["--listen", &format!("127.0.0.1:{port}"), "--grace", "5s"])
            .env("ECS_TOPOLOGY_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .current_dir(&self.dir)
            .spawn()
            .unwrap();
        Daemon {
            child,
            port,
            log: self.dir.join(format!("daemon-{port}.log")),
        }
    }

    pub fn s3_source(&self) -> String {
        format!("s3://{}/topology/", self.bucket)
    }

    pub async fn namespaces(&self, account: &str) -> Vec<(String, Option<String>)> {
        let filter = NamespaceFilter::builder()
            .name(NamespaceFilterName::ResourceOwner)
            .values("SELF")
            .condition(FilterCondition::Eq)
            .build()
            .unwrap();
        let cm =
            aws_sdk_servicediscovery::Client::new(&emulator().sdk_config(account, REGION).await);
        let reply = cm.list_namespaces().filters(filter).send().await.unwrap();
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

    /// Drifts the server account's (first) namespace by hand: its description becomes
    /// `by hand`, as an operator in the console would leave it.
    pub async fn drift_namespace_by_hand(&self) {
        let cm = aws_sdk_servicediscovery::Client::new(
            &emulator().sdk_config(&self.server, REGION).await,
        );
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

pub async fn s3() -> aws_sdk_s3::Client {
    let config = emulator().sdk_config(OWN, REGION).await;
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    )
}

pub async fn dynamodb() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&emulator().sdk_config(OWN, REGION).await)
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
