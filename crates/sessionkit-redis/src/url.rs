//! `SESSION_REDIS` URLs: standalone, Sentinel and Cluster forms.

use std::fmt;

use redis::IntoConnectionInfo;
use sessionkit_core::{ConfigKey, Error, redact_url};

const KEY: ConfigKey = ConfigKey::Redis;

/// Where the sessions' Redis lives, parsed from a `SESSION_REDIS` URL.
///
/// | Form | Meaning |
/// |---|---|
/// | `redis://[user:pass@]host[:port][/db]` | one server (`valkey://` also accepted) |
/// | `rediss://...` | one server over TLS (rustls, system roots) |
/// | `redis+unix:///path/to/redis.sock` | one server over a Unix socket |
/// | `redis+sentinel://[user:pass@]h1:p1,h2:p2/service[/db]` | the master of `service`, found through Sentinel; credentials are the master's |
/// | `redis+cluster://[user:pass@]h1:p1,h2:p2` | a Redis Cluster, from any of its nodes |
///
/// `rediss+sentinel://` and `rediss+cluster://` use TLS to the data nodes.
///
/// ```
/// use sessionkit_redis::RedisUrl;
///
/// let url = RedisUrl::parse("redis+cluster://127.0.0.1:7000,127.0.0.1:7001")?;
/// assert!(matches!(url, RedisUrl::Cluster { .. }));
/// assert!(RedisUrl::parse("redis://").is_err());
/// # Ok::<(), sessionkit_core::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RedisUrl {
    /// One server.
    Standalone {
        /// The URL as redis-rs reads it.
        url: String,
    },
    /// The master of a Sentinel-monitored service.
    Sentinel {
        /// Sentinel addresses (`host:port`).
        sentinels: Vec<String>,
        /// The monitored service (master name).
        service: String,
        /// Database number on the master.
        db: i64,
        /// User on the master.
        username: Option<String>,
        /// Password on the master.
        password: Option<String>,
        /// TLS to the master.
        tls: bool,
    },
    /// A Redis Cluster.
    Cluster {
        /// Node URLs as redis-rs reads them.
        nodes: Vec<String>,
    },
}

impl RedisUrl {
    /// Parses and checks a URL.
    ///
    /// # Errors
    /// [`Error::Config`] naming `SESSION_REDIS` for anything that is not one of the forms
    /// above.
    pub fn parse(url: &str) -> Result<Self, Error> {
        let url = url.trim();
        let bad = |reason: String| Error::config(KEY, redact_url(url), reason);
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err(bad("expected a URL such as redis://127.0.0.1:6379".into()));
        };
        match scheme.to_ascii_lowercase().as_str() {
            "redis" | "rediss" | "valkey" | "valkeys" | "unix" | "redis+unix" | "valkey+unix" => {
                if rest.is_empty() || rest.starts_with('/') && !scheme.ends_with("unix") {
                    return Err(bad("the URL names no host".into()));
                }
                url.into_connection_info()
                    .map_err(|e| bad(format!("not a valid Redis URL: {e}")))?;
                Ok(Self::Standalone {
                    url: url.to_owned(),
                })
            }
            scheme @ ("redis+sentinel" | "rediss+sentinel") => {
                let (userinfo, hosts, path) = split_authority(rest);
                let sentinels = host_list(hosts).map_err(bad)?;
                let mut segments = path.split('/').filter(|s| !s.is_empty());
                let service = segments
                    .next()
                    .ok_or_else(|| {
                        bad(
                            "name the monitored service: redis+sentinel://host:26379/mymaster"
                                .into(),
                        )
                    })?
                    .to_owned();
                let db = match segments.next() {
                    Some(db) => db
                        .parse()
                        .map_err(|_| bad(format!("database `{db}` is not a number")))?,
                    None => 0,
                };
                let (username, password) = credentials(userinfo);
                Ok(Self::Sentinel {
                    sentinels,
                    service,
                    db,
                    username,
                    password,
                    tls: scheme.starts_with("rediss"),
                })
            }
            scheme @ ("redis+cluster" | "rediss+cluster") => {
                let (userinfo, hosts, path) = split_authority(rest);
                if !path.trim_matches('/').is_empty() {
                    return Err(bad("a cluster has no database number; drop the path".into()));
                }
                let node_scheme = if scheme.starts_with("rediss") {
                    "rediss"
                } else {
                    "redis"
                };
                let auth = userinfo.map(|u| format!("{u}@")).unwrap_or_default();
                let nodes = host_list(hosts)
                    .map_err(bad)?
                    .into_iter()
                    .map(|host| format!("{node_scheme}://{auth}{host}"))
                    .collect();
                Ok(Self::Cluster { nodes })
            }
            other => Err(bad(format!(
                "unknown scheme `{other}`: use redis, rediss, redis+unix, redis+sentinel or redis+cluster"
            ))),
        }
    }
}

/// Splits `[userinfo@]hosts[/path]`. The userinfo ends at the last `@` (hosts and the
/// service path never hold one), so a password with an unencoded `/` is not taken for a
/// host and quoted in an error.
fn split_authority(rest: &str) -> (Option<&str>, &str, &str) {
    let (userinfo, rest) = match rest.rsplit_once('@') {
        Some((userinfo, rest)) => (Some(userinfo), rest),
        None => (None, rest),
    };
    let (hosts, path) = rest.split_once('/').unwrap_or((rest, ""));
    (userinfo, hosts, path)
}

fn credentials(userinfo: Option<&str>) -> (Option<String>, Option<String>) {
    match userinfo {
        None => (None, None),
        Some(info) => match info.split_once(':') {
            Some((user, pass)) => (
                (!user.is_empty()).then(|| user.to_owned()),
                Some(pass.to_owned()),
            ),
            None => (Some(info.to_owned()), None),
        },
    }
}

/// `h1:p1,h2:p2`, each host non-empty and each port a number; IPv6 in brackets.
fn host_list(hosts: &str) -> Result<Vec<String>, String> {
    let list: Vec<String> = hosts
        .split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(str::to_owned)
        .collect();
    if list.is_empty() {
        return Err("list at least one host:port".to_owned());
    }
    for host in &list {
        let (name, port) = host
            .rsplit_once(':')
            .ok_or_else(|| format!("`{host}` needs a port (host:port)"))?;
        if name.is_empty() || name == "[" {
            return Err(format!("`{host}` has no host name"));
        }
        port.parse::<u16>()
            .map_err(|_| format!("`{port}` in `{host}` is not a port number"))?;
    }
    Ok(list)
}

impl fmt::Debug for RedisUrl {
    /// Passwords are not shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Standalone { url } => f
                .debug_struct("Standalone")
                .field("url", &redact_url(url))
                .finish(),
            Self::Sentinel {
                sentinels,
                service,
                db,
                username,
                tls,
                ..
            } => f
                .debug_struct("Sentinel")
                .field("sentinels", sentinels)
                .field("service", service)
                .field("db", db)
                .field("username", username)
                .field("tls", tls)
                .finish_non_exhaustive(),
            Self::Cluster { nodes } => f
                .debug_struct("Cluster")
                .field(
                    "nodes",
                    &nodes.iter().map(|n| redact_url(n)).collect::<Vec<_>>(),
                )
                .finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standalone_forms() {
        for url in [
            "redis://127.0.0.1:6379",
            "redis://127.0.0.1",
            "redis://user:pw@cache:6380/2",
            "rediss://cache.example.com:6380",
            "valkey://127.0.0.1",
            "redis+unix:///run/redis.sock",
        ] {
            assert!(
                matches!(RedisUrl::parse(url), Ok(RedisUrl::Standalone { .. })),
                "{url}"
            );
        }
    }

    #[test]
    fn sentinel_form() {
        let url = RedisUrl::parse("redis+sentinel://:pw@10.0.0.1:26379,10.0.0.2:26379/mymaster/3")
            .unwrap();
        assert_eq!(
            url,
            RedisUrl::Sentinel {
                sentinels: vec!["10.0.0.1:26379".into(), "10.0.0.2:26379".into()],
                service: "mymaster".into(),
                db: 3,
                username: None,
                password: Some("pw".into()),
                tls: false,
            }
        );
        assert!(!format!("{url:?}").contains("pw"));
    }

    #[test]
    fn cluster_form() {
        let url = RedisUrl::parse("rediss+cluster://u:p@h1:7000,[::1]:7001").unwrap();
        assert_eq!(
            url,
            RedisUrl::Cluster {
                nodes: vec![
                    "rediss://u:p@h1:7000".into(),
                    "rediss://u:p@[::1]:7001".into()
                ]
            }
        );
    }

    #[test]
    fn passwords_never_reach_errors_or_debug() {
        for url in [
            "redis://user:s3cret@cache:port",
            "redis://:s3cret@cache:6379/x",
            "redis+unix:///run/redis.sock?pass=s3cret&db=x",
            "redis+sentinel://:s3cret@h:26379",
            "redis+sentinel://:s3c/ret@h:26379",
            "redis+sentinel://u:s3cret@h:26379/m/x",
            "redis+cluster://u:s3cret@h1,h2",
            "redis+cluster://u:s3cret@h1:7000/0",
            "ftp://u:s3cret@h",
        ] {
            let err = RedisUrl::parse(url).expect_err(url);
            for text in [err.to_string(), format!("{err:?}")] {
                assert!(!text.contains("s3c"), "{text}");
            }
        }
        for url in [
            "redis://user:s3cret@cache:6379",
            "redis+unix:///run/redis.sock?pass=s3cret",
            "rediss+cluster://u:s3cret@h1:7000,h2:7001",
            "redis+sentinel://u:s3cret@h:26379/m",
        ] {
            let debug = format!("{:?}", RedisUrl::parse(url).unwrap());
            assert!(!debug.contains("s3cret"), "{debug}");
        }
    }

    #[test]
    fn malformed_urls_name_the_key() {
        for url in [
            "localhost:6379",
            "http://cache:6379",
            "redis://",
            "redis://cache:port",
            "redis+sentinel://h:26379",
            "redis+sentinel://h:26379/m/x",
            "redis+sentinel:///m",
            "redis+cluster://h1,h2",
            "redis+cluster://h1:7000/0",
        ] {
            let err = RedisUrl::parse(url).expect_err(url);
            assert!(err.to_string().contains("SESSION_REDIS"), "{err}");
        }
    }
}
