//! [`Failure`]: why a command stopped, as the user reads it, and its exit code.

use std::error::Error as _;
use std::process::ExitCode;

/// A command that could not do its job: a message for standard error and an exit code (1,
/// or 130 after Ctrl-C).
#[derive(Debug)]
pub(crate) struct Failure {
    message: String,
    code: u8,
}

impl Failure {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code: 1,
        }
    }

    /// With exit code 130: stopped by Ctrl-C.
    pub(crate) fn interrupted(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code: 130,
        }
    }

    pub(crate) fn message(&self) -> &str {
        &self.message
    }

    /// Prints the message and hands back the exit code.
    pub(crate) fn report(self) -> ExitCode {
        eprintln!("error: {}", self.message);
        ExitCode::from(self.code)
    }
}

/// The library's error and its causes, one after the other. The library's errors never
/// carry a password, a key or a whole session id (configuration values pass through its
/// redaction), so they are shown as they are.
impl From<sessionkit::Error> for Failure {
    fn from(error: sessionkit::Error) -> Self {
        let mut message = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        Self::new(message)
    }
}
