//! The store the configuration names, connected, and what it can do for the tool.

use std::num::NonZeroUsize;

use sessionkit::{
    Config, DynSessionStore, ScanCursor, ScanPage, SessionScan, SessionType, Sessions,
};

use crate::failure::Failure;

/// A connected store and its configuration.
pub(crate) struct Target {
    pub(crate) config: Config,
    pub(crate) store: DynSessionStore,
}

impl Target {
    /// Connects the store `config` names.
    ///
    /// # Errors
    /// The library's connection errors.
    pub(crate) async fn connect(config: Config) -> Result<Self, Failure> {
        let store = sessionkit::connect(&config).await?;
        Ok(Self { config, store })
    }

    /// The store as a [`SessionScan`], or why this store has nothing to list from here.
    pub(crate) fn scan(&self) -> Result<&dyn SessionScan, Failure> {
        match self.config.session_type() {
            SessionType::Memory => Err(Failure::new(
                "SESSION_TYPE=memory keeps sessions inside the application's own process: \
                 another process, this tool included, has nothing to list. Point the tool at \
                 a shared store (redis, memcached, postgres, mysql, sqlite)",
            )),
            SessionType::Cookie => Err(Failure::new(
                "SESSION_TYPE=cookie keeps each session in its browser's cookie: there is no \
                 store to list",
            )),
            _ => self.store.session_scan().ok_or_else(|| {
                Failure::new(format!(
                    "the {} store cannot list its sessions",
                    self.store.backend()
                ))
            }),
        }
    }

    /// One page of the scan.
    pub(crate) async fn page(
        &self,
        from: Option<&ScanCursor>,
        size: NonZeroUsize,
    ) -> Result<ScanPage, Failure> {
        Ok(self.scan()?.scan(from, size).await?)
    }

    /// The request lifecycle's view of the store, for what it does for admin jobs (a
    /// user's sessions, revocation).
    pub(crate) fn sessions(&self) -> Result<Sessions, Failure> {
        Ok(Sessions::new(
            self.store.clone(),
            self.config.session().clone(),
        )?)
    }
}

/// The page size of listings.
pub(crate) const PAGE: NonZeroUsize = NonZeroUsize::new(500).unwrap();
