//! [`ReplicaAck`]: deletes a Sentinel failover cannot undo.
//!
//! Redis replicates asynchronously, and Sentinel may promote a replica while the old
//! master is still up and still answering: until Sentinel turns it into a replica (seconds
//! later), whatever it accepts is lost. A logout or a revocation lost so would bring the
//! session back. So on a Sentinel-monitored service a delete goes out with `WAIT 1` in the
//! same round trip, and counts as done when a replica acknowledged it, or when no replica
//! is up (Sentinel reports each one down or disconnected: none can be promoted with the
//! delete missing). Otherwise a failover may be under way: the delete is
//! [`Error::Unavailable`], the connection is dropped (the next one asks Sentinel for the
//! master again) and the application answers 503; the user's retry reaches the new master.
//!
//! When Sentinel shows a replica being promoted, the master the store is on is on its way
//! out: its reads may already be stale (a logout could find the session "gone" there while
//! the new master still has it). The store then connects to it no more: calls are
//! [`Error::Unavailable`] until Sentinel names the new master (or for at most
//! [`SUPERSEDED_FOR`], should the failover fail).
//!
//! `WAIT` blocks the connection it runs on (the store's shared one) until a replica answers,
//! usually well under a millisecond; it gives up after [`WAIT`]. While Sentinel reports no
//! replica up, deletes do not wait at all (the verdict is kept for [`NO_REPLICA_FOR`]).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use redis::{Cmd, FromRedisValue, Value};
use sessionkit_core::Error;

use crate::deadline::Deadline;
use crate::error::BACKEND;
use crate::source::connection_config;

/// The longest a delete waits for a replica's acknowledgement.
pub(crate) const WAIT: Duration = Duration::from_millis(50);

/// How long a "no replica is up" verdict from Sentinel is trusted.
const NO_REPLICA_FOR: Duration = Duration::from_secs(1);

/// The longest the store keeps away from a master a failover is replacing.
const SUPERSEDED_FOR: Duration = Duration::from_secs(10);

/// The Sentinel service whose replicas must acknowledge deletes.
pub(crate) struct ReplicaAck {
    sentinels: Vec<redis::ConnectionInfo>,
    service: String,
    /// Until when deletes need no acknowledgement (Sentinel reported no replica up).
    no_replica_until: Mutex<Option<Instant>>,
    /// The master a failover is replacing (host, port), and since when.
    superseded: Mutex<Option<((String, u16), Instant)>>,
}

/// What Sentinel says about the service.
struct Service {
    /// The master it names.
    master: Option<(String, u16)>,
    /// Whether it is failing the master over now.
    failing_over: bool,
    /// Whether a replica is up and replicating (it may lag).
    replica_up: bool,
}

impl ReplicaAck {
    pub(crate) fn new(sentinels: Vec<redis::ConnectionInfo>, service: String) -> Self {
        Self {
            sentinels,
            service,
            no_replica_until: Mutex::new(None),
            superseded: Mutex::new(None),
        }
    }

    /// An error if `server` (the master Sentinel named for a new connection) is the one a
    /// failover is replacing.
    pub(crate) fn check_master(&self, server: &(String, u16)) -> redis::RedisResult<()> {
        let mut superseded = self.superseded.lock().unwrap_or_else(|e| e.into_inner());
        match &*superseded {
            Some((old, since)) if since.elapsed() < SUPERSEDED_FOR && old == server => {
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionRefused,
                    "a Sentinel failover is replacing this master: waiting for the new one",
                )
                .into())
            }
            Some(_) => {
                *superseded = None;
                Ok(())
            }
            None => Ok(()),
        }
    }

    fn supersede(&self, server: (String, u16)) {
        tracing::warn!(
            service = self.service,
            "Redis Sentinel failover: leaving the old master until Sentinel names the new one"
        );
        *self.superseded.lock().unwrap_or_else(|e| e.into_inner()) = Some((server, Instant::now()));
    }

    /// The `WAIT` to send right behind a delete; `None` while no replica is up.
    pub(crate) fn wait(&self) -> Option<Cmd> {
        let until = *self
            .no_replica_until
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if until.is_some_and(|until| Instant::now() < until) {
            return None;
        }
        let mut wait = redis::cmd("WAIT");
        wait.arg(1).arg(WAIT.as_millis() as u64);
        Some(wait)
    }

    /// Whether the delete `WAIT` answered `reply` to, on `server` (the master Sentinel
    /// named for the connection), is done: acknowledged by a replica, or no replica is up
    /// and no failover is under way. An error means it may be lost to a failover.
    pub(crate) async fn settle(
        &self,
        reply: &Value,
        server: Option<(String, u16)>,
        deadline: &Deadline,
    ) -> Result<(), Error> {
        if i64::from_redis_value_ref(reply).is_ok_and(|acked| acked >= 1) {
            return Ok(());
        }
        // Boxed: asking Sentinel is the rare path, and its future would weigh on every delete.
        let service = deadline.bound(Box::pin(self.service())).await?;
        let failover = || Error::Unavailable {
            backend: BACKEND,
            source: "a Sentinel failover is under way: the delete could be lost with the old \
                     master"
                .into(),
        };
        if service.failing_over {
            if let Some(master) = service.master {
                self.supersede(master);
            }
            return Err(failover());
        }
        if let Some(server) = server
            && service.master.as_ref() != Some(&server)
        {
            // Sentinel names another master now: this one was failed over.
            self.supersede(server);
            return Err(failover());
        }
        if service.replica_up {
            return Err(Error::Unavailable {
                backend: BACKEND,
                source: "no replica acknowledged the delete in time".into(),
            });
        }
        *self
            .no_replica_until
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(Instant::now() + NO_REPLICA_FOR);
        tracing::warn!(
            service = self.service,
            "Redis Sentinel reports no replica up: deletes are not waiting for one"
        );
        Ok(())
    }

    /// What a sentinel (the first that answers) reports of the service.
    async fn service(&self) -> Result<Service, Error> {
        let mut last_error = None;
        for sentinel in &self.sentinels {
            let reply = async {
                let client = redis::Client::open(sentinel.clone())?;
                let mut connection = client
                    .get_multiplexed_async_connection_with_config(&connection_config(WAIT * 20))
                    .await?;
                let master = redis::cmd("SENTINEL")
                    .arg("MASTER")
                    .arg(&self.service)
                    .query_async::<Value>(&mut connection)
                    .await?;
                let replicas = redis::cmd("SENTINEL")
                    .arg("REPLICAS")
                    .arg(&self.service)
                    .query_async::<Vec<Value>>(&mut connection)
                    .await?;
                Ok::<_, redis::RedisError>((master, replicas))
            }
            .await;
            match reply {
                Ok((master, replicas)) => {
                    let master = fields(&master);
                    let field = |name: &str| {
                        master
                            .iter()
                            .find(|(f, _)| f == name)
                            .map(|(_, v)| v.as_str())
                    };
                    return Ok(Service {
                        master: field("ip")
                            .zip(field("port").and_then(|p| p.parse().ok()))
                            .map(|(ip, port)| (ip.to_owned(), port)),
                        failing_over: field("flags").is_some_and(|flags| {
                            flags.split(',').any(|f| f == "failover_in_progress")
                        }),
                        replica_up: replicas.iter().any(|r| is_up(&fields(r))),
                    });
                }
                Err(error) => last_error = Some(error),
            }
        }
        Err(Error::Unavailable {
            backend: BACKEND,
            source: match last_error {
                Some(error) => Box::new(error),
                None => "no sentinel to ask".into(),
            },
        })
    }
}

/// A Sentinel reply's field/value pairs (flat in RESP2, a map in RESP3).
fn fields(reply: &Value) -> Vec<(String, String)> {
    match reply {
        Value::Map(map) => map
            .iter()
            .filter_map(|(k, v)| {
                Some((
                    String::from_redis_value_ref(k).ok()?,
                    String::from_redis_value_ref(v).ok()?,
                ))
            })
            .collect(),
        Value::Array(fields) => fields
            .chunks(2)
            .filter_map(|pair| {
                Some((
                    String::from_redis_value_ref(pair.first()?).ok()?,
                    String::from_redis_value_ref(pair.get(1)?).ok()?,
                ))
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether a replica (its `SENTINEL REPLICAS` fields) is up and replicating: not down or
/// disconnected, and not reporting itself a master (the old master, listed as a replica of
/// the new one until Sentinel turns it into one).
fn is_up(fields: &[(String, String)]) -> bool {
    let field = |name: &str| {
        fields
            .iter()
            .find(|(f, _)| f == name)
            .map(|(_, v)| v.as_str())
    };
    field("flags").is_some_and(|flags| {
        !flags
            .split(',')
            .any(|flag| matches!(flag, "s_down" | "o_down" | "disconnected"))
    }) && field("role-reported") != Some("master")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replica(flags: &str, role: &str) -> Value {
        Value::Array(
            [
                "name",
                "127.0.0.1:6381",
                "flags",
                flags,
                "role-reported",
                role,
            ]
            .iter()
            .map(|s| Value::BulkString(s.as_bytes().to_vec()))
            .collect(),
        )
    }

    #[test]
    fn a_replica_counts_unless_down_disconnected_or_a_master() {
        assert!(is_up(&fields(&replica("slave", "slave"))));
        for down in ["s_down,slave", "slave,o_down", "slave,disconnected"] {
            assert!(!is_up(&fields(&replica(down, "slave"))), "{down}");
        }
        assert!(!is_up(&fields(&replica("slave", "master"))));
        assert!(!is_up(&fields(&Value::Nil)));
    }
}
