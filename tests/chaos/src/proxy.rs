//! A per-replica AWS endpoint in front of the emulator: it forwards every request, records the
//! operation and when it arrived, and when *cut* answers the replica's lease writes (DynamoDB
//! `UpdateItem`) with HTTP 500 instead, so that one replica alone loses the lease table while the
//! others keep it (the emulator's fault profile is per account, and every replica runs as the
//! same account).
//!
//! One request per connection: the request goes upstream with `Connection: close`, the reply
//! comes back as the emulator wrote it (it says `Connection: close` too), then both close.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// One request the proxy saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub at: Instant,
    /// `DynamoDB_20120810.UpdateItem`, `Action=CreateVpcEndpoint`'s `CreateVpcEndpoint`, or a
    /// REST path's first segment.
    pub operation: String,
    /// Whether it went to the emulator (not answered by the cut).
    pub forwarded: bool,
}

#[derive(Debug)]
pub struct Proxy {
    pub url: String,
    cut: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// A proxy to the emulator at `upstream` (`http://host:port`) on a free loopback port.
    pub async fn start(upstream: &str) -> anyhow::Result<Proxy> {
        let upstream: SocketAddr = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let cut = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (task_cut, task_seen) = (cut.clone(), seen.clone());
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (cut, seen) = (task_cut.clone(), task_seen.clone());
                tokio::spawn(async move {
                    let _ = serve(client, upstream, &cut, &seen).await;
                });
            }
        });
        Ok(Proxy {
            url,
            cut,
            seen,
            task,
        })
    }

    /// Cuts the replica off from its lease writes (or lets them through again).
    pub fn cut(&self, on: bool) {
        self.cut.store(on, Ordering::SeqCst);
    }

    /// The requests forwarded from `from` until `until` that change AWS (every operation but
    /// reads, the lease's DynamoDB calls and `AssumeRole`).
    pub fn mutating_between(&self, from: Instant, until: Instant) -> Vec<String> {
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.iter()
            .filter(|s| s.at >= from && s.at < until && s.forwarded)
            .filter(|s| !s.operation.starts_with("DynamoDB"))
            .map(|s| {
                s.operation
                    .rsplit('.')
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            })
            .filter(|op| op != "AssumeRole" && !is_read(op))
            .collect()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Whether an operation only reads, whatever its case (REST paths are lower case).
fn is_read(operation: &str) -> bool {
    let op = operation.to_ascii_lowercase();
    ["describe", "list", "get", "head", "batchget"]
        .iter()
        .any(|p| op.starts_with(p))
        || matches!(op.as_str(), "scan" | "query")
}

async fn serve(
    mut client: TcpStream,
    upstream: SocketAddr,
    cut: &AtomicBool,
    seen: &Mutex<Vec<Seen>>,
) -> anyhow::Result<()> {
    let mut buf = Vec::with_capacity(8192);
    let head_end = loop {
        let mut chunk = [0u8; 8192];
        let n = client.read(&mut chunk).await?;
        anyhow::ensure!(n > 0, "closed before a request");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let header = |name: &str| {
        head.lines().find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim().to_owned())
        })
    };
    let length: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let mut chunk = [0u8; 8192];
        let n = client.read(&mut chunk).await?;
        anyhow::ensure!(n > 0, "closed mid-body");
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = &buf[head_end..];
    let operation = match header("x-amz-target") {
        Some(target) => target,
        None => {
            let text = String::from_utf8_lossy(body);
            let action = text
                .split('&')
                .find_map(|p| p.strip_prefix("Action="))
                .map(str::to_owned);
            action.unwrap_or_else(|| {
                let path = head.split_whitespace().nth(1).unwrap_or("/");
                path.trim_start_matches('/')
                    .split(['/', '?'])
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            })
        }
    };
    let lease_write = operation == "DynamoDB_20120810.UpdateItem";
    let forwarded = !(lease_write && cut.load(Ordering::SeqCst));
    seen.lock().unwrap_or_else(|p| p.into_inner()).push(Seen {
        at: Instant::now(),
        operation,
        forwarded,
    });
    if !forwarded {
        let reply = r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"cut off by the chaos proxy"}"#;
        let answer = format!(
            "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
            reply.len()
        );
        client.write_all(answer.as_bytes()).await?;
        return Ok(());
    }
    let mut request = String::new();
    for line in head[..head_end].split("\r\n").filter(|l| !l.is_empty()) {
        if !line.to_ascii_lowercase().starts_with("connection:") {
            request.push_str(line);
            request.push_str("\r\n");
        }
    }
    request.push_str("Connection: close\r\n\r\n");
    let mut server = TcpStream::connect(upstream).await?;
    server.write_all(request.as_bytes()).await?;
    server.write_all(body).await?;
    tokio::io::copy(&mut server, &mut client).await?;
    client.shutdown().await?;
    Ok(())
}
