//! The framework-neutral request lifecycle: from the incoming cookie to a lazily loaded
//! [`Session`], and after the handler, to one store call and the `Set-Cookie` to send.

mod finish;
mod outcome;
mod session;
mod sessions;

pub use outcome::{Action, Outcome};
pub use session::Session;
pub use sessions::Sessions;

/// The data key holding a session's permanence, as Flask writes it.
pub const PERMANENT_KEY: &str = "_permanent";
