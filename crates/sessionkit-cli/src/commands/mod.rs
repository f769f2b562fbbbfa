//! One module per subcommand.

pub(crate) mod check;
pub(crate) mod copy;
pub(crate) mod delete;
pub(crate) mod list;
pub(crate) mod purge;
pub(crate) mod revoke;
pub(crate) mod show;
pub(crate) mod stats;
