//! `ecs-topology healthcheck` as the ECS container health check runs it: exit 0 on 200, 1
//! otherwise with a one-line reason.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::{Command, Output};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A server on a free loopback port answering one request with `response`; returns the request
/// it read.
fn serve_once(response: &'static str) -> (SocketAddr, JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 1024];
        while !request.ends_with(b"\r\n\r\n") {
            let n = stream.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            request.extend_from_slice(&buf[..n]);
        }
        stream.write_all(response.as_bytes()).unwrap();
        String::from_utf8(request).unwrap()
    });
    (addr, handle)
}

fn healthcheck(url: &str, timeout: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ecs-topology"))
        .args(["healthcheck", "--url", url, "--timeout", timeout])
        .env_remove("ECS_TOPOLOGY_HEALTHCHECK_URL")
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_healthy_controller_exits_0_after_one_plain_get() {
    let (addr, server) = serve_once(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 16\r\n\r\n\
         {\"healthy\":true}",
    );
    let output = healthcheck(&format!("http://{addr}/healthz"), "5s");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stderr(&output), "");
    let request = server.join().unwrap();
    assert!(
        request.starts_with("GET /healthz HTTP/1.1\r\n"),
        "{request}"
    );
    assert!(request.contains(&format!("Host: {addr}\r\n")), "{request}");
}

#[test]
fn an_unhealthy_controller_exits_1_with_the_reason_on_one_line() {
    let body =
        "{\"healthy\":false,\"reasons\":[\"task `observer` silent for 400.0s (limit 300.0s)\"]}";
    let response: &'static str = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .leak();
    let (addr, server) = serve_once(response);
    let output = healthcheck(&format!("http://{addr}/healthz"), "5s");
    server.join().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr(&output);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("HTTP 503"), "{stderr}");
    assert!(stderr.contains("task `observer` silent"), "{stderr}");
}

#[test]
fn nothing_listening_exits_1() {
    let addr = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let output = healthcheck(&format!("http://{addr}/healthz"), "5s");
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr(&output);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("connection failed"), "{stderr}");
}

#[test]
fn a_controller_that_never_answers_exits_1_within_the_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let started = Instant::now();
    let output = healthcheck(&format!("http://{addr}/healthz"), "300ms");
    assert_eq!(output.status.code(), Some(1));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        stderr(&output).contains("no answer within"),
        "{}",
        stderr(&output)
    );
    drop(listener);
}

#[test]
fn a_url_that_is_not_plain_http_exits_1() {
    let output = healthcheck("https://127.0.0.1:9464/healthz", "1s");
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("not a plain http:// URL"));
}
