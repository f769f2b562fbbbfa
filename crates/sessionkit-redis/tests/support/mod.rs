//! Shared by the Redis test files: connecting to the servers `scripts/services` starts.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use sessionkit_core::Id;
use sessionkit_redis::{ConnectionKind, RedisStore};

pub(crate) const STANDALONE: &str = "redis://127.0.0.1:6379";
pub(crate) const CLUSTER: &str = "redis+cluster://127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002";
pub(crate) const SENTINEL: &str = "redis+sentinel://127.0.0.1:26379/sessionkit";
/// Valkey 8.1, which has `SET ... IFEQ`.
pub(crate) const VALKEY: &str = "redis://127.0.0.1:6390";
/// The Valkey server `scripts/services` fetches (Debian 13's, with its C library).
pub(crate) const VALKEY_SERVER: &str = "/tmp/sessionkit-valkey/valkey-server";

/// A key prefix of its own, so parallel tests and runs never see each other's keys.
pub(crate) fn unique_prefix() -> String {
    format!("sessionkit-test:{}:", &Id::random().to_string()[..12])
}

/// Connects to `url`, failing the test with instructions when the server is not there.
pub(crate) async fn connect(url: &str, kind: ConnectionKind) -> RedisStore {
    RedisStore::builder(url)
        .key_prefix(unique_prefix())
        .connection(kind)
        .build()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "Redis is not reachable at {url}: {e:?}.\n\
                 Start the test servers with ./scripts/services (Redis on 6379, a 3-node \
                 cluster on 7000-7002, Sentinel on 26379 watching a master on 6380, \
                 Valkey 8.1 on 6390)."
            )
        })
}

/// A free loopback port.
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A throwaway redis-server (or Sentinel) on a loopback port, killed on drop.
pub(crate) struct Server {
    pub(crate) port: u16,
    child: Option<Child>,
    dir: Option<PathBuf>,
}

impl Server {
    /// A server without persistence on `port`.
    pub(crate) fn start_on(port: u16) -> Self {
        Self::start_with(port, &[])
    }

    /// A server without persistence on `port`, with `extra` arguments.
    pub(crate) fn start_with(port: u16, extra: &[&str]) -> Self {
        let port_arg = port.to_string();
        let mut args = vec![
            "--bind",
            "127.0.0.1",
            "--port",
            &port_arg,
            "--save",
            "",
            "--appendonly",
            "no",
        ];
        args.extend_from_slice(extra);
        Self::spawn("redis-server", port, &args, None)
    }

    /// A Valkey 8.1 server without persistence on a free port.
    pub(crate) fn valkey() -> Self {
        let port = free_port();
        let port_arg = port.to_string();
        let args = [
            "--bind",
            "127.0.0.1",
            "--port",
            &port_arg,
            "--save",
            "",
            "--appendonly",
            "no",
        ];
        Self::spawn(VALKEY_SERVER, port, &args, None)
    }

    /// A server without persistence on a free port.
    pub(crate) fn start() -> Self {
        Self::start_on(free_port())
    }

    /// A Sentinel on a free port watching service `service`, whose master is at
    /// `master_port` on loopback. It never fails the master over.
    pub(crate) fn sentinel(service: &str, master_port: u16) -> Self {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!(
            "sessionkit-sentinel-{}",
            &Id::random().to_string()[..10]
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("sentinel.conf");
        std::fs::write(
            &config,
            format!(
                "port {port}\nbind 127.0.0.1\ndir {dir}\n\
                 sentinel monitor {service} 127.0.0.1 {master_port} 1\n\
                 sentinel down-after-milliseconds {service} 600000\n",
                dir = dir.display()
            ),
        )
        .unwrap();
        Self::spawn(
            "redis-server",
            port,
            &[config.to_str().unwrap(), "--sentinel"],
            Some(dir),
        )
    }

    fn spawn(program: &str, port: u16, args: &[&str], dir: Option<PathBuf>) -> Self {
        let child = Command::new(program)
            .args(args)
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{program}: {e}. ./scripts/services installs it"));
        let server = Self {
            port,
            child: Some(child),
            dir,
        };
        server.wait_until_listening();
        server
    }

    fn wait_until_listening(&self) {
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("the server did not start on port {}", self.port);
    }

    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// A plain redis-rs connection beside the store, to look at the keys it wrote.
pub(crate) enum Raw {
    Single(redis::aio::MultiplexedConnection),
    Cluster(redis::cluster_async::ClusterConnection),
}

impl Raw {
    /// A connection to one server at `url` (`redis://`).
    pub(crate) async fn single(url: &str) -> Self {
        let client = redis::Client::open(url).unwrap();
        Self::Single(
            client
                .get_multiplexed_async_connection()
                .await
                .unwrap_or_else(|e| {
                    panic!("Redis is not reachable at {url}: {e}. Start it with ./scripts/services")
                }),
        )
    }

    /// A connection to the master that the test Sentinel (26379) names for `sessionkit`.
    pub(crate) async fn sentinel_master() -> Self {
        let mut sentinel = Self::single("redis://127.0.0.1:26379").await;
        let (host, port): (String, u16) = sentinel
            .query(&command(
                "SENTINEL",
                &["GET-MASTER-ADDR-BY-NAME", "sessionkit"],
            ))
            .await;
        Self::single(&format!("redis://{host}:{port}")).await
    }

    /// A connection to the test cluster (7000-7002).
    pub(crate) async fn cluster() -> Self {
        let client = redis::cluster::ClusterClient::new(vec![
            "redis://127.0.0.1:7000",
            "redis://127.0.0.1:7001",
            "redis://127.0.0.1:7002",
        ])
        .unwrap();
        Self::Cluster(client.get_async_connection().await.unwrap_or_else(|e| {
            panic!("the Redis Cluster on 7000-7002 is not reachable: {e}. Start it with ./scripts/services")
        }))
    }

    /// Runs `cmd`, failing the test on an error.
    pub(crate) async fn query<T: redis::FromRedisValue>(&mut self, cmd: &redis::Cmd) -> T {
        let result = match self {
            Self::Single(connection) => cmd.query_async(connection).await,
            Self::Cluster(connection) => cmd.query_async(connection).await,
        };
        result.unwrap_or_else(|e| panic!("{cmd:?} failed: {e}"))
    }
}

/// `name` followed by `args`, as a command.
pub(crate) fn command(name: &str, args: &[&str]) -> redis::Cmd {
    let mut cmd = redis::cmd(name);
    for arg in args {
        cmd.arg(*arg);
    }
    cmd
}
