//! [`SessionScan`] for [`MemcachedStore`]: `lru_crawler metadump all`, one server per page.

use std::num::NonZeroUsize;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use sessionkit_core::{Error, Id, ScanCursor, ScanPage, ScannedRecord, SessionScan, redact_url};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::MemcachedStore;
use crate::client::BACKEND;

/// How long a dump waits for a crawler another client is running (`BUSY`) before failing.
const BUSY_WAIT: Duration = Duration::from_secs(10);

/// Memcached cannot list keys through its data commands; its LRU crawler can: `lru_crawler
/// metadump all` (memcached 1.4.31 and later, crawler enabled, the default since 1.5)
/// writes one line per item (`key=<url-encoded> exp=<unix seconds or -1> ... size=<bytes>`)
/// from a background thread, without stopping the workers. Each page is one server's whole
/// dump, on a connection of its own, in the order the servers were given; the cursor is the
/// index of the next server. `limit` is not used: a dump cannot stop and resume. Each line
/// must arrive within the store's timeout. The size is memcached's item size (payload, key
/// and header). A server without the crawler fails the scan with [`Error::Backend`] saying
/// so.
#[async_trait]
impl SessionScan for MemcachedStore {
    async fn scan(
        &self,
        from: Option<&ScanCursor>,
        _limit: NonZeroUsize,
    ) -> Result<ScanPage, Error> {
        let index: usize = match from {
            None => 0,
            Some(cursor) => cursor
                .as_str()
                .parse()
                .map_err(|_| Error::decode("not a cursor of this memcached store"))?,
        };
        let Some(node) = self.nodes().get(index) else {
            return Err(Error::decode("not a cursor of this memcached store"));
        };
        let records = self.dump(node.address()).await?;
        let next =
            (index + 1 < self.nodes().len()).then(|| ScanCursor::new((index + 1).to_string()));
        Ok(ScanPage::new(records, next))
    }
}

impl MemcachedStore {
    /// The live sessions on the server at `address`, from its metadump.
    async fn dump(&self, address: &str) -> Result<Vec<ScannedRecord>, Error> {
        let started = tokio::time::Instant::now();
        loop {
            match self.dump_once(address).await? {
                Dump::Done(records) => return Ok(records),
                Dump::Busy if started.elapsed() < BUSY_WAIT => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Dump::Busy => {
                    return Err(self.failed(
                        address,
                        "its LRU crawler stayed busy with another client's request",
                    ));
                }
            }
        }
    }

    async fn dump_once(&self, address: &str) -> Result<Dump, Error> {
        let timeout = self.timeout();
        let unavailable = |e: std::io::Error| Error::Unavailable {
            backend: BACKEND,
            source: format!("memcached {}: {e}", redact_url(address)).into(),
        };
        let timed_out = |_| Error::Timeout {
            backend: BACKEND,
            after: timeout,
        };
        let stream = tokio::time::timeout(timeout, TcpStream::connect(address))
            .await
            .map_err(timed_out)?
            .map_err(unavailable)?;
        let mut stream = BufReader::new(stream);
        stream
            .get_mut()
            .write_all(b"lru_crawler metadump all\r\n")
            .await
            .map_err(unavailable)?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let mut records = Vec::new();
        let mut line = String::new();
        loop {
            line.clear();
            let read = tokio::time::timeout(timeout, stream.read_line(&mut line))
                .await
                .map_err(timed_out)?
                .map_err(unavailable)?;
            if read == 0 {
                return Err(unavailable(std::io::ErrorKind::UnexpectedEof.into()));
            }
            let text = line.trim_end();
            if text == "END" {
                return Ok(Dump::Done(records));
            }
            if text.starts_with("BUSY") {
                return Ok(Dump::Busy);
            }
            if !text.starts_with("key=") {
                return Err(self.failed(
                    address,
                    "it cannot list its keys: `lru_crawler metadump` needs memcached 1.4.31 or \
                     later with the LRU crawler enabled (`-o lru_crawler`, the default since 1.5)",
                ));
            }
            if let Some(record) = self.parse_line(text, now) {
                records.push(record);
            }
        }
    }

    /// A session of this store from one metadump line, if the line is one and is live.
    fn parse_line(&self, line: &str, now: u64) -> Option<ScannedRecord> {
        let mut key = None;
        let mut exp = None;
        let mut size = None;
        for field in line.split(' ') {
            match field.split_once('=')? {
                ("key", value) => key = Some(percent_decode(value)?),
                ("exp", value) => exp = Some(value.parse::<i64>().ok()?),
                ("size", value) => size = Some(value.parse::<u64>().ok()?),
                _ => {}
            }
        }
        let key = key?;
        let id = Id::parse_bytes(key.strip_prefix(self.key_prefix().as_bytes())?)?;
        let expires_at = match exp? {
            exp if exp < 0 => None,
            exp if (exp as u64) <= now => return None,
            exp => Some(UNIX_EPOCH + Duration::from_secs(exp as u64)),
        };
        Some(ScannedRecord::new(id, size.unwrap_or(0), expires_at))
    }

    fn failed(&self, address: &str, why: &str) -> Error {
        Error::Backend {
            backend: BACKEND,
            source: format!(
                "memcached {} cannot list sessions: {why}",
                redact_url(address)
            )
            .into(),
        }
    }
}

enum Dump {
    Done(Vec<ScannedRecord>),
    Busy,
}

/// Undoes the URL encoding of keys in a metadump (`%3A` for `:`).
fn percent_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_url_decoded() {
        assert_eq!(percent_decode("session%3Aab%2Fc").unwrap(), b"session:ab/c");
        assert!(percent_decode("bad%3").is_none());
    }
}
