//! The topology page in a real browser (headless Chromium against the daemon on the emulator),
//! and `get` / `describe` in the terminal.

use std::process::Command;
use std::time::Duration;

use ecs_topology_testkit::emulator;

use crate::harness::*;

const SCRIPT: &str = "<script>alert(1)</script>";

/// Chromium, installed by the project's own setup script on first use.
fn chromium() -> &'static str {
    static PATH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PATH.get_or_init(|| {
        let out =
            Command::new(ecs_topology_testkit::workspace_root().join("tests/tools/setup-chromium"))
                .output()
                .unwrap();
        assert!(
            out.status.success(),
            "tests/tools/setup-chromium: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    })
}

/// The page at `path` as Chromium renders it once its script has fetched and drawn.
fn rendered(daemon: &Daemon, path: &str) -> String {
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(format!("http://127.0.0.1:{}{path}", daemon.port))
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// How often `needle` occurs in `text`.
fn count(text: &str, needle: &str) -> usize {
    text.matches(needle).count()
}

/// The `data-state` of the node of `key` in a rendered page.
fn state_of(page: &str, key: &str) -> Option<String> {
    let at = page.find(&format!("data-key=\"{key}\""))?;
    let tag_end = at + page[at..].find('>')?;
    let tag = &page[..tag_end];
    let start = tag.rfind("data-state=\"")? + "data-state=\"".len();
    let value = &page[start..];
    Some(value[..value.find('"')?].to_owned())
}

/// Sets the description of the server account's namespace `name` by hand.
async fn describe_by_hand(setup: &Setup, name: &str, description: &str) {
    let cm =
        aws_sdk_servicediscovery::Client::new(&emulator().sdk_config(&setup.server, REGION).await);
    let list = cm.list_namespaces().send().await.unwrap();
    let id = list
        .namespaces()
        .iter()
        .find(|n| n.name() == Some(name))
        .and_then(|n| n.id())
        .unwrap()
        .to_owned();
    let change = aws_sdk_servicediscovery::types::HttpNamespaceChange::builder()
        .description(description)
        .build()
        .unwrap();
    cm.update_http_namespace()
        .id(id)
        .namespace(change)
        .send()
        .await
        .unwrap();
}

fn cli(daemon: &Daemon, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ecs-topology"))
        .args(args)
        .args(["--url", &format!("http://127.0.0.1:{}", daemon.port)])
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn share_doc() -> String {
    format!(
        "apiVersion: ecs-topology.dev/v1alpha1\nkind: NamespaceShare\nmetadata: {{name: payments-to-client}}\nspec: {{account: server, region: {REGION}, namespaceRef: payments, principals: [client]}}\n"
    )
}

/// The namespace `lambda`, suspended or not.
fn lambda_doc(suspended: bool) -> String {
    let annotations = if suspended {
        ", annotations: {ecs-topology.dev/suspend: 'true'}"
    } else {
        ""
    };
    format!(
        "apiVersion: ecs-topology.dev/v1alpha1\nkind: CloudMapNamespace\nmetadata: {{name: lambda{annotations}}}\nspec: {{account: server, region: {REGION}, name: lambda.internal, description: Lambda}}\n"
    )
}

/// The client account's id, as the setup's config names it.
fn client_of(setup: &Setup) -> String {
    let config = std::fs::read_to_string(setup.dir.join("config.yaml")).unwrap();
    let line = config.lines().find(|l| l.contains("client:")).unwrap();
    line.split('\'').nth(1).unwrap().to_owned()
}

/// Renders `path` until `key` is drawn in `state`; the page.
async fn until_drawn(daemon: &Daemon, path: &str, key: &str, state: &str) -> String {
    let mut page = String::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while state_of(&page, key).as_deref() != Some(state) {
        assert!(
            std::time::Instant::now() < deadline,
            "{key} never drawn {state}: {page}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        page = rendered(daemon, path);
    }
    page
}

const KEYS: [&str; 3] = [
    "CloudMapNamespace/payments",
    "CloudMapNamespace/lambda",
    "NamespaceShare/payments-to-client",
];

#[tokio::test]
async fn the_topology_page_draws_each_document_once_with_its_share_edge_drift_and_text_only() {
    let setup = Setup::new("").await;
    setup
        .put("a.yaml", &namespace_doc("payments", "Payments"))
        .await;
    setup.put("b.yaml", &share_doc()).await;
    setup.put("c.yaml", &lambda_doc(false)).await;
    let daemon = setup.start(&setup.s3_source());
    for key in KEYS {
        until_drawn(&daemon, "/", key, "Ready").await;
    }
    let page = rendered(&daemon, "/");
    for key in KEYS {
        assert_eq!(
            count(&page, &format!("data-key=\"{key}\"")),
            1,
            "{key} drawn once"
        );
    }
    let client = client_of(&setup);
    assert_eq!(
        count(&page, &format!("data-account=\"{client}\"")),
        1,
        "the consumer account has its lane: {page}"
    );
    let edge = format!(
        "data-edge=\"share\" data-from=\"NamespaceShare/payments-to-client\" data-to=\"{client}\" data-seen=\"true\""
    );
    assert_eq!(
        count(&page, &edge),
        1,
        "the share edge, seen by the client: {page}"
    );
    let (code, out) = cli(&daemon, &["get"]);
    assert_eq!(code, 0, "all Ready: {out}");
    assert_eq!(out.lines().count(), 1 + KEYS.len(), "{out}");

    // Suspended, then drifted by hand with markup in the value: Drifted within a poll, the value
    // shown as text in the pending plan of the document's details.
    let revision = || {
        let (_, body) = daemon.get("/status");
        let status: serde_json::Value = serde_json::from_str(&body).unwrap();
        status["documents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["key"] == "CloudMapNamespace/lambda")
            .map(|d| d["observedRevision"].clone())
    };
    let before = revision();
    setup.put("c.yaml", &lambda_doc(true)).await;
    eventually(Duration::from_secs(20), "the suspension is loaded", || {
        let now = revision();
        let before = before.clone();
        async move { now != before }
    })
    .await;
    describe_by_hand(&setup, "lambda.internal", SCRIPT).await;
    let page = until_drawn(
        &daemon,
        "/#CloudMapNamespace/lambda",
        "CloudMapNamespace/lambda",
        "Drifted",
    )
    .await;
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "the drifted value as text in the details: {page}"
    );
    assert_eq!(
        count(&page, "<script"),
        1,
        "no script but the page's own: {page}"
    );
    let (code, out) = cli(&daemon, &["describe", "cmns/lambda"]);
    assert_eq!(code, 2, "not Ready: {out}");
    assert!(
        out.contains("State:     Drifted") && out.contains(SCRIPT),
        "{out}"
    );
    let (code, out) = cli(&daemon, &["get", "nsshare", "-o", "json"]);
    assert_eq!(code, 0, "{out}");
    let listed: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(cli(&daemon, &["get"]).0, 2, "one document is not Ready");
    assert_eq!(cli(&daemon, &["describe", "CloudMapNamespace/nope"]).0, 3);

    // Put back by hand: nothing to change, Ready again.
    describe_by_hand(&setup, "lambda.internal", "Lambda").await;
    until_drawn(&daemon, "/", "CloudMapNamespace/lambda", "Ready").await;
}
