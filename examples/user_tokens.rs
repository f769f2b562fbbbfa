//! The store API without HTTP: issue a random token per user with a short lifetime, read
//! the tokens back, and watch them expire.
//!
//! ```sh
//! cargo run --example user_tokens                      # memory store
//! ```
//! The store comes from `SESSION_TYPE` and the other keys, so the same program runs on any
//! backend compiled in.

use std::time::{Duration, SystemTime};

use sessionkit::{Config, ConfigBuilder, Id, SessionData};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), sessionkit::Error> {
    let lifetime = Duration::from_secs(2);
    let config: Config = ConfigBuilder::from_env()?
        .session(|s| s.lifetime = lifetime)
        .build()?;
    let store = sessionkit::connect(&config).await?;
    let codec = config.session().codec;
    println!("store: {store:?}, tokens live {lifetime:?}");

    let mut issued = Vec::new();
    for user in ["alice", "bob", "carol"] {
        let token = Id::random();
        let mut data = SessionData::new();
        data.insert("user", user)?;
        data.insert("scopes", &["read", "write"])?;
        let expires = SystemTime::now() + lifetime;
        store.create(&token, &codec.encode(&data)?, expires).await?;
        println!("issued {user:>5}: {token}");
        issued.push((user, token));
    }

    for (user, token) in &issued {
        let record = store.load(token).await?.expect("token just issued");
        let data = codec.decode(record.payload())?;
        let owner: Option<String> = data.get("user")?;
        println!("token of {user:>5} belongs to {owner:?}");
    }

    store.delete(&issued[0].1).await?;
    println!(
        "revoked alice's token: {:?}",
        store.load(&issued[0].1).await?.map(|_| ())
    );

    tokio::time::sleep(lifetime + Duration::from_millis(100)).await;
    for (user, token) in &issued[1..] {
        let state = match store.load(token).await? {
            Some(_) => "still valid",
            None => "expired",
        };
        println!("after {lifetime:?}, {user:>5}'s token is {state}");
    }
    Ok(())
}
