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
///
/// It runs wrapped: given a call's tag as one more (last) argument, it replies
/// `{tag, reply}`, so the reply shows it is this call's with no `ECHO` behind it
/// ([`Connection::query_script`]): a script is one command.
pub(crate) struct Script {
    text: &'static str,
    wrapped: OnceLock<Wrapped>,
}

/// The wrapped script's text and its SHA-1, as `EVAL` and `EVALSHA` want them.
struct Wrapped {
    text: String,
    sha: String,
}

impl Script {
    pub(crate) const fn new(text: &'static str) -> Self {
        Self {
            text,
            wrapped: OnceLock::new(),
        }
    }

    fn wrapped(&self) -> &Wrapped {
        self.wrapped.get_or_init(|| {
            // `table.remove` takes the tag off `ARGV`, so the script sees its own
            // arguments; its `return`s return from `body`.
            let text = format!(
                "local tag = table.remove(ARGV)\nlocal function body()\n{}\nend\nreturn {{tag, body()}}\n",
                self.text
            );
            let sha = sha1_smol::Sha1::from(&text).digest().to_string();
            Wrapped { text, sha }
        })
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
    /// ([`Connection::query_script`]).
    pub(crate) async fn run_acked(
        &self,
        connection: &Connection,
        keys: &[&[u8]],
        args: &[&[u8]],
        deadline: &Deadline,
        ack: Option<&ReplicaAck>,
    ) -> Result<i64, Error> {
        let wrapped = self.wrapped();
        let run = |load: bool| async move {
            let (name, body) = if load {
                ("EVAL", wrapped.text.as_str())
            } else {
                ("EVALSHA", wrapped.sha.as_str())
            };
            let command = |tag: u64| {
                let mut cmd = redis::cmd(name);
                cmd.arg(body).arg(keys.len()).arg(keys).arg(args).arg(tag);
                cmd
            };
            let reply = connection.query_script(command, deadline, ack).await?;
            i64::from_redis_value(reply).map_err(|e| from_redis(e.into()))
        };
        match run(false).await {
            // First use on this server (or after SCRIPT FLUSH / a restart): EVAL loads it.
            Err(Error::Backend { source, .. }) if is_noscript(&*source) => run(true).await,
            other => other,
        }
    }
}

fn is_noscript(error: &(dyn std::error::Error + 'static)) -> bool {
    error
        .downcast_ref::<redis::RedisError>()
        .is_some_and(|e| e.kind() == RedisErrorKind::Server(ServerErrorKind::NoScript))
}
