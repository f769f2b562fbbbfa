//! `check`: the configuration is valid, the store answers, and a record makes the round trip.

use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use sessionkit::{Config, Id, SessionType};

use crate::failure::Failure;
use crate::target::Target;

/// A MessagePack map `{"sessionkit": "check"}`: what a session's payload looks like.
const PAYLOAD: &[u8] = b"\x81\xaasessionkit\xa5check";

pub(crate) async fn run(config: Config) -> Result<ExitCode, Failure> {
    let kind = config.session_type();
    let migrating = config.migrate_from().map(|old| old.session_type().name());
    let started = Instant::now();
    let target = Target::connect(config).await?;
    println!("configuration: ok (SESSION_TYPE={})", kind.name());
    if kind == SessionType::Cookie {
        println!("store: none (sessions live in their cookies): nothing to reach");
        return Ok(ExitCode::SUCCESS);
    }
    let store = &target.store;
    let id = Id::random();
    let expires = SystemTime::now() + Duration::from_secs(60);
    store.create(&id, PAYLOAD, expires).await?;
    let loaded = store.load(&id).await;
    let deleted = store.delete(&id).await;
    let record = loaded?;
    deleted?;
    match record {
        Some(record) if record.payload().as_ref() == PAYLOAD => {}
        Some(_) => {
            return Err(Failure::new(
                "round trip: the record read back differs from the one written",
            ));
        }
        None => {
            return Err(Failure::new(
                "round trip: the record just written was not found",
            ));
        }
    }
    if store.load(&id).await?.is_some() {
        return Err(Failure::new(
            "round trip: the deleted record is still there",
        ));
    }
    println!(
        "store: ok ({}{}): connected, created, loaded and deleted a test record in {} ms",
        store.backend(),
        migrating
            .map(|old| format!(", migrating from {old}"))
            .unwrap_or_default(),
        started.elapsed().as_millis()
    );
    match target.scan() {
        Ok(_) => println!("listing: available"),
        Err(why) => println!("listing: not available: {}", why.message()),
    }
    Ok(ExitCode::SUCCESS)
}
