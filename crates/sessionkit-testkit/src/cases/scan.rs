//! The [`SessionScan`](sessionkit_core::SessionScan) capability: every live record, page by
//! page, with its size and expiry; nothing deleted or expired.
//!
//! The cases look only for their own records (fresh ids), so the store may hold others:
//! a server shared with other tests.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::time::{Duration, SystemTime};

use sessionkit_core::{Id, ScanCursor, ScannedRecord, SessionScan, SessionStore};

use super::support::{LONG, SHORT, later};
use crate::TimeTravel;

fn scanner(store: &dyn SessionStore) -> &dyn SessionScan {
    store
        .session_scan()
        .expect("the scan cases need a store whose session_scan() is Some")
}

/// Every record a complete scan lists, by id, the cursor written out as text and read back
/// between pages (as a resumed scan does); panics on an id listed with two sizes.
async fn scan_all(store: &dyn SessionStore, limit: usize) -> HashMap<Id, ScannedRecord> {
    let scan = scanner(store);
    let limit = NonZeroUsize::new(limit).expect("limit > 0");
    let mut found = HashMap::new();
    let mut cursor: Option<String> = None;
    for _ in 0..1_000_000 {
        let from = cursor.as_deref().map(ScanCursor::new);
        let page = scan
            .scan(from.as_ref(), limit)
            .await
            .unwrap_or_else(|e| panic!("scan failed: {e:?}"));
        for record in page.records {
            found.insert(record.id, record);
        }
        match page.next {
            Some(next) => cursor = Some(next.as_str().to_owned()),
            None => return found,
        }
    }
    panic!("the scan never ended");
}

/// Creates `count` records with payloads of 10, 11, ... bytes, living `ttl`.
async fn create_sized(
    store: &dyn SessionStore,
    time: &TimeTravel,
    count: usize,
    ttl: Duration,
) -> Vec<(Id, usize, SystemTime)> {
    let mut made = Vec::with_capacity(count);
    for n in 0..count {
        let id = Id::random();
        let payload = vec![0x80 | (n as u8 & 0x0f); 10 + n];
        let expires = later(time, ttl);
        store
            .create(&id, &payload, expires)
            .await
            .unwrap_or_else(|e| panic!("create failed: {e:?}"));
        made.push((id, payload.len(), expires));
    }
    made
}

/// A complete scan lists every live record with its payload size (Memcached: its item
/// size, which counts the key and header too) and its expiry (to a couple of seconds, the
/// coarsest store precision).
pub async fn scan_lists_live_records_with_size_and_expiry(
    store: &dyn SessionStore,
    time: &TimeTravel,
) {
    let made = create_sized(store, time, 3, LONG).await;
    let found = scan_all(store, 100).await;
    for (id, size, expires) in made {
        let record = found
            .get(&id)
            .unwrap_or_else(|| panic!("a live record was not listed ({id:?})"));
        if store.backend() == "memcached" {
            assert!(
                record.size >= size as u64,
                "item size {} < {size}",
                record.size
            );
        } else {
            assert_eq!(record.size, size as u64, "listed size is not the payload's");
        }
        let listed = record.expires_at.expect("a record written with an expiry");
        let off = listed
            .duration_since(expires)
            .unwrap_or_else(|e| e.duration());
        assert!(
            off <= Duration::from_secs(2),
            "listed expiry is {off:?} off"
        );
    }
    for id in found.keys() {
        assert_eq!(
            Id::parse(&id.to_string()),
            Some(*id),
            "a listed id is not an id"
        );
    }
}

/// With a limit of 3 keys per page, following the cursors (kept as text, as a resumed scan
/// does) still visits every record.
pub async fn scan_in_small_pages_visits_every_record(store: &dyn SessionStore, time: &TimeTravel) {
    let made = create_sized(store, time, 25, LONG).await;
    let found = scan_all(store, 3).await;
    let missing = made
        .iter()
        .filter(|(id, _, _)| !found.contains_key(id))
        .count();
    assert_eq!(missing, 0, "{missing} of 25 records were not listed");
}

/// Deleted and expired records are not listed.
pub async fn scan_skips_deleted_and_expired_records(store: &dyn SessionStore, time: &TimeTravel) {
    let deleted = create_sized(store, time, 1, LONG).await[0].0;
    let expiring = create_sized(store, time, 1, SHORT).await[0].0;
    let kept = create_sized(store, time, 1, LONG).await[0].0;
    store.delete(&deleted).await.expect("delete");
    time.pass(SHORT).await;
    let found = scan_all(store, 100).await;
    assert!(!found.contains_key(&deleted), "a deleted record was listed");
    assert!(
        !found.contains_key(&expiring),
        "an expired record was listed"
    );
    assert!(found.contains_key(&kept), "a live record was not listed");
}

/// A record bound to a user (where the store has a user index) is listed once, as itself:
/// the index's own entries are not sessions.
pub async fn scan_lists_bound_records_and_not_the_index(
    store: &dyn SessionStore,
    time: &TimeTravel,
) {
    let Some(index) = store.user_index() else {
        return;
    };
    let id = Id::random();
    let user = format!("scan-user-{}", &Id::random().to_string()[..8]);
    index
        .create_for(&id, b"\x81\xa1a\x01", later(time, LONG), Some(&user))
        .await
        .expect("create_for");
    let found = scan_all(store, 100).await;
    let record = found.get(&id).expect("a bound record was not listed");
    if store.backend() != "memcached" {
        assert_eq!(record.size, 4);
    }
    store.delete(&id).await.expect("delete");
}
