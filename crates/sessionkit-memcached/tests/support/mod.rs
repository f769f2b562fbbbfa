//! Shared by the memcached test files.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sessionkit_core::Id;
use sessionkit_memcached::{MemcachedPlacement, MemcachedStore};

pub(crate) const NODE_A: &str = "127.0.0.1:11211";
pub(crate) const NODE_B: &str = "127.0.0.1:11212";

/// A key prefix of its own, so parallel tests never see each other's keys.
pub(crate) fn unique_prefix() -> String {
    format!("sktest:{}:", &Id::random().to_string()[..12])
}

/// A store over `servers`, failing the test with instructions when one does not answer.
pub(crate) async fn connect(servers: &[&str]) -> MemcachedStore {
    connect_placed(servers, MemcachedPlacement::default()).await
}

/// As [`connect`], placing keys by `placement`.
pub(crate) async fn connect_placed(
    servers: &[&str],
    placement: MemcachedPlacement,
) -> MemcachedStore {
    MemcachedStore::builder(servers.iter().copied())
        .key_prefix(unique_prefix())
        .placement(placement)
        .build_and_ping()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "memcached is not reachable at {servers:?}: {e:?}.\n\
                 Start the test servers with ./scripts/services (memcached on 11211 and 11212)."
            )
        })
}

/// Sends one text command and returns the first reply line.
pub(crate) fn command(server: &str, line: &str) -> String {
    let mut stream = TcpStream::connect(server).expect("memcached answers");
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    stream.write_all(format!("{line}\r\n").as_bytes()).unwrap();
    let mut reply = String::new();
    BufReader::new(stream).read_line(&mut reply).unwrap();
    reply.trim_end().to_owned()
}

/// The remaining TTL the server reports for `key` (`mg key t`), or None on a miss.
pub(crate) fn server_ttl(server: &str, key: &str) -> Option<i64> {
    let reply = command(server, &format!("mg {key} t"));
    if reply == "EN" {
        return None;
    }
    let flag = reply.split_whitespace().find(|f| f.starts_with('t'))?;
    Some(flag[1..].parse().unwrap())
}

/// The value stored under `key` (`mg key v`), or None on a miss.
pub(crate) fn server_value(server: &str, key: &str) -> Option<Vec<u8>> {
    let mut stream = TcpStream::connect(server).expect("memcached answers");
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    stream
        .write_all(format!("mg {key} v\r\n").as_bytes())
        .unwrap();
    let mut reader = BufReader::new(stream);
    let mut header = String::new();
    reader.read_line(&mut header).unwrap();
    let header = header.trim_end();
    if header == "EN" {
        return None;
    }
    let len: usize = header
        .strip_prefix("VA ")
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected reply {header:?}"));
    let mut value = vec![0; len + 2];
    reader.read_exact(&mut value).unwrap();
    value.truncate(len);
    Some(value)
}

/// Stores `value` under `key` for `ttl` seconds (`ms key <len> T<ttl>`), bypassing the store.
pub(crate) fn server_set(server: &str, key: &str, value: &[u8], ttl: u32) {
    let mut stream = TcpStream::connect(server).expect("memcached answers");
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let mut request = format!("ms {key} {} T{ttl}\r\n", value.len()).into_bytes();
    request.extend_from_slice(value);
    request.extend_from_slice(b"\r\n");
    stream.write_all(&request).unwrap();
    let mut reply = String::new();
    BufReader::new(stream).read_line(&mut reply).unwrap();
    assert_eq!(reply.trim_end(), "HD", "ms {key}");
}

/// Collects the warnings logged on this thread while it lives (tests on the default
/// single-threaded tokio runtime run every task on the test's thread).
pub(crate) struct Warnings {
    lines: Arc<Mutex<Vec<u8>>>,
    _guard: tracing::subscriber::DefaultGuard,
}

impl Warnings {
    pub(crate) fn capture() -> Self {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_ansi(false)
            .with_writer(move || LogWriter(sink.clone()))
            .finish();
        Self {
            lines,
            _guard: tracing::subscriber::set_default(subscriber),
        }
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.lines.lock().unwrap()).into_owned()
    }
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A throwaway memcached on a free loopback port, killed on drop.
pub(crate) struct Server {
    pub(crate) port: u16,
    child: Option<Child>,
}

impl Server {
    pub(crate) fn start(extra: &[&str]) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut cmd = Command::new("memcached");
        cmd.args(["-l", "127.0.0.1", "-p", &port.to_string(), "-U", "0"])
            .args(extra);
        // memcached refuses to run as root without naming a user.
        if std::env::var("USER").as_deref() == Ok("root") || runs_as_root() {
            cmd.args(["-u", "root"]);
        }
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("memcached is installed by ./scripts/services");
        let server = Self {
            port,
            child: Some(child),
        };
        for _ in 0..200 {
            if TcpStream::connect(server.address()).is_ok() {
                return server;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("memcached did not start on port {port}");
    }

    pub(crate) fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Whether this process runs as root (reads /proc, no unsafe code).
fn runs_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// What pymemcache's `HashClient` over `servers` does with one key: the server it picks
/// (`host:port`) and, for a read, the value it found there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HashClientCall {
    pub(crate) server: String,
    pub(crate) value: Option<Vec<u8>>,
}

/// Runs a real pymemcache `HashClient` over `servers` (the interop tests' Python, `.venv` at
/// the repository root): `"get"` reads each key, `"set"` writes each key's value (non-empty;
/// 600 s, waiting for the server's reply). One call per key, in order.
pub(crate) fn hashclient(
    servers: &[&str],
    op: &str,
    items: &[(String, Vec<u8>)],
) -> Vec<HashClientCall> {
    const SCRIPT: &str = r#"
import sys
from pymemcache.client.hash import HashClient

client = HashClient(sys.argv[1].split(","))
for line in sys.stdin:
    key, value = line.split()
    host, port = client._get_client(key).server
    if sys.argv[2] == "set":
        assert client.set(key, bytes.fromhex(value), expire=600, noreply=False), key
        print(f"{host}:{port} -")
    else:
        found = client.get(key)
        print(f"{host}:{port} {'-' if found is None else found.hex()}")
"#;
    let python = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: ./scripts/test creates the Python environment (pymemcache) from \
         tests/interop/requirements.txt",
        python.display()
    );
    let mut child = Command::new(&python)
        .args(["-c", SCRIPT, &servers.join(","), op])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the Python interpreter");
    let mut input = String::new();
    for (key, value) in items {
        assert!(op != "set" || !value.is_empty(), "{key}: an empty value");
        let hex: String = value.iter().map(|b| format!("{b:02x}")).collect();
        input.push_str(&format!(
            "{key} {}\n",
            if hex.is_empty() { "-" } else { &hex }
        ));
    }
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "pymemcache's HashClient failed: are memcached's {servers:?} up? Start them with \
         ./scripts/services"
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let (server, value) = line.split_once(' ').unwrap();
            let value = (value != "-").then(|| {
                (0..value.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&value[i..i + 2], 16).unwrap())
                    .collect()
            });
            HashClientCall {
                server: server.to_owned(),
                value,
            }
        })
        .collect()
}
