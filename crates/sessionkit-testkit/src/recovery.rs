//! Recovery cases: a store whose servers sit behind [`FaultProxy`]s survives a network
//! blip, and no reply ever reaches the wrong call. Backends' tests run them on a store built
//! on the proxies' addresses; every proxy gets the same fault at once.

use std::time::{Duration, Instant, SystemTime};

use futures_util::future::join_all;
use sessionkit_core::{Error, ErrorKind, Id, SessionStore};

use crate::{Fault, FaultProxy};

/// How long a healed store may take to serve again.
pub const RECOVERY_LIMIT: Duration = Duration::from_secs(5);

/// What a blip cost, for the test's output.
#[derive(Debug, Clone, Copy)]
pub struct Blip {
    /// The slowest failing call while the fault was on.
    pub slowest_failure: Duration,
    /// From healing the proxy to the first call served again.
    pub recovered_after: Duration,
}

/// A working store, then `fault` on the proxies: concurrent calls fail with
/// [`ErrorKind::Timeout`] or [`ErrorKind::Unavailable`] within `timeout` plus `margin`;
/// then they heal: the same store serves again within [`RECOVERY_LIMIT`], and every
/// call gets its own reply ([`replies_match_their_calls`]).
///
/// # Panics
/// When any of that does not hold.
pub async fn survives_a_blip(
    store: &dyn SessionStore,
    proxies: &[FaultProxy],
    fault: Fault,
    timeout: Duration,
    margin: Duration,
) -> Blip {
    replies_match_their_calls(store).await;

    set(proxies, fault);
    let mut slowest_failure = Duration::ZERO;
    for _ in 0..3 {
        let started = Instant::now();
        let ids: Vec<Id> = (0..8).map(|_| Id::random()).collect();
        let results = join_all(ids.iter().map(|id| store.load(id))).await;
        let took = started.elapsed();
        for result in results {
            let error = result.expect_err("the network is down: no call can succeed");
            assert_outage(&error);
        }
        assert!(took <= timeout + margin, "failing calls took {took:?}");
        slowest_failure = slowest_failure.max(took);
    }

    set(proxies, Fault::None);
    let healed = Instant::now();
    let recovered_after = wait_until_served(store).await;
    replies_match_their_calls(store).await;
    assert!(healed.elapsed() <= RECOVERY_LIMIT + timeout);
    Blip {
        slowest_failure,
        recovered_after,
    }
}

/// Blips shorter than the timeout: calls sent into the blackhole are still waiting when
/// the proxies heal and more calls go out. Every call either fails with a typed outage error
/// or returns exactly the record of its own key. (A connection that lost a request or a
/// reply pairs each later reply with an earlier request: a load would see another
/// session.) Then the store serves again.
///
/// # Panics
/// When a call gets another call's reply, or the store does not serve again after the
/// last blip.
pub async fn replies_reach_their_calls(
    store: &dyn SessionStore,
    proxies: &[FaultProxy],
    timeout: Duration,
) {
    let sessions = create_sessions(store, 32).await;
    let (early, late) = sessions.split_at(16);
    for _ in 0..3 {
        set(proxies, Fault::Blackhole);
        let into_the_blackhole = join_all(early.iter().map(|session| load_own(store, session)));
        let after_healing = async {
            tokio::time::sleep(timeout / 4).await;
            set(proxies, Fault::None);
            join_all(late.iter().map(|session| load_own(store, session))).await
        };
        tokio::join!(into_the_blackhole, after_healing);
    }
    wait_until_served(store).await;
    replies_match_their_calls(store).await;
}

fn set(proxies: &[FaultProxy], fault: Fault) {
    for proxy in proxies {
        proxy.set(fault);
    }
}

/// Loads `id`: its own value, or a typed outage error.
async fn load_own(store: &dyn SessionStore, (id, value): &(Id, Vec<u8>)) {
    match store.load(id).await {
        Ok(Some(record)) => assert_eq!(
            record.payload().as_ref(),
            value.as_slice(),
            "a load got another call's reply"
        ),
        Ok(None) => panic!("a load of a live session found nothing: another call's reply"),
        Err(error) => assert_outage(&error),
    }
}

/// Writes distinct values under distinct keys and reads them back, all calls at once:
/// every call gets its own reply.
///
/// # Panics
/// When a value read back is not the one written for its key, or a call fails.
pub async fn replies_match_their_calls(store: &dyn SessionStore) {
    let sessions = create_sessions(store, 64).await;
    let loads = join_all(sessions.iter().map(|(id, _)| store.load(id))).await;
    for ((_, value), loaded) in sessions.iter().zip(loads) {
        let record = loaded.expect("load").expect("a session just created");
        assert_eq!(
            record.payload().as_ref(),
            value.as_slice(),
            "another key's value"
        );
    }
    let saves = join_all(sessions.iter().map(|(id, value)| async move {
        let record = store.load(id).await?.expect("a session just created");
        let mut next = value.clone();
        next.extend_from_slice(b"+saved");
        store
            .save(id, &next, expires(), record.version())
            .await
            .map(|()| next)
    }))
    .await;
    let loads = join_all(sessions.iter().map(|(id, _)| store.load(id))).await;
    for (saved, loaded) in saves.into_iter().zip(loads) {
        let saved = saved.expect("save");
        let record = loaded.expect("load").expect("a session just saved");
        assert_eq!(
            record.payload().as_ref(),
            saved.as_slice(),
            "another key's value"
        );
    }
    join_all(sessions.iter().map(|(id, _)| store.delete(id))).await;
}

/// Latency well below the timeout (`latency` on every chunk, each way, through the
/// proxies: a call of a few round trips, queued behind others for a connection, still fits
/// in the timeout) is served: rounds of concurrent writes all succeed, each round taking at least the latency
/// (the writes reached the server) and less than the timeout, and every load then returns
/// its own session's latest data (from the server, or from a cache the store keeps). Then
/// the proxies heal and the store keeps serving.
///
/// # Panics
/// When a call fails or gets another call's data under latency, or a round of writes takes
/// as long as `timeout`.
pub async fn serves_through_latency(
    store: &dyn SessionStore,
    proxies: &[FaultProxy],
    latency: Duration,
    timeout: Duration,
) {
    // Created first, so the store's connections are open before the latency starts.
    let sessions = create_sessions(store, 8).await;
    set(proxies, Fault::Latency(latency));
    for round in 0..3 {
        let loads = join_all(sessions.iter().map(|(id, _)| store.load(id))).await;
        let versions: Vec<_> = loads
            .into_iter()
            .map(|loaded| {
                loaded
                    .unwrap_or_else(|e| panic!("a load under {latency:?} of latency failed: {e:?}"))
                    .expect("a session created under latency is found")
                    .version()
            })
            .collect();
        let values: Vec<Vec<u8>> = sessions
            .iter()
            .map(|(_, value)| [value.as_slice(), format!(" round {round}").as_bytes()].concat())
            .collect();
        let started = Instant::now();
        let saves = join_all(
            sessions
                .iter()
                .zip(&values)
                .zip(&versions)
                .map(|(((id, _), value), version)| store.save(id, value, expires(), *version)),
        )
        .await;
        let took = started.elapsed();
        for saved in saves {
            saved.unwrap_or_else(|e| panic!("a save under {latency:?} of latency failed: {e:?}"));
        }
        assert!(
            took >= latency,
            "the proxy's latency was not in the path ({took:?})"
        );
        assert!(took < timeout, "saves under latency took {took:?}");
        let loads = join_all(sessions.iter().map(|(id, _)| store.load(id))).await;
        for ((id, loaded), value) in sessions.iter().map(|(id, _)| id).zip(loads).zip(&values) {
            let record = loaded
                .unwrap_or_else(|e| panic!("a load under {latency:?} of latency failed: {e:?}"))
                .unwrap_or_else(|| panic!("{id:?} was not found under latency"));
            assert_eq!(record.payload().as_ref(), value.as_slice());
        }
    }
    set(proxies, Fault::None);
    replies_match_their_calls(store).await;
    join_all(sessions.iter().map(|(id, _)| store.delete(id))).await;
}

/// Polls until a call succeeds, at most [`RECOVERY_LIMIT`]; returns how long it took.
///
/// # Panics
/// When the store does not serve within the limit.
pub async fn wait_until_served(store: &dyn SessionStore) -> Duration {
    let started = Instant::now();
    let mut last_error = None;
    while started.elapsed() < RECOVERY_LIMIT {
        let id = Id::random();
        match store.create(&id, b"probe", expires()).await {
            Ok(()) => {
                let _ = store.delete(&id).await;
                return started.elapsed();
            }
            Err(error) => last_error = Some(error),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "the store did not serve again within {RECOVERY_LIMIT:?} of the network healing; \
         last error: {last_error:?}"
    );
}

async fn create_sessions(store: &dyn SessionStore, n: usize) -> Vec<(Id, Vec<u8>)> {
    let sessions: Vec<(Id, Vec<u8>)> = (0..n)
        .map(|i| (Id::random(), format!("value of session {i}").into_bytes()))
        .collect();
    for result in join_all(
        sessions
            .iter()
            .map(|(id, value)| store.create(id, value, expires())),
    )
    .await
    {
        result.expect("create");
    }
    sessions
}

fn expires() -> SystemTime {
    SystemTime::now() + Duration::from_secs(600)
}

fn assert_outage(error: &Error) {
    assert!(
        matches!(error.kind(), ErrorKind::Timeout | ErrorKind::Unavailable),
        "not an outage error: {error:?}"
    );
}
