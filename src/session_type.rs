//! Which store to use (`SESSION_TYPE`).

use std::fmt;
use std::str::FromStr;

use sessionkit_core::ConfigKey;
use sessionkit_core::Error;

/// The kind of store, chosen by `SESSION_TYPE` as in Flask-Session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum SessionType {
    /// `memory` (the default): in this process, lost on restart.
    #[default]
    Memory,
    /// `redis`: Redis or Valkey, standalone, Sentinel or Cluster.
    Redis,
    /// `memcached`: one or more Memcached servers.
    Memcached,
    /// `postgres` (or `postgresql`): a PostgreSQL table.
    Postgres,
    /// `mysql` (or `mariadb`): a MySQL or MariaDB table.
    MySql,
    /// `sqlite`: an SQLite table.
    Sqlite,
    /// `cookie`: no store; the whole session travels in the cookie, sealed or in Flask's
    /// signed format (`SESSION_COOKIE_FORMAT`), with `SECRET_KEY`.
    Cookie,
}

impl SessionType {
    /// Every session type, in documentation order.
    pub const ALL: [SessionType; 7] = [
        Self::Memory,
        Self::Redis,
        Self::Memcached,
        Self::Postgres,
        Self::MySql,
        Self::Sqlite,
        Self::Cookie,
    ];

    /// The `SESSION_TYPE` value naming this type.
    pub fn name(self) -> &'static str {
        match self {
            Self::Memory => "memory",
            Self::Redis => "redis",
            Self::Memcached => "memcached",
            Self::Postgres => "postgres",
            Self::MySql => "mysql",
            Self::Sqlite => "sqlite",
            Self::Cookie => "cookie",
        }
    }

    /// The cargo feature of `sessionkit` that compiles this backend in (`None` for the
    /// always-present memory store and cookie sessions).
    pub fn feature(self) -> Option<&'static str> {
        match self {
            Self::Memory | Self::Cookie => None,
            other => Some(other.name()),
        }
    }

    /// Whether this build of `sessionkit` includes the backend.
    pub fn is_compiled_in(self) -> bool {
        match self {
            Self::Memory | Self::Cookie => true,
            Self::Redis => cfg!(feature = "redis"),
            Self::Memcached => cfg!(feature = "memcached"),
            Self::Postgres => cfg!(feature = "postgres"),
            Self::MySql => cfg!(feature = "mysql"),
            Self::Sqlite => cfg!(feature = "sqlite"),
        }
    }
}

impl fmt::Display for SessionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SessionType {
    type Err = Error;

    /// Parses a `SESSION_TYPE` value, case-insensitively; `postgresql` and `mariadb` are
    /// accepted as aliases. Flask-Session types that sessionkit does not offer get an error
    /// that says so.
    ///
    /// ```
    /// use sessionkit::SessionType;
    ///
    /// assert_eq!("Redis".parse::<SessionType>()?, SessionType::Redis);
    /// assert_eq!("mariadb".parse::<SessionType>()?, SessionType::MySql);
    /// let err = "filesystem".parse::<SessionType>().unwrap_err();
    /// assert!(err.to_string().contains("SESSION_TYPE"));
    /// # Ok::<(), sessionkit::Error>(())
    /// ```
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        let name = match lower.as_str() {
            "postgresql" => "postgres",
            "mariadb" => "mysql",
            other => other,
        };
        if let Some(found) = Self::ALL.into_iter().find(|t| t.name() == name) {
            return Ok(found);
        }
        let what = match name {
            "filesystem" | "cachelib" | "mongodb" | "sqlalchemy" | "dynamodb" => {
                format!("Flask-Session's `{name}` type is not offered by sessionkit")
            }
            _ => "unknown session type".to_owned(),
        };
        Err(Error::config(
            ConfigKey::SessionType,
            s,
            format!("{what}; use one of memory, redis, memcached, postgres, mysql, sqlite, cookie"),
        ))
    }
}
