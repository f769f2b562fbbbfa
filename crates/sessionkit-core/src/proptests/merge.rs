//! Two overlapping requests on one session, whatever each changes and whichever finishes
//! first, end as documented: per key, the later save wins and keys only one request
//! changed keep its change; a logout (`clear`, or removing every key) always wins, in
//! either order.

use std::collections::BTreeMap;
use std::sync::Arc;

use proptest::prelude::*;

use crate::{Id, MemoryStore, Session, SessionConfig, SessionData, SessionStore, Sessions};

const KEYS: [&str; 4] = ["a", "b", "c", "d"];

/// One change a request makes.
#[derive(Debug, Clone)]
enum Change {
    Set(&'static str, u8),
    Remove(&'static str),
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        (proptest::sample::select(&KEYS[..]), any::<u8>()).prop_map(|(k, v)| Change::Set(k, v)),
        proptest::sample::select(&KEYS[..]).prop_map(Change::Remove),
    ]
}

/// What a request does: a list of changes, or a logout.
#[derive(Debug, Clone)]
enum Request {
    Writes(Vec<Change>),
    Logout,
}

fn request() -> impl Strategy<Value = Request> {
    prop_oneof![
        4 => proptest::collection::vec(change(), 0..6).prop_map(Request::Writes),
        1 => Just(Request::Logout),
    ]
}

/// What `changes` leave to a request that loaded `base`, as `SessionData` tracks it: each
/// key a real change touched (a set of another value, a removal of a present key), with
/// its final value or `None` when removed.
fn net(
    changes: &[Change],
    base: &BTreeMap<&'static str, u8>,
) -> BTreeMap<&'static str, Option<u8>> {
    let mut view = base.clone();
    let mut touched = Vec::new();
    for change in changes {
        match change {
            Change::Set(k, v) if view.get(k) != Some(v) => {
                view.insert(k, *v);
                touched.push(*k);
            }
            Change::Remove(k) if view.remove(k).is_some() => touched.push(*k),
            _ => {}
        }
    }
    touched
        .into_iter()
        .map(|k| (k, view.get(k).copied()))
        .collect()
}

/// Whether `request` logs out of a session holding `base`: `clear`, or removing every key
/// it holds (a session emptied by its request is deleted, whatever happened meanwhile).
fn logs_out(request: &Request, base: &BTreeMap<&'static str, u8>) -> bool {
    match request {
        Request::Logout => true,
        Request::Writes(changes) => {
            let mut view = base.clone();
            for (k, v) in net(changes, base) {
                match v {
                    Some(v) => view.insert(k, v),
                    None => view.remove(k),
                };
            }
            view.is_empty()
        }
    }
}

async fn apply(session: &Session, request: &Request) {
    match request {
        Request::Writes(changes) => {
            for change in changes {
                match change {
                    Change::Set(k, v) => session.insert(k, v).await.unwrap(),
                    Change::Remove(k) => drop(session.remove(k).await.unwrap()),
                }
            }
        }
        Request::Logout => session.clear().await.unwrap(),
    }
}

/// The session's data under `id` as the store holds it, `None` when there is no record.
async fn stored(store: &MemoryStore, id: &Id) -> Option<BTreeMap<String, u8>> {
    let record = store.load(id).await.unwrap()?;
    let data = crate::Codec::MessagePack.decode(record.payload()).unwrap();
    Some(
        KEYS.iter()
            .filter_map(|k| Some(((*k).to_owned(), data.get::<u8>(k).unwrap()?)))
            .collect(),
    )
}

proptest! {
    #[test]
    fn overlapping_requests_end_as_documented(
        base in proptest::collection::btree_map(proptest::sample::select(&KEYS[..]), any::<u8>(), 1..4),
        first in request(),
        second in request(),
        second_finishes_first in any::<bool>(),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(async {
            let store = Arc::new(MemoryStore::new());
            let sessions = Sessions::new(store.clone(), SessionConfig::default()).unwrap();

            // The session both requests start from.
            let setup = sessions.start([]);
            for (k, v) in &base {
                setup.insert(k, v).await.unwrap();
            }
            let set_cookie = sessions.finish(&setup).await.unwrap().set_cookie.unwrap();
            let cookie = set_cookie.split(';').next().unwrap().to_owned();
            let id = Id::parse(cookie.split_once('=').unwrap().1).unwrap();

            // Both load before either finishes.
            let one = sessions.start([cookie.as_bytes()]);
            let two = sessions.start([cookie.as_bytes()]);
            one.keys().await.unwrap();
            two.keys().await.unwrap();
            apply(&one, &first).await;
            apply(&two, &second).await;
            let (earlier, later) = if second_finishes_first {
                ((&two, &second), (&one, &first))
            } else {
                ((&one, &first), (&two, &second))
            };
            sessions.finish(earlier.0).await.unwrap();
            sessions.finish(later.0).await.unwrap();

            let result = stored(&store, &id).await;
            if logs_out(&first, &base) || logs_out(&second, &base) {
                assert_eq!(result, None, "a logout always wins");
                return;
            }
            let mut expected: BTreeMap<String, u8> =
                base.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect();
            for request in [earlier.1, later.1] {
                let Request::Writes(changes) = request else { unreachable!() };
                for (k, v) in net(changes, &base) {
                    match v {
                        Some(v) => expected.insert(k.to_owned(), v),
                        None => expected.remove(k),
                    };
                }
            }
            if expected.is_empty() {
                // Emptied by the two together: a logout.
                assert_eq!(result, None);
            } else {
                assert_eq!(result, Some(expected));
            }
        });
    }
}

#[test]
fn session_data_is_what_the_merge_reads() {
    // The merge works on `SessionData`'s tracked changes: a set of an equal value is none.
    let mut data = SessionData::new();
    data.insert("a", &1u8).unwrap();
    data.mark_unmodified();
    data.insert("a", &1u8).unwrap();
    assert!(!data.is_modified());
}
