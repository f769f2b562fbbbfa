//! `purge-expired`: delete the expired rows of a SQL table now.

use std::process::ExitCode;

use sessionkit::{Config, ExpiredDeletion, SessionType};
use sessionkit_sql::{Dialect, MySql, Postgres, SqlStoreBuilder, Sqlite};

use crate::YesArgs;
use crate::confirm::confirm;
use crate::failure::Failure;

pub(crate) async fn run(config: Config, args: YesArgs) -> Result<ExitCode, Failure> {
    let by_itself = |name: &str| {
        println!("the {name} store expires records by itself: nothing to purge");
        Ok(ExitCode::SUCCESS)
    };
    match config.session_type() {
        SessionType::Postgres => purge::<Postgres>(&config, args.yes).await,
        SessionType::MySql => purge::<MySql>(&config, args.yes).await,
        SessionType::Sqlite => purge::<Sqlite>(&config, args.yes).await,
        SessionType::Redis => by_itself("redis"),
        SessionType::Memcached => by_itself("memcached"),
        SessionType::Memory => Err(Failure::new(
            "SESSION_TYPE=memory keeps sessions inside the application's process, which \
             removes expired ones itself: nothing to purge from another process",
        )),
        _ => {
            println!("SESSION_TYPE=cookie keeps no records: nothing to purge");
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn purge<D: Dialect>(config: &Config, yes: bool) -> Result<ExitCode, Failure> {
    let url = config
        .sql_url()
        .ok_or_else(|| Failure::new("SESSION_SQL_URL is needed"))?;
    let store = SqlStoreBuilder::<D>::connect(url)
        .await?
        .table(config.sql_table())
        .key_prefix(config.key_prefix())
        .timeout(config.session().store_timeout)
        .build()?;
    confirm(
        &format!("delete the expired rows of table {}", config.sql_table()),
        yes,
    )?;
    let deleted = store.delete_expired().await?;
    println!(
        "purged {deleted} expired record(s) from table {}",
        config.sql_table()
    );
    Ok(ExitCode::SUCCESS)
}
