//! [`Script`]: a Lua script run with `EVALSHA`, loaded with `EVAL` the first time a server
//! lacks it.

use std::sync::OnceLock;

use redis::{ErrorKind as RedisErrorKind, ServerErrorKind};
use sessionkit_core::Error;

use crate::connection::Connection;
use crate::deadline::Deadline;
use crate::error::from_redis;
use crate::replica_ack::ReplicaAck;
use redis::FromRedisValue as _;

/// A Lua script whose reply is an integer.
pub(crate) struct Script {
    text: &'static str,
    sha: OnceLock<String>,
}

impl Script {
    pub(crate) const fn new(text: &'static str) -> Self {
        Self {
            text,
            sha: OnceLock::new(),
        }
    }

    /// The script's SHA-1, as `EVALSHA` wants it.
    fn sha(&self) -> &str {
        self.sha
            .get_or_init(|| sha1_smol::Sha1::from(self.text).digest().to_string())
    }

    /// Runs the script on `keys` with `args` before `deadline` (`EVALSHA`, then `EVAL` on
    /// `NOSCRIPT`) and returns its reply. On a cluster the keys must share a slot.
    pub(crate) async fn run(
        &self,
        connection: &Connection,
        keys: &[&[u8]],
        args: &[&[u8]],
        deadline: &Deadline,
    ) -> Result<i64, Error> {
        self.run_acked(connection, keys, args, deadline, None).await
    }

    /// [`run`](Self::run) for a script that deletes: with `ack`'s `WAIT` behind it
    /// ([`Connection::query_all_acked`]).
    pub(crate) async fn run_acked(
        &self,
        connection: &Connection,
        keys: &[&[u8]],
        args: &[&[u8]],
        deadline: &Deadline,
        ack: Option<&ReplicaAck>,
    ) -> Result<i64, Error> {
        let command = |name: &str, body: &str| {
            let mut cmd = redis::cmd(name);
            cmd.arg(body).arg(keys.len()).arg(keys).arg(args);
            cmd
        };
        let run = |cmd: redis::Cmd| async move {
            let [reply] = <[redis::Value; 1]>::try_from(
                connection.query_all_acked([cmd], deadline, ack).await?,
            )
            .map_err(|_| from_redis(std::io::Error::other("a script gave no reply").into()))?;
            i64::from_redis_value(reply).map_err(|e| from_redis(e.into()))
        };
        match run(command("EVALSHA", self.sha())).await {
            // First use on this server (or after SCRIPT FLUSH / a restart): EVAL loads it.
            Err(Error::Backend { source, .. }) if is_noscript(&*source) => {
                // Boxed: the first use only; it would double every run's future.
                Box::pin(run(command("EVAL", self.text))).await
            }
            other => other,
        }
    }
}

fn is_noscript(error: &(dyn std::error::Error + 'static)) -> bool {
    error
        .downcast_ref::<redis::RedisError>()
        .is_some_and(|e| e.kind() == RedisErrorKind::Server(ServerErrorKind::NoScript))
}
