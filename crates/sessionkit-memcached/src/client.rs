//! The one file that knows the `memcache` crate's experimental async meta-protocol client.
//! Everything else in this crate talks to [`Node`] in the terms of the session contract.

use std::fmt;
use std::time::Duration;

use memcache::exp::{
    AsyncMetaClient, Error as ClientError, Get, GetResult, GetStatus, Meta, MutationStatus,
};
use sessionkit_core::{Error, redact_url};

use crate::exptime::Exptime;

pub(crate) const BACKEND: &str = "memcached";

/// What a compare-and-set write found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CasOutcome {
    /// Written (or, for a delete, deleted).
    Stored,
    NotFound,
    Changed,
}

impl From<MutationStatus> for CasOutcome {
    fn from(status: MutationStatus) -> Self {
        match status {
            MutationStatus::Applied => Self::Stored,
            MutationStatus::NotFound => Self::NotFound,
            _ => Self::Changed,
        }
    }
}

/// An item read with its metadata (`mg key v c t`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Item {
    pub(crate) value: Vec<u8>,
    pub(crate) cas: u64,
    /// Remaining seconds as the server counts them; `None` for an item without expiry.
    pub(crate) ttl: Option<u64>,
}

/// One memcached server.
pub(crate) struct Node {
    address: String,
    client: AsyncMetaClient,
}

impl Node {
    /// A client for `address` (`host:port`). Connections are dialed lazily; a down server
    /// shows at the first call.
    pub(crate) async fn new(
        address: &str,
        timeout: Duration,
        max_connections: usize,
    ) -> Result<Self, Error> {
        let client = AsyncMetaClient::builder()
            // memcached closes connections beyond its own limit (1024 by default) with
            // `ERROR Too many open connections`: callers past the cap wait for a free one.
            .max_connections(Some(max_connections))
            .connect_timeout(Some(timeout))
            .io_timeout(Some(timeout))
            .connect_async(address)
            .await
            .map_err(|e| convert(address, e))?;
        Ok(Self {
            address: address.to_owned(),
            client,
        })
    }

    pub(crate) fn address(&self) -> &str {
        &self.address
    }

    /// Checks that the server answers.
    pub(crate) async fn ping(&self) -> Result<(), Error> {
        self.client.noop().await.map_err(|e| self.error(e))
    }

    /// Stores `value` only if `key` is absent (`ms ... MA`); false when it exists.
    pub(crate) async fn add(
        &self,
        key: &[u8],
        value: &[u8],
        exptime: Exptime,
    ) -> Result<bool, Error> {
        let result = self
            .client
            .set(key, value)
            .add()
            .ttl_raw(wire(exptime))
            .send()
            .await
            .map_err(|e| self.error(e))?;
        match result.status {
            MutationStatus::Applied => Ok(true),
            _ => Ok(false),
        }
    }

    /// The value and CAS token of `key`, moving its expiry when `touch` is given
    /// (`mg ... v c [T]`): one round trip either way.
    pub(crate) async fn get(
        &self,
        key: &[u8],
        touch: Option<Exptime>,
    ) -> Result<Option<(Vec<u8>, u64)>, Error> {
        let mut request = self.client.get(key).meta(Meta::NONE.cas());
        if let Some(exptime) = touch {
            request = request.touch_raw(wire(exptime));
        }
        let result = request.send().await.map_err(|e| self.error(e))?;
        match (result.status, result.value, result.item.cas) {
            (GetStatus::Hit, Some(value), Some(cas)) => Ok(Some((value, cas))),
            (GetStatus::Hit, _, _) => Err(self.protocol("a hit without value or CAS token")),
            _ => Ok(None),
        }
    }

    /// Items under `keys` with their CAS tokens and remaining TTLs, pipelined in one round
    /// trip (`mg key v c t` each), in the order of `keys`; `None` for a miss.
    pub(crate) async fn get_many(&self, keys: &[&[u8]]) -> Result<Vec<Option<Item>>, Error> {
        let gets = keys
            .iter()
            .map(|key| Get::new(key).meta(Meta::NONE.cas().ttl()));
        let results = self
            .client
            .run_many(gets)
            .await
            .map_err(|e| self.error(e))?;
        results
            .into_iter()
            .map(|result| self.item(result.map_err(|e| self.error(e))?))
            .collect()
    }

    fn item(&self, result: GetResult) -> Result<Option<Item>, Error> {
        match (result.status, result.value, result.item.cas) {
            (GetStatus::Hit, Some(value), Some(cas)) => Ok(Some(Item {
                value,
                cas,
                ttl: result.item.ttl.and_then(|t| u64::try_from(t).ok()),
            })),
            (GetStatus::Hit, _, _) => Err(self.protocol("a hit without value or CAS token")),
            _ => Ok(None),
        }
    }

    /// Replaces `key` if its CAS token is still `cas` (`ms ... C<cas>`).
    pub(crate) async fn cas(
        &self,
        key: &[u8],
        value: &[u8],
        exptime: Exptime,
        cas: u64,
    ) -> Result<CasOutcome, Error> {
        let result = self
            .client
            .set(key, value)
            .compare_cas(cas)
            .ttl_raw(wire(exptime))
            .send()
            .await
            .map_err(|e| self.error(e))?;
        Ok(CasOutcome::from(result.status))
    }

    /// Moves the expiry of `key` without reading it; false when absent.
    pub(crate) async fn touch(&self, key: &[u8], exptime: Exptime) -> Result<bool, Error> {
        let result = self
            .client
            .get(key)
            .without_value()
            .touch_raw(wire(exptime))
            .send()
            .await
            .map_err(|e| self.error(e))?;
        Ok(result.status == GetStatus::Hit)
    }

    /// Deletes `key`; absent is fine.
    pub(crate) async fn delete(&self, key: &[u8]) -> Result<(), Error> {
        self.client
            .delete(key)
            .send()
            .await
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Deletes `key` if its CAS token is still `cas` (`md ... C<cas>`).
    pub(crate) async fn delete_if(&self, key: &[u8], cas: u64) -> Result<CasOutcome, Error> {
        let result = self
            .client
            .delete(key)
            .compare_cas(cas)
            .send()
            .await
            .map_err(|e| self.error(e))?;
        Ok(CasOutcome::from(result.status))
    }

    fn error(&self, error: ClientError) -> Error {
        convert(&self.address, error)
    }

    fn protocol(&self, what: &str) -> Error {
        Error::Backend {
            backend: BACKEND,
            source: format!("memcached at {}: {what}", redact_url(&self.address)).into(),
        }
    }
}

/// The exptime on the wire, converted by [`Exptime`] (not by the client's own rules).
fn wire(exptime: Exptime) -> u32 {
    u32::try_from(exptime.wire()).unwrap_or(u32::MAX)
}

/// Transport failures are [`Error::Unavailable`] (including a written request whose reply
/// never came); a value over the server's item size limit is [`Error::Encode`]; anything
/// else is [`Error::Backend`]. The client's error is kept as the source.
fn convert(address: &str, error: ClientError) -> Error {
    let source = Box::new(NodeError {
        address: redact_url(address),
        error,
    });
    // The server's refusal of an oversized value arrives after the value was written, so the
    // client reports it wrapped as "ambiguous"; what decides is the innermost error.
    let mut innermost = &source.error;
    while let ClientError::Ambiguous { source: inner, .. } = innermost {
        if matches!(**inner, ClientError::Server(_)) {
            innermost = inner;
        } else {
            break;
        }
    }
    match innermost {
        ClientError::Server(message) if message.contains("too large") => Error::Encode(source),
        ClientError::Io(_) | ClientError::Timeout { .. } | ClientError::Ambiguous { .. } => {
            Error::Unavailable {
                backend: BACKEND,
                source,
            }
        }
        _ => Error::Backend {
            backend: BACKEND,
            source,
        },
    }
}

/// A client error with the server it came from (password hidden, should the address
/// hold one).
#[derive(Debug)]
struct NodeError {
    address: String,
    error: ClientError,
}

impl fmt::Display for NodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "memcached at {}: {}", self.address, self.error)
    }
}

impl std::error::Error for NodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Node")
            .field("address", &redact_url(&self.address))
            .finish()
    }
}
