//! `ecs-topology healthcheck [--url URL] [--timeout 2s]`: probes the controller's `/healthz`
//! for an ECS container health check, in an image without curl.
//!
//! Exit 0 when the endpoint answers 200; 1 otherwise, with a one-line reason on stderr.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use ecs_topology_core::duration::parse_duration;

/// The largest response read; a health answer is a few hundred bytes.
const MAX_RESPONSE: usize = 64 * 1024;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The endpoint to probe (plain HTTP).
    #[arg(
        long,
        env = "ECS_TOPOLOGY_HEALTHCHECK_URL",
        default_value = "http://127.0.0.1:9464/healthz"
    )]
    url: String,
    /// How long the whole exchange may take: 500ms, 2s, ...
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    timeout: Duration,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match get(&args.url, args.timeout) {
        Ok(reply) if reply.status == 200 => Ok(ExitCode::SUCCESS),
        Ok(reply) => {
            eprintln!(
                "unhealthy: {} answered HTTP {}: {}",
                args.url,
                reply.status,
                one_line(&reply.body)
            );
            Ok(ExitCode::from(1))
        }
        Err(e) => {
            let mut reason = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                reason = format!("{reason}: {cause}");
                source = cause.source();
            }
            eprintln!("unhealthy: {}: {reason}", args.url);
            Ok(ExitCode::from(1))
        }
    }
}

/// The first line of `text`, at most 300 characters.
fn one_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default().trim();
    line.chars().take(300).collect()
}

/// An HTTP answer: its status code and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: String,
}

/// Why a probe got no answer.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("not a plain http:// URL with a host")]
    Url,
    #[error("cannot resolve the address")]
    Resolve(#[source] std::io::Error),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("connection failed")]
    Io(#[source] std::io::Error),
    #[error("not an HTTP response")]
    Malformed,
}

/// A plain HTTP/1.1 GET of `url` over one connection, all within `timeout`.
///
/// # Errors
///
/// No connection, no complete answer within `timeout`, or an answer that is not HTTP.
pub fn get(url: &str, timeout: Duration) -> Result<Reply, ProbeError> {
    get_at_most(url, timeout, MAX_RESPONSE)
}

/// As [`get`], reading at most `max` bytes of the answer.
///
/// # Errors
///
/// As [`get`].
pub fn get_at_most(url: &str, timeout: Duration, max: usize) -> Result<Reply, ProbeError> {
    let deadline = Instant::now() + timeout;
    let left = || {
        deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or(ProbeError::Timeout(timeout))
    };
    let io = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
            ProbeError::Timeout(timeout)
        }
        _ => ProbeError::Io(e),
    };
    let (authority, host, port, path) = split_url(url).ok_or(ProbeError::Url)?;
    let addrs: Vec<_> = (host, port)
        .to_socket_addrs()
        .map_err(ProbeError::Resolve)?
        .collect();
    let mut last = None;
    let mut stream = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, left()?) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last = Some(e),
        }
    }
    let mut stream = match (stream, last) {
        (Some(s), _) => s,
        (None, Some(e)) => return Err(io(e)),
        (None, None) => return Err(ProbeError::Resolve(std::io::ErrorKind::NotFound.into())),
    };
    stream.set_write_timeout(Some(left()?)).map_err(io)?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: ecs-topology-healthcheck\r\n\
         Accept: */*\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).map_err(io)?;
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        stream.set_read_timeout(Some(left()?)).map_err(io)?;
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                response.extend_from_slice(&buf[..n]);
                if response.len() >= max {
                    break;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io(e)),
        }
    }
    parse_response(&response).ok_or(ProbeError::Malformed)
}

/// `http://host[:port][/path]` → (authority, host, port, path).
fn split_url(url: &str) -> Option<(&str, &str, u16, &str)> {
    let rest = url.strip_prefix("http://")?;
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) if rest[i..].starts_with('/') => (&rest[..i], &rest[i..]),
        Some(_) => return None,
        None => (rest, "/"),
    };
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (host, after) = bracketed.split_once(']')?;
        match after.strip_prefix(':') {
            Some(port) => (host, port.parse().ok()?),
            None if after.is_empty() => (host, 80),
            None => return None,
        }
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, port.parse().ok()?),
            None => (authority, 80),
        }
    };
    (!host.is_empty()).then_some((authority, host, port, path))
}

/// The status and body of a complete HTTP/1.x response (body chunked or not).
fn parse_response(bytes: &[u8]) -> Option<Reply> {
    let split = bytes.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&bytes[..split]).ok()?;
    let body = &bytes[split + 4..];
    let mut lines = head.split("\r\n");
    let mut status_line = lines.next()?.split(' ');
    if !status_line.next()?.starts_with("HTTP/1.") {
        return None;
    }
    let status: u16 = status_line.next()?.parse().ok()?;
    let headers: Vec<(&str, &str)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim(), value.trim()))
        .collect();
    let header = |wanted: &str| {
        headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(wanted))
            .map(|(_, value)| *value)
    };
    let chunked = header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_vec()
    };
    Some(Reply {
        status,
        content_type: header("content-type").map(str::to_owned),
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// The data of a chunked body, as far as it is complete.
fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = body.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&body[..eol])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next()?.trim(), 16).ok());
        let Some(size) = size.filter(|s| *s > 0) else {
            break;
        };
        let data = &body[eol + 2..];
        out.extend_from_slice(&data[..size.min(data.len())]);
        body = data.get(size + 2..).unwrap_or_default();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_host_port_and_path() {
        assert_eq!(
            split_url("http://127.0.0.1:9464/healthz"),
            Some(("127.0.0.1:9464", "127.0.0.1", 9464, "/healthz"))
        );
        assert_eq!(
            split_url("http://localhost"),
            Some(("localhost", "localhost", 80, "/"))
        );
        assert_eq!(
            split_url("http://[::1]:8080/readyz?x=1"),
            Some(("[::1]:8080", "::1", 8080, "/readyz?x=1"))
        );
        assert_eq!(split_url("https://example.com/"), None);
        assert_eq!(split_url("http://:80/"), None);
        assert_eq!(split_url("http://host:port/"), None);
    }

    #[test]
    fn a_response_with_a_length_or_chunks_gives_its_status_and_body() {
        let plain = b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 5\r\n\r\nstale";
        assert_eq!(
            parse_response(plain),
            Some(Reply {
                status: 503,
                content_type: None,
                body: "stale".into()
            })
        );
        let chunked =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n\
                        3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        assert_eq!(
            parse_response(chunked),
            Some(Reply {
                status: 200,
                content_type: Some("text/plain".into()),
                body: "abcde".into()
            })
        );
        assert_eq!(parse_response(b"SSH-2.0-OpenSSH\r\n\r\n"), None);
    }

    #[test]
    fn the_reason_is_one_short_line() {
        assert_eq!(
            one_line("  {\"healthy\":false}\nmore"),
            "{\"healthy\":false}"
        );
        assert_eq!(one_line(&"x".repeat(1000)).len(), 300);
    }
}
