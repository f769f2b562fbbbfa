//! Table names, checked before they are ever put into SQL.

use std::fmt;

use sessionkit_core::ConfigKey;
use sessionkit_core::Error;

/// The longest table name: PostgreSQL allows 63 bytes, and the index name adds 15.
pub const MAX_TABLE_NAME_LEN: usize = 48;

/// A table name that is safe to write into SQL unquoted: 1 to 48 ASCII letters, digits or
/// `_`, not starting with a digit.
///
/// ```
/// use sessionkit_sql::TableName;
///
/// assert!(TableName::new("sessions").is_ok());
/// assert!(TableName::new("sessions; DROP TABLE users").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TableName(String);

impl TableName {
    /// Checks `name`.
    ///
    /// # Errors
    /// [`Error::Config`] naming `SESSION_SQL_TABLE` when `name` is not a plain identifier.
    pub fn new(name: impl Into<String>) -> Result<Self, Error> {
        let name = name.into();
        let valid = !name.is_empty()
            && name.len() <= MAX_TABLE_NAME_LEN
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && !name.as_bytes()[0].is_ascii_digit();
        if valid {
            Ok(Self(name))
        } else {
            Err(Error::config(
                ConfigKey::SqlTable,
                name,
                "a table name must be 1 to 48 ASCII letters, digits or `_`, not starting with a digit",
            ))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_only() {
        for good in ["sessions", "app_sessions_2", "_s", &"a".repeat(48)] {
            assert!(TableName::new(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "2fast",
            "a-b",
            "a b",
            "x;DROP TABLE y",
            "sé",
            "\"quoted\"",
            &"a".repeat(49),
        ] {
            let err = TableName::new(bad).unwrap_err();
            assert!(err.to_string().contains("SESSION_SQL_TABLE"), "{bad}");
        }
    }
}
