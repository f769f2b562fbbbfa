//! [`UserIndex`] for every dialect: the `user_hash` column and its index.

use async_trait::async_trait;
use sessionkit_core::{Error, Id, IndexedRecord, UserIndex, Version};
use sha2::{Digest, Sha256};
use std::time::SystemTime;

use crate::driver::Param::{Bytes, Int, Text};
use crate::store::{UserColumn, from_unix_ms};
use crate::{Dialect, SqlStore};

/// The user column's value for `user`: the SHA-256 of its UTF-8 bytes. Fixed-size and
/// compared byte for byte on every database, whatever the name's length, characters or the
/// server's collation.
fn user_hash(user: &str) -> [u8; 32] {
    Sha256::digest(user.as_bytes()).into()
}

/// An exact index kept in the row itself: the binding is written by the same statement as
/// the record, lives and dies with the row, and is found through `{table}_user_hash_idx`.
#[async_trait]
impl<D: Dialect> UserIndex for SqlStore<D> {
    async fn create_for(
        &self,
        id: &Id,
        payload: &[u8],
        expires_at: SystemTime,
        user: Option<&str>,
    ) -> Result<(), Error> {
        let hash = user.map(user_hash);
        self.create_bound(
            id,
            payload,
            expires_at,
            hash.as_ref().map(<[u8; 32]>::as_slice),
        )
        .await
    }

    async fn save_for(
        &self,
        id: &Id,
        payload: &[u8],
        expires_at: SystemTime,
        expected: Version,
        user: Option<&str>,
    ) -> Result<(), Error> {
        let hash = user.map(user_hash);
        let column = UserColumn::Set(hash.as_ref().map(<[u8; 32]>::as_slice));
        self.save_bound(id, payload, expires_at, expected, column)
            .await
    }

    async fn touch_for(
        &self,
        id: &Id,
        expires_at: SystemTime,
        _user: Option<&str>,
    ) -> Result<(), Error> {
        // The binding is in the row, so it lives exactly as long: a touch is enough, and
        // writes only the expiry.
        sessionkit_core::SessionStore::touch(self, id, expires_at).await
    }

    /// One `SELECT` of the live rows bound to `user`. Rows under another key prefix (another
    /// application sharing the table) are not this store's and are left out.
    async fn sessions_of(&self, user: &str) -> Result<Vec<IndexedRecord>, Error> {
        let hash = user_hash(user);
        let params = [Bytes(&hash), Int(self.now_ms())];
        let rows = self
            .fetch_listed(&self.inner.sql.sessions_of, &params)
            .await?;
        let prefix = self.inner.prefix.as_str();
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let id = Id::parse(row.key.strip_prefix(prefix)?)?;
                Some(IndexedRecord::new(
                    id,
                    row.record,
                    from_unix_ms(row.expires_at),
                ))
            })
            .collect())
    }

    async fn unindex(&self, user: &str, id: &Id) -> Result<(), Error> {
        let hash = user_hash(user);
        let params = [Text(&self.key(id)), Bytes(&hash)];
        self.execute(&self.inner.sql.unindex, &params)
            .await
            .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_sha256_of_the_utf8_bytes() {
        // SHA-256("abc"), FIPS 180-2's first example.
        let hex: String = user_hash("abc")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            hex,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_ne!(user_hash("Ada"), user_hash("ada"));
    }
}
