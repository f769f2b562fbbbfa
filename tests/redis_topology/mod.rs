//! Redis servers a test starts for itself and kills when it ends (`mod redis_topology;`):
//! a master with a replica watched by three sentinels, or a cluster with a replica per
//! master. The failover tests change their topology for good, so they never use the shared
//! servers of `./scripts/services`; these run on free loopback ports, their files in a
//! directory of their own.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;

/// The servers one test started; killed, and their directory removed, when dropped.
pub(crate) struct Servers {
    dir: PathBuf,
    children: Mutex<Vec<(u16, Child)>>,
}

impl Servers {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "sessionkit-{name}-{}-{}",
            std::process::id(),
            &sessionkit::Id::random().to_string()[..8]
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self {
            dir,
            children: Mutex::new(Vec::new()),
        }
    }

    /// Starts `redis-server` on `port` with `args` (a sentinel when `args` names a
    /// configuration file and `--sentinel`).
    fn start(&self, port: u16, args: &[String]) {
        let dir = self.dir.join(port.to_string());
        std::fs::create_dir_all(&dir).unwrap();
        let child = Command::new("redis-server")
            .args(args)
            .current_dir(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("redis-server could not start ({e}): ./scripts/services installs it")
            });
        self.children.lock().unwrap().push((port, child));
    }

    /// Starts a data node on `port`; `extra` are more `redis-server` arguments.
    fn start_node(&self, port: u16, extra: &[&str]) {
        let mut args: Vec<String> = [
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        self.start(port, &args);
    }

    /// Kills the server on `port` at once (SIGKILL: a crash, not a shutdown).
    pub(crate) fn kill(&self, port: u16) {
        let mut children = self.children.lock().unwrap();
        let (_, child) = children
            .iter_mut()
            .find(|(p, _)| *p == port)
            .expect("a server this test started");
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        for (_, child) in self.children.get_mut().unwrap() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A loopback port nobody listens on now (the ports a cluster node also uses, port +
/// 10000, are checked too).
fn free_port() -> u16 {
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if port < 55_000 && std::net::TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
}

/// A connection to the server on `port`.
pub(crate) async fn connect(port: u16) -> MultiplexedConnection {
    redis::Client::open(format!("redis://127.0.0.1:{port}"))
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap_or_else(|e| panic!("redis on {port}: {e}"))
}

/// Runs `cmd` on the server on `port` (a new connection each time: a failover may kill
/// connections).
pub(crate) async fn query<T: redis::FromRedisValue>(port: u16, cmd: &redis::Cmd) -> T {
    let mut connection = connect(port).await;
    cmd.query_async(&mut connection)
        .await
        .unwrap_or_else(|e| panic!("{cmd:?} on {port}: {e}"))
}

/// Polls `check` (every 50 ms) until it holds; fails the test after `limit`, saying `what`
/// did not happen.
pub(crate) async fn poll_until<F, Fut>(what: &str, limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    while !check().await {
        assert!(
            start.elapsed() < limit,
            "{what}: did not happen within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `127.0.0.1:<port>` for each port, comma-separated, as multi-host URLs list them.
fn hosts(ports: &[u16]) -> String {
    ports
        .iter()
        .map(|p| format!("127.0.0.1:{p}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Waits until `redis-server` answers on `port`.
async fn wait_answering(port: u16) {
    poll_until(
        &format!("redis-server on {port} answers"),
        Duration::from_secs(10),
        || async move {
            match redis::Client::open(format!("redis://127.0.0.1:{port}"))
                .unwrap()
                .get_multiplexed_async_connection()
                .await
            {
                Ok(mut c) => redis::cmd("PING")
                    .query_async::<String>(&mut c)
                    .await
                    .is_ok(),
                Err(_) => false,
            }
        },
    )
    .await;
}

/// `INFO replication` of the server on `port` has `line`.
pub(crate) async fn replication_has(port: u16, line: &str) -> bool {
    let Ok(mut c) = redis::Client::open(format!("redis://127.0.0.1:{port}"))
        .unwrap()
        .get_multiplexed_async_connection()
        .await
    else {
        return false;
    };
    redis::cmd("INFO")
        .arg("replication")
        .query_async::<String>(&mut c)
        .await
        .is_ok_and(|info| info.lines().any(|l| l.trim() == line))
}

/// A master, its replica and three sentinels watching them as service `name`.
pub(crate) struct Sentinel {
    /// Kept running while the topology lives.
    _servers: Servers,
    pub(crate) master: u16,
    pub(crate) replica: u16,
    pub(crate) sentinels: [u16; 3],
    pub(crate) name: &'static str,
}

impl Sentinel {
    pub(crate) async fn start() -> Self {
        let name = "failover";
        let servers = Servers::new("sentinel");
        let master = free_port();
        servers.start_node(master, &[]);
        wait_answering(master).await;
        let replica = free_port();
        servers.start_node(replica, &["--replicaof", "127.0.0.1", &master.to_string()]);
        wait_answering(replica).await;
        let sentinels = [free_port(), free_port(), free_port()];
        for port in sentinels {
            let dir = servers.dir.join(port.to_string());
            std::fs::create_dir_all(&dir).unwrap();
            let conf = dir.join("sentinel.conf");
            std::fs::write(
                &conf,
                format!(
                    "port {port}\nbind 127.0.0.1\ndir {}\n\
                     sentinel monitor {name} 127.0.0.1 {master} 2\n\
                     sentinel down-after-milliseconds {name} 1000\n\
                     sentinel failover-timeout {name} 10000\n",
                    dir.display()
                ),
            )
            .unwrap();
            servers.start(port, &[conf.display().to_string(), "--sentinel".into()]);
        }
        for port in sentinels {
            wait_answering(port).await;
        }
        let topology = Self {
            _servers: servers,
            master,
            replica,
            sentinels,
            name,
        };
        poll_until(
            "the replica is in sync with the master",
            Duration::from_secs(20),
            || replication_has(replica, "master_link_status:up"),
        )
        .await;
        // Every sentinel knows the replica and the two other sentinels.
        for port in sentinels {
            poll_until(
                &format!("sentinel {port} sees the replica and two sentinels"),
                Duration::from_secs(30),
                || async move {
                    let replicas: Vec<redis::Value> =
                        query(port, redis::cmd("SENTINEL").arg("REPLICAS").arg(name)).await;
                    let others: Vec<redis::Value> =
                        query(port, redis::cmd("SENTINEL").arg("SENTINELS").arg(name)).await;
                    replicas.len() == 1 && others.len() == 2
                },
            )
            .await;
        }
        topology
    }

    /// `SESSION_REDIS` for the service.
    pub(crate) fn url(&self) -> String {
        format!("redis+sentinel://{}/{}", hosts(&self.sentinels), self.name)
    }

    /// The master's port as the first sentinel reports it.
    pub(crate) async fn master_port(&self) -> u16 {
        let (_, port): (String, u16) = query(
            self.sentinels[0],
            redis::cmd("SENTINEL")
                .arg("GET-MASTER-ADDR-BY-NAME")
                .arg(self.name),
        )
        .await;
        port
    }
}

/// A cluster of three masters, each with one replica.
pub(crate) struct Cluster {
    pub(crate) servers: Servers,
    pub(crate) ports: Vec<u16>,
}

impl Cluster {
    pub(crate) async fn start() -> Self {
        let servers = Servers::new("cluster");
        let ports: Vec<u16> = (0..6).map(|_| free_port()).collect();
        for &port in &ports {
            servers.start_node(
                port,
                &[
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    "nodes.conf",
                    "--cluster-node-timeout",
                    "1000",
                ],
            );
        }
        for &port in &ports {
            wait_answering(port).await;
        }
        let status = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(ports.iter().map(|p| format!("127.0.0.1:{p}")))
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .stdout(Stdio::null())
            .status()
            .expect("redis-cli: ./scripts/services installs it");
        assert!(status.success(), "redis-cli --cluster create failed");
        let cluster = Self { servers, ports };
        for &port in &cluster.ports {
            poll_until(
                &format!("cluster node {port} reports the cluster ok"),
                Duration::from_secs(30),
                || async move {
                    let info: String = query(port, redis::cmd("CLUSTER").arg("INFO")).await;
                    info.contains("cluster_state:ok")
                },
            )
            .await;
        }
        // Each replica has caught up with its master.
        for (master, replica) in cluster.pairs().await {
            poll_until(
                &format!("replica {replica} of {master} is in sync"),
                Duration::from_secs(30),
                || replication_has(replica, "master_link_status:up"),
            )
            .await;
        }
        cluster
    }

    /// `SESSION_REDIS` for the cluster.
    pub(crate) fn url(&self) -> String {
        format!("redis+cluster://{}", hosts(&self.ports))
    }

    /// (master port, replica port) for each shard, as the first live node sees them, once
    /// it sees a replica for every master (a replica that just joined may not be listed
    /// yet); waits at most 20 s.
    pub(crate) async fn pairs(&self) -> Vec<(u16, u16)> {
        let start = Instant::now();
        loop {
            let (masters, pairs) = self.pairs_seen().await;
            if pairs.len() == masters && masters > 0 {
                return pairs;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "a replica for every master: {pairs:?} of {masters} masters"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// How many live masters the first node sees, and those with a replica, as pairs.
    async fn pairs_seen(&self) -> (usize, Vec<(u16, u16)>) {
        let nodes: String = query(self.ports[0], redis::cmd("CLUSTER").arg("NODES")).await;
        let lines: Vec<Vec<&str>> = nodes
            .lines()
            .map(|l| l.split_whitespace().collect())
            .collect();
        let port_of = |field: &str| -> u16 {
            field
                .split('@')
                .next()
                .unwrap()
                .rsplit(':')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        };
        let masters: Vec<&Vec<&str>> = lines
            .iter()
            .filter(|l| l[2].contains("master") && !l[2].contains("fail"))
            .collect();
        let pairs = masters
            .iter()
            .filter_map(|master| {
                let replica = lines.iter().find(|l| l[3] == master[0])?;
                Some((port_of(master[1]), port_of(replica[1])))
            })
            .collect();
        (masters.len(), pairs)
    }

    /// The port of the master serving `key`, as node `via` sees the cluster.
    pub(crate) async fn master_of(&self, via: u16, key: &str) -> u16 {
        let slot: u16 = query(via, redis::cmd("CLUSTER").arg("KEYSLOT").arg(key)).await;
        let shards: Vec<redis::Value> =
            query(via, &redis::cmd("CLUSTER").arg("SLOTS").clone()).await;
        for shard in shards {
            let redis::Value::Array(fields) = shard else {
                continue;
            };
            let start: u16 = redis::FromRedisValue::from_redis_value_ref(&fields[0]).unwrap();
            let end: u16 = redis::FromRedisValue::from_redis_value_ref(&fields[1]).unwrap();
            if (start..=end).contains(&slot) {
                let redis::Value::Array(master) = &fields[2] else {
                    panic!("CLUSTER SLOTS: {fields:?}")
                };
                return redis::FromRedisValue::from_redis_value_ref(&master[1]).unwrap();
            }
        }
        panic!("no master serves slot {slot}")
    }
}

/// Whether `key` exists on the server on `port`, asked as a replica would answer (a cluster
/// replica needs `READONLY` first).
pub(crate) async fn exists_on(port: u16, key: String, cluster: bool) -> bool {
    let mut connection = connect(port).await;
    if cluster {
        let () = redis::cmd("READONLY")
            .query_async(&mut connection)
            .await
            .unwrap();
    }
    redis::cmd("EXISTS")
        .arg(key)
        .query_async::<u32>(&mut connection)
        .await
        .unwrap()
        == 1
}
