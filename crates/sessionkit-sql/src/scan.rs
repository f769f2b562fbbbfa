//! [`SessionScan`] for every dialect: keyset pagination on the primary key.

use std::num::NonZeroUsize;

use async_trait::async_trait;
use sessionkit_core::{Error, Id, ScanCursor, ScanPage, ScannedRecord, SessionScan, Version};

use crate::driver::Param::{Int, Text};
use crate::store::from_unix_ms;
use crate::{Dialect, SqlStore};

/// `SELECT ... WHERE id > cursor AND expires_at > now ORDER BY id LIMIT n` through the
/// primary key's index: each page is one short indexed read, however large the table. The
/// cursor is the last key the page read (prefix included); a short page ends the scan.
/// Rows of other prefixes sharing the table are read past, not listed.
#[async_trait]
impl<D: Dialect> SessionScan for SqlStore<D> {
    async fn scan(
        &self,
        from: Option<&ScanCursor>,
        limit: NonZeroUsize,
    ) -> Result<ScanPage, Error> {
        let after = from.map_or("", ScanCursor::as_str);
        let limit = i64::try_from(limit.get()).unwrap_or(i64::MAX);
        let params = [Text(after), Int(self.now_ms()), Int(limit)];
        let rows = self.fetch_scanned(&self.statements().scan, &params).await?;
        let next = match rows.last() {
            Some(last) if rows.len() as i64 == limit => Some(ScanCursor::new(last.key.clone())),
            _ => None,
        };
        let prefix = self.prefix();
        let records = rows
            .into_iter()
            .filter_map(|row| {
                let id = Id::parse(row.key.strip_prefix(prefix)?)?;
                let size = u64::try_from(row.size).unwrap_or(0);
                Some(
                    ScannedRecord::new(id, size, Some(from_unix_ms(row.expires_at)))
                        .with_version(Version::new(row.version as u64)),
                )
            })
            .collect();
        Ok(ScanPage::new(records, next))
    }
}
