//! HTTP connections: kept open between calls, as AWS's endpoints keep them, unless the client
//! asks to close.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// `DescribeRegions` as the EC2 query protocol sends it (the emulator reads the account and
/// service from the credential scope).
fn describe_regions(host: &str, connection: Option<&str>) -> Vec<u8> {
    let body = "Action=DescribeRegions&Version=2016-11-15";
    let connection = connection.map_or(String::new(), |c| format!("Connection: {c}\r\n"));
    format!(
        "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261202/us-east-1/ec2/\
         aws4_request, SignedHeaders=host, Signature=0\r\n{connection}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// One reply read off the connection: its status and headers (names lower-cased); the body is
/// read by its `Content-Length` and dropped.
fn reply(reader: &mut BufReader<TcpStream>) -> (u16, Vec<(String, String)>) {
    let mut line = String::new();
    reader.read_line(&mut line).expect("a status line");
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a status line: {line:?}"));
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).expect("a header line");
        let Some((name, value)) = line.trim_end().split_once(':') else {
            break;
        };
        headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .expect("a Content-Length");
    let mut body = vec![0; length];
    reader.read_exact(&mut body).expect("the body");
    (status, headers)
}

fn connect() -> (TcpStream, String) {
    let url = ecs_topology_testkit::emulator().endpoint_url().to_owned();
    let host = url.trim_start_matches("http://").to_owned();
    let addr: SocketAddr = host.parse().expect("host:port");
    let stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    (stream, host)
}

fn says_close(headers: &[(String, String)]) -> bool {
    headers
        .iter()
        .any(|(n, v)| n == "connection" && v.eq_ignore_ascii_case("close"))
}

#[test]
fn calls_share_one_connection_as_aws_keeps_it_open() {
    let (mut stream, host) = connect();
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    for call in 0..3 {
        stream
            .write_all(&describe_regions(&host, None))
            .expect("send");
        let (status, headers) = reply(&mut reader);
        assert_eq!(status, 200, "call {call}");
        assert!(!says_close(&headers), "call {call} closes: {headers:?}");
    }
}

#[test]
fn a_client_that_asks_to_close_gets_its_connection_closed() {
    let (mut stream, host) = connect();
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    stream
        .write_all(&describe_regions(&host, Some("close")))
        .expect("send");
    let (status, headers) = reply(&mut reader);
    assert_eq!(status, 200);
    assert!(says_close(&headers), "{headers:?}");
    let mut rest = Vec::new();
    reader
        .read_to_end(&mut rest)
        .expect("the end of the stream");
    assert!(rest.is_empty(), "nothing after the reply: {rest:?}");
}
