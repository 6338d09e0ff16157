//! A test world: fresh emulator accounts, a document directory, a controller config, and the
//! binary run against them.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Output};

use aws_sdk_servicediscovery::types::{FilterCondition, NamespaceFilter, NamespaceFilterName};
use ecs_topology_testkit::{Calls, emulator};

pub const REGION: &str = "ap-northeast-1";

pub struct World {
    pub dir: PathBuf,
    pub server: String,
    pub client: String,
    pub controller: String,
}

impl World {
    /// Two fresh accounts (`server`, `client`) and an empty document directory.
    pub fn new() -> World {
        let server = emulator().new_account();
        let client = emulator().new_account();
        let controller = format!("ctl-{server}");
        let dir = std::env::temp_dir().join(format!("ecs-topology-e2e-{server}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("docs")).unwrap();
        let world = World {
            dir,
            server,
            client,
            controller,
        };
        world.write_config("");
        world
    }

    /// Another world on the same accounts, run by the controller named `controller`, with its
    /// own documents and status.
    pub fn same_accounts(other: &World, controller: &str) -> World {
        let dir = other.dir.with_extension("second");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("docs")).unwrap();
        let world = World {
            dir,
            server: other.server.clone(),
            client: other.client.clone(),
            controller: controller.to_owned(),
        };
        world.write_config("");
        world
    }

    pub fn docs(&self) -> PathBuf {
        self.dir.join("docs")
    }

    pub fn write_config(&self, extra: &str) {
        let config = format!(
            "name: {ctl}\naccounts:\n  server: {{id: '{s}', roleArn: 'arn:aws:iam::{s}:role/ecs-topology-target', externalId: x}}\n  client: {{id: '{c}', roleArn: 'arn:aws:iam::{c}:role/ecs-topology-target'}}\nregions: [{REGION}]\nstatus: {{directory: '{status}'}}\n{extra}",
            ctl = self.controller,
            s = self.server,
            c = self.client,
            status = self.dir.join("status").display(),
        );
        std::fs::write(self.dir.join("config.yaml"), config).unwrap();
    }

    pub fn write(&self, file: &str, text: &str) {
        std::fs::write(self.docs().join(file), text).unwrap();
    }

    pub fn remove(&self, file: &str) {
        std::fs::remove_file(self.docs().join(file)).unwrap();
    }

    /// Runs the binary with the emulator as AWS and the controller's own credentials.
    pub fn run(&self, args: &[&str]) -> Output {
        let config = self.dir.join("config.yaml");
        let docs = self.docs();
        let mut full: Vec<&str> = args.to_vec();
        full.extend([
            "--source",
            docs.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
        ]);
        self.command(&full).output().unwrap()
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ecs-topology"));
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_ENDPOINT_URL", emulator().endpoint_url())
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", REGION)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .current_dir(&self.dir);
        command
    }

    pub fn apply(&self) -> (i32, String) {
        let out = self.run(&["apply", "--once"]);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code().unwrap_or(-1), text)
    }

    pub fn plan(&self) -> (i32, String) {
        let out = self.run(&["plan"]);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code().unwrap_or(-1), text)
    }

    pub fn plan_json(&self) -> serde_json::Value {
        let out = self.run(&["plan", "--output", "json"]);
        serde_json::from_slice(&out.stdout).unwrap()
    }

    pub async fn cloud_map(&self, account: &str) -> aws_sdk_servicediscovery::Client {
        aws_sdk_servicediscovery::Client::new(&emulator().sdk_config(account, REGION).await)
    }

    pub async fn ram(&self, account: &str) -> aws_sdk_ram::Client {
        aws_sdk_ram::Client::new(&emulator().sdk_config(account, REGION).await)
    }

    /// The namespaces an account owns, by name, with their ids and ARNs.
    pub async fn namespaces(&self, account: &str) -> BTreeMap<String, (String, String)> {
        let filter = NamespaceFilter::builder()
            .name(NamespaceFilterName::ResourceOwner)
            .values("SELF")
            .condition(FilterCondition::Eq)
            .build()
            .unwrap();
        let mut out = BTreeMap::new();
        let client = self.cloud_map(account).await;
        let mut token = None;
        loop {
            let reply = client
                .list_namespaces()
                .filters(filter.clone())
                .set_next_token(token)
                .send()
                .await
                .unwrap();
            for ns in reply.namespaces() {
                out.insert(
                    ns.name().unwrap().to_owned(),
                    (ns.id().unwrap().to_owned(), ns.arn().unwrap().to_owned()),
                );
            }
            token = reply.next_token;
            if token.is_none() {
                return out;
            }
        }
    }

    /// ARNs of the namespaces shared with an account.
    pub async fn shared_with(&self, account: &str) -> Vec<String> {
        let filter = NamespaceFilter::builder()
            .name(NamespaceFilterName::ResourceOwner)
            .values("OTHER_ACCOUNTS")
            .condition(FilterCondition::Eq)
            .build()
            .unwrap();
        let reply = self
            .cloud_map(account)
            .await
            .list_namespaces()
            .filters(filter)
            .send()
            .await
            .unwrap();
        reply
            .namespaces()
            .iter()
            .filter_map(|n| n.arn().map(str::to_owned))
            .collect()
    }

    pub async fn calls(&self) -> Calls {
        emulator().calls().await
    }

    pub fn status(&self, key: &str) -> serde_json::Value {
        let (kind, name) = key.split_once('/').unwrap();
        let path = self
            .dir
            .join("status")
            .join(kind)
            .join(format!("{name}.json"));
        serde_json::from_str(
            &std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
        )
        .unwrap()
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn namespace_doc(name: &str, account: &str, extra_meta: &str, description: &str) -> String {
    format!(
        "apiVersion: ecs-topology.dev/v1alpha1\nkind: CloudMapNamespace\nmetadata:\n  name: {name}\n{extra_meta}spec:\n  account: {account}\n  region: {REGION}\n  name: {name}.internal\n  description: {description}\n  tags: {{team: payments}}\n"
    )
}

pub fn share_doc(name: &str, namespace: &str, principals: &str) -> String {
    format!(
        "apiVersion: ecs-topology.dev/v1alpha1\nkind: NamespaceShare\nmetadata:\n  name: {name}\nspec:\n  account: server\n  region: {REGION}\n  namespaceRef: {namespace}\n  principals: [{principals}]\n"
    )
}

pub fn condition<'a>(status: &'a serde_json::Value, kind: &str) -> &'a serde_json::Value {
    status["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == kind)
        .unwrap_or_else(|| panic!("no {kind} condition in {status}"))
}
