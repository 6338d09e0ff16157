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
    render(&format!("http://127.0.0.1:{}{path}", daemon.port), 5000)
}

/// The page at `url` after `budget_ms` of the browser's virtual time.
fn render(url: &str, budget_ms: u32) -> String {
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            &format!("--virtual-time-budget={budget_ms}"),
            "--dump-dom",
        ])
        .arg(url)
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// What the page fetches, as the daemon answered at one moment: `/status`, `/topology` and the
/// pending plan of `key`.
fn answers(daemon: &Daemon, key: &str) -> serde_json::Value {
    let json = |path: &str| {
        let (code, body) = daemon.get(path);
        assert_eq!(code, 200, "{path}: {body}");
        serde_json::from_str::<serde_json::Value>(&body).unwrap()
    };
    serde_json::json!({
        "status": json("/status"),
        "topology": json("/topology"),
        "plan": json(&format!("/plan/{key}")),
    })
}

/// The daemon's page, opened at `#key`, with its fetches answered from `moments`: the first
/// moment until the page fetches `/status` again, then the next, and so on (the last one kept).
/// Deterministic where the live page races the daemon: the state changes between two refreshes.
fn replayed(setup: &Setup, moments: &[serde_json::Value], key: &str) -> String {
    let ui = ecs_topology_testkit::workspace_root().join("controller/cli/src/server/ui");
    let index = std::fs::read_to_string(ui.join("index.html")).unwrap();
    // In a script element: `<` escaped, so that no value can end it.
    let data = serde_json::to_string(moments)
        .unwrap()
        .replace('<', "\\u003c");
    let fetch = format!(
        r#"<script>
const MOMENTS = {data};
let moment = -1;
window.fetch = async (path) => {{
  if (path === "/status") moment = Math.min(moment + 1, MOMENTS.length - 1);
  const now = MOMENTS[Math.max(moment, 0)];
  const body = path === "/status" ? now.status : path === "/topology" ? now.topology
    : path.startsWith("/plan/") ? now.plan : undefined;
  return {{ ok: body !== undefined, status: body === undefined ? 404 : 200, json: async () => body }};
}};
</script>
<script src="file://{}"></script>"#,
        ui.join("app.js").display()
    );
    let script = r#"<script src="/ui/app.js"></script>"#;
    assert!(index.contains(script), "{index}");
    let page = setup.dir.join("replayed.html");
    std::fs::write(&page, index.replace(script, &fetch)).unwrap();
    // Long enough for two refreshes after the first drawing.
    render(&format!("file://{}#{key}", page.display()), 8000)
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
    let in_sync = answers(&daemon, "CloudMapNamespace/lambda");
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
    let details = |page: &str| {
        let plan = page.split("<div id=\"plan\">").nth(1).unwrap_or_default();
        plan[..plan.find("</aside>").unwrap_or(plan.len())].to_owned()
    };
    let escaped = "&lt;script&gt;alert(1)&lt;/script&gt;";
    assert!(
        details(&page).contains(escaped),
        "the drifted value as text in the pending plan: {page}"
    );
    assert_eq!(
        count(&page, "<script"),
        1,
        "no script but the page's own: {page}"
    );

    // The page open while the document drifts: the next refresh plans it again, so the pending
    // plan shown is never older than the state beside it; what is left out is not drawn as
    // "null". Replayed from what the daemon answered before and after, as the live page cannot
    // be made to refresh at the moment of the change.
    let drifted = answers(&daemon, "CloudMapNamespace/lambda");
    let verb = drifted["plan"]["verb"].as_str().unwrap().to_owned();
    assert_ne!(in_sync["plan"]["verb"].as_str(), Some(verb.as_str()));
    let page = replayed(&setup, &[in_sync, drifted], "CloudMapNamespace/lambda");
    assert_eq!(
        state_of(&page, "CloudMapNamespace/lambda").as_deref(),
        Some("Drifted"),
        "{page}"
    );
    let plan = details(&page);
    assert!(
        plan.starts_with(&format!("<p>{verb}")) && plan.contains(escaped),
        "the plan of the drifted document in its details: {page}"
    );
    let body = page
        .split("<div id=\"detail-body\">")
        .nth(1)
        .unwrap_or_default();
    assert!(
        !body.contains("</p>null") && !body.contains("</table>null"),
        "nothing left out is drawn as text: {page}"
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
