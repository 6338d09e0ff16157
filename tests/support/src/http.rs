//! The one HTTP client of the tests: a tiny HTTP/1.1 client for the emulator's admin endpoints
//! and the daemon's `/healthz`, `/readyz`, `/status` and `/metrics`.
//!
//! Guarantees:
//! - One request per connection (`Connection: close`); the reply is read to the end of the
//!   connection, and a chunked body is de-chunked.
//! - Nothing waits for long: connecting and each read give up after [`TIMEOUT`] ([`request`]),
//!   the whole exchange after 30 s ([`request_async`]).
//!
//! The controller's own `healthcheck` command keeps a client of its own: it ships in the
//! product, with one deadline for the whole check and messages for the operator.

use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// How long [`request`] waits to connect, and for each read.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// How long [`request_async`] waits for the whole exchange.
const ASYNC_TIMEOUT: Duration = Duration::from_secs(30);

/// One request to `addr`, blocking; `(status, body)`.
///
/// A `body` is sent as JSON; a `POST` without a body says `Content-Length: 0`.
///
/// # Errors
/// When nothing answers, the connection fails, or the reply is not HTTP; the message says which.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&[u8]>,
) -> Result<(u16, Vec<u8>), String> {
    let mut stream = TcpStream::connect_timeout(&addr, TIMEOUT).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(TIMEOUT))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(&request_bytes(addr, method, path, body))
        .map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(|e| e.to_string())?;
    parse_response(&raw)
}

/// `GET path` of the server on loopback `port`, blocking; `(status, body as text)`.
///
/// # Errors
/// As [`request`].
pub fn get(port: u16, path: &str) -> Result<(u16, String), String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let (status, body) = request(addr, "GET", path, None)?;
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// From a page of the daemon's `/status`: how many documents it lists (those reconciled at least
/// once) and how many of them have a true `Ready` condition (in `conditions` or
/// `status.conditions`); `None` when the page is not JSON with a `documents` array.
pub fn ready_counts(status_page: &str) -> Option<(usize, usize)> {
    let page = serde_json::from_str::<serde_json::Value>(status_page).ok()?;
    let docs = page["documents"].as_array()?;
    let ready = docs
        .iter()
        .filter(|d| {
            let conditions = d
                .get("conditions")
                .or_else(|| d["status"].get("conditions"));
            conditions
                .and_then(serde_json::Value::as_array)
                .is_some_and(|cs| {
                    cs.iter()
                        .any(|c| c["type"] == "Ready" && c["status"] == "True")
                })
        })
        .count();
    Some((docs.len(), ready))
}

/// One request to `addr` on the Tokio runtime; `(status, body)`, as [`request`].
///
/// # Errors
/// As [`request`], and when the exchange takes longer than 30 s.
pub async fn request_async(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&[u8]>,
) -> Result<(u16, Vec<u8>), String> {
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| e.to_string())?;
        stream
            .write_all(&request_bytes(addr, method, path, body))
            .await
            .map_err(|e| e.to_string())?;
        let mut raw = Vec::new();
        stream
            .read_to_end(&mut raw)
            .await
            .map_err(|e| e.to_string())?;
        parse_response(&raw)
    };
    tokio::time::timeout(ASYNC_TIMEOUT, exchange)
        .await
        .map_err(|_| {
            format!(
                "{method} {path}: no reply within {} s",
                ASYNC_TIMEOUT.as_secs()
            )
        })?
}

fn request_bytes(addr: SocketAddr, method: &str, path: &str, body: Option<&[u8]>) -> Vec<u8> {
    let body = body.unwrap_or_default();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAccept: application/json\r\n"
    );
    if !body.is_empty() || method == "POST" {
        let _ = write!(
            request,
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        );
    }
    request.push_str("\r\n");
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

fn parse_response(raw: &[u8]) -> Result<(u16, Vec<u8>), String> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("incomplete HTTP reply")?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or_else(|| format!("bad status line in {head:?}"))?;
    let chunked = lines.any(|line| {
        let lower = line.to_ascii_lowercase();
        lower.starts_with("transfer-encoding:") && lower.contains("chunked")
    });
    let mut body = raw[split + 4..].to_vec();
    if chunked {
        body = dechunk(&body)?;
    }
    Ok((status, body))
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("bad chunked body")?;
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|e| format!("bad chunk size {size_text:?}: {e}"))?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        let chunk = data.get(..size).ok_or("short chunk")?;
        out.extend_from_slice(chunk);
        data = data.get(size + 2..).ok_or("short chunk")?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_and_plain_replies_are_parsed() {
        let plain = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
        assert_eq!(parse_response(plain).unwrap(), (200, b"{}".to_vec()));
        let chunked = b"HTTP/1.1 404 NOT FOUND\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        assert_eq!(parse_response(chunked).unwrap(), (404, b"abcde".to_vec()));
    }

    #[test]
    fn ready_counts_count_documents_and_those_ready() {
        let page = r#"{"documents": [
            {"name": "a", "conditions": [{"type": "Ready", "status": "True"}]},
            {"name": "b", "status": {"conditions": [{"type": "Ready", "status": "True"}]}},
            {"name": "c", "conditions": [{"type": "Ready", "status": "False"}]},
            {"name": "d"}
        ]}"#;
        assert_eq!(ready_counts(page), Some((4, 2)));
        assert_eq!(ready_counts(r#"{"documents": []}"#), Some((0, 0)));
        assert_eq!(ready_counts("not json"), None);
        assert_eq!(ready_counts("{}"), None);
    }

    #[test]
    fn a_post_without_a_body_says_its_length_is_zero() {
        let addr = SocketAddr::from(([127, 0, 0, 1], 4566));
        let post = String::from_utf8(request_bytes(addr, "POST", "/moto-api/reset", None)).unwrap();
        assert!(
            post.starts_with("POST /moto-api/reset HTTP/1.1\r\n"),
            "{post}"
        );
        assert!(post.contains("\r\nContent-Length: 0\r\n"), "{post}");
        assert!(post.ends_with("\r\n\r\n"), "{post}");
        let get = String::from_utf8(request_bytes(addr, "GET", "/status", None)).unwrap();
        assert!(!get.contains("Content-Length"), "{get}");
    }
}
