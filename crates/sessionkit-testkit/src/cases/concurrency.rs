//! Concurrent callers: atomic compare-and-set and atomic create.

use std::collections::HashSet;

use futures_util::future::join_all;
use sessionkit_core::{Codec, ErrorKind, Id, SessionStore};

use super::support::{LONG, create, data_with, encode, later, must_load};
use crate::TimeTravel;

/// Rounds of the racing-saves case: races are probabilistic, so run several.
const SAVE_RACES: usize = 20;

/// Concurrent creates issued at once.
const CREATES: usize = 1000;

/// Two saves racing from the same loaded version: exactly one succeeds, the other is a
/// `Conflict`, and the stored data is the winner's.
pub async fn concurrent_saves_from_one_version_one_wins(
    store: &dyn SessionStore,
    time: &TimeTravel,
) {
    for round in 0..SAVE_RACES {
        let id = create(store, time, &data_with("writer", "nobody"), LONG).await;
        let version = must_load(store, &id, "just created").await.version();
        let writers = ["left", "right"];
        let payloads: Vec<Vec<u8>> = writers
            .iter()
            .map(|w| encode(&data_with("writer", w)))
            .collect();
        let expires = later(time, LONG);
        let results = join_all(
            payloads
                .iter()
                .map(|payload| store.save(&id, payload, expires, version)),
        )
        .await;

        let winners: Vec<usize> = (0..2).filter(|&i| results[i].is_ok()).collect();
        assert_eq!(winners.len(), 1, "round {round}: {results:?}");
        let loser = 1 - winners[0];
        let err = results[loser].as_ref().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Conflict, "round {round}: {err:?}");

        let stored = must_load(store, &id, "after the race").await;
        let data = Codec::MessagePack.decode(stored.payload()).unwrap();
        assert_eq!(
            data.get::<String>("writer").unwrap().as_deref(),
            Some(writers[winners[0]]),
            "round {round}: the stored data is not the winner's"
        );
    }
}

/// A thousand creates issued at once are all stored, each under its own id with its own
/// data.
pub async fn concurrent_creates_are_all_stored_and_distinct(
    store: &dyn SessionStore,
    time: &TimeTravel,
) {
    let ids: Vec<Id> = (0..CREATES).map(|_| Id::random()).collect();
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), CREATES);
    let payloads: Vec<Vec<u8>> = (0..CREATES).map(|i| encode(&data_with("i", &i))).collect();
    let expires = later(time, LONG);
    let created = join_all(
        ids.iter()
            .zip(&payloads)
            .map(|(id, payload)| store.create(id, payload, expires)),
    )
    .await;
    for (i, result) in created.iter().enumerate() {
        assert!(result.is_ok(), "create {i} failed: {result:?}");
    }

    let loaded = join_all(ids.iter().map(|id| store.load(id))).await;
    for (i, result) in loaded.into_iter().enumerate() {
        let record = result
            .unwrap_or_else(|e| panic!("load {i} failed: {e:?}"))
            .unwrap_or_else(|| panic!("record {i} missing"));
        let data = Codec::MessagePack.decode(record.payload()).unwrap();
        assert_eq!(
            data.get::<usize>("i").unwrap(),
            Some(i),
            "record {i} holds another's data"
        );
    }
}
