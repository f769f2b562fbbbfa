//! [`SessionScan`] for [`RedisStore`]: `SCAN` over the key prefix, on every master of a
//! cluster.

use std::num::NonZeroUsize;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};
use redis::{Cmd, FromRedisValue, Value};
use sessionkit_core::{Error, Id, ScanCursor, ScanPage, ScannedRecord, SessionScan};

use crate::RedisStore;
use crate::connection::Connection;
use crate::error::from_redis;
use crate::source::Link;

/// `SCAN cursor MATCH <prefix>* COUNT limit`, then `STRLEN` and `PTTL` of the session keys
/// found, in one round trip: two short commands per page, so a listing never holds the
/// server (unlike `KEYS`). Keys under the prefix that are not sessions (the user index's
/// sets) are skipped by their name. On a cluster every master is scanned in turn (their
/// addresses from `CLUSTER NODES`, in sorted order); the cursor is then
/// `host:port/<SCAN cursor>`, otherwise the `SCAN` cursor alone. Each page is bounded by
/// the store's timeout.
#[async_trait]
impl SessionScan for RedisStore {
    async fn scan(
        &self,
        from: Option<&ScanCursor>,
        limit: NonZeroUsize,
    ) -> Result<ScanPage, Error> {
        let deadline = self.deadline();
        match self.connection() {
            Connection::Shared(shared) if shared.kind() == "cluster" => {
                let (generation, link) = shared.get(deadline.limit()).await?;
                let Link::Cluster(mut cluster) = link else {
                    return Err(bad_cursor());
                };
                let result = deadline
                    .bound(self.scan_cluster(&mut cluster, from, limit))
                    .await;
                if let Err(Error::Timeout { .. } | Error::Unavailable { .. }) = &result {
                    shared.discard(generation);
                }
                result
            }
            connection => {
                let cursor = match from {
                    None => 0,
                    Some(cursor) => cursor.as_str().parse().map_err(|_| bad_cursor())?,
                };
                let (next, keys) = connection
                    .query::<(u64, Vec<Vec<u8>>)>(self.scan_cmd(cursor, limit), &deadline)
                    .await?;
                let ids = self.session_ids(&keys);
                let records = if ids.is_empty() {
                    Vec::new()
                } else {
                    let replies = connection.query_all(self.sizes(&ids), &deadline).await?;
                    records(ids, replies)?
                };
                let next = (next != 0).then(|| ScanCursor::new(next.to_string()));
                Ok(ScanPage::new(records, next))
            }
        }
    }
}

impl RedisStore {
    fn scan_cmd(&self, cursor: u64, limit: NonZeroUsize) -> Cmd {
        let mut cmd = redis::cmd("SCAN");
        cmd.arg(cursor)
            .arg("MATCH")
            .arg(format!("{}*", glob_escape(self.key_prefix())))
            .arg("COUNT")
            .arg(limit.get());
        cmd
    }

    /// The ids of the keys that are sessions: prefix + a well-formed id.
    fn session_ids(&self, keys: &[Vec<u8>]) -> Vec<Id> {
        let prefix = self.key_prefix().as_bytes();
        keys.iter()
            .filter_map(|key| Id::parse_bytes(key.strip_prefix(prefix)?))
            .collect()
    }

    /// `STRLEN` and `PTTL` of each id's key.
    fn sizes(&self, ids: &[Id]) -> Vec<Cmd> {
        ids.iter()
            .flat_map(|id| {
                let key = self.key(id);
                let mut strlen = redis::cmd("STRLEN");
                strlen.arg(&key);
                let mut pttl = redis::cmd("PTTL");
                pttl.arg(key);
                [strlen, pttl]
            })
            .collect()
    }

    /// One page of one master of a cluster: the master the cursor names (the first when
    /// there is none), then the next one when its `SCAN` is done.
    async fn scan_cluster(
        &self,
        cluster: &mut redis::cluster_async::ClusterConnection,
        from: Option<&ScanCursor>,
        limit: NonZeroUsize,
    ) -> Result<ScanPage, Error> {
        let nodes = cluster
            .route_command(
                redis::cmd("CLUSTER").arg("NODES").clone(),
                RoutingInfo::SingleNode(SingleNodeRoutingInfo::Random),
            )
            .await
            .map_err(from_redis)?;
        let nodes = String::from_redis_value(nodes).map_err(|e| from_redis(e.into()))?;
        let masters = masters(&nodes);
        let (node, cursor) = match from {
            None => (masters.first().cloned().ok_or_else(bad_cursor)?, 0),
            Some(cursor) => {
                let (node, cursor) = cursor.as_str().rsplit_once('/').ok_or_else(bad_cursor)?;
                (node.to_owned(), cursor.parse().map_err(|_| bad_cursor())?)
            }
        };
        let (host, port) = split_address(&node).ok_or_else(bad_cursor)?;
        let route = SingleNodeRoutingInfo::ByAddress {
            host: host.to_owned(),
            port,
        };
        let reply = cluster
            .route_command(
                self.scan_cmd(cursor, limit),
                RoutingInfo::SingleNode(route.clone()),
            )
            .await
            .map_err(from_redis)?;
        let (next, keys) =
            <(u64, Vec<Vec<u8>>)>::from_redis_value(reply).map_err(|e| from_redis(e.into()))?;
        let ids = self.session_ids(&keys);
        let records = if ids.is_empty() {
            Vec::new()
        } else {
            // The keys SCAN found on a master are in its slots: one pipeline to it.
            let mut pipeline = redis::pipe();
            for cmd in self.sizes(&ids) {
                pipeline.add_command(cmd);
            }
            let count = ids.len() * 2;
            let replies = cluster
                .route_pipeline(pipeline, 0, count, route)
                .await
                .map_err(from_redis)?;
            let replies = replies
                .into_iter()
                .map(Value::extract_error)
                .collect::<Result<Vec<_>, _>>()
                .map_err(from_redis)?;
            records(ids, replies)?
        };
        let next = if next != 0 {
            Some(format!("{node}/{next}"))
        } else {
            // This master is done: the next one in order, if any.
            masters
                .iter()
                .find(|master| master.as_str() > node.as_str())
                .map(|master| format!("{master}/0"))
        };
        Ok(ScanPage::new(records, next.map(ScanCursor::new)))
    }
}

/// The records of `ids` from their `STRLEN` and `PTTL` replies, in order; a key that went
/// away between `SCAN` and them (`PTTL` -2) is left out, one without an expiry (-1) has
/// none.
fn records(ids: Vec<Id>, replies: Vec<Value>) -> Result<Vec<ScannedRecord>, Error> {
    if replies.len() != ids.len() * 2 {
        return Err(from_redis(redis::RedisError::from(std::io::Error::other(
            "STRLEN and PTTL did not give two replies per key",
        ))));
    }
    let now = SystemTime::now();
    let mut replies = replies.into_iter();
    let mut records = Vec::with_capacity(ids.len());
    for id in ids {
        let (Some(size), Some(pttl)) = (replies.next(), replies.next()) else {
            break;
        };
        let size = u64::from_redis_value(size).map_err(|e| from_redis(e.into()))?;
        let pttl = i64::from_redis_value(pttl).map_err(|e| from_redis(e.into()))?;
        let expires_at = match pttl {
            -1 => None,
            ms if ms >= 0 => Some(now + Duration::from_millis(ms as u64)),
            _ => continue,
        };
        records.push(ScannedRecord::new(id, size, expires_at));
    }
    Ok(records)
}

/// The addresses (`host:port`) of the masters that serve slots, sorted, from a
/// `CLUSTER NODES` reply.
fn masters(nodes: &str) -> Vec<String> {
    let mut masters: Vec<String> = nodes
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let flags = fields.get(2)?;
            let serving = fields.len() > 8
                && flags.split(',').any(|flag| flag == "master")
                && !flags.contains("fail");
            let address = fields.get(1)?.split(['@', ',']).next()?;
            serving.then(|| address.to_owned())
        })
        .collect();
    masters.sort();
    masters.dedup();
    masters
}

fn split_address(address: &str) -> Option<(&str, u16)> {
    let (host, port) = address.rsplit_once(':')?;
    Some((host, port.parse().ok()?))
}

/// `prefix` with the characters `SCAN`'s glob gives a meaning (`*?[]\`) escaped.
fn glob_escape(prefix: &str) -> String {
    let mut escaped = String::with_capacity(prefix.len());
    for c in prefix.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

fn bad_cursor() -> Error {
    Error::decode("not a cursor of this Redis store")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masters_are_the_serving_masters_sorted() {
        let nodes = "\
b 127.0.0.1:7001@17001 master - 0 1 2 connected 5461-10922
a 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460
c 127.0.0.1:7002@17002,host master - 0 1 3 connected 10923-16383
d 127.0.0.1:7003@17003 slave a 0 1 1 connected
e 127.0.0.1:7004@17004 master,fail - 0 1 4 disconnected 1-2
f 127.0.0.1:7005@17005 master - 0 1 5 connected
";
        assert_eq!(
            masters(nodes),
            ["127.0.0.1:7000", "127.0.0.1:7001", "127.0.0.1:7002"]
        );
    }

    #[test]
    fn glob_characters_of_the_prefix_are_escaped() {
        assert_eq!(glob_escape("app[1]*?:\\"), "app\\[1\\]\\*\\?:\\\\");
        assert_eq!(glob_escape("session:"), "session:");
    }
}
