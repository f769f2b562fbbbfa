//! Confirmation of destructive commands: a prompt on a terminal, `--yes` otherwise.

use std::io::IsTerminal as _;

use crate::failure::Failure;

/// Goes ahead when `yes`, or when the user says so at a prompt on a terminal; fails with a
/// message saying what to do otherwise.
pub(crate) fn confirm(what: &str, yes: bool) -> Result<(), Failure> {
    if yes {
        return Ok(());
    }
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(Failure::new(format!(
            "refusing to {what} without confirmation: not on a terminal, so pass --yes"
        )));
    }
    let agreed = dialoguer::Confirm::new()
        .with_prompt(format!("{what}?"))
        .default(false)
        .interact()
        .map_err(|e| Failure::new(format!("no answer to the confirmation prompt: {e}")))?;
    if agreed {
        Ok(())
    } else {
        Err(Failure::new("not confirmed: nothing done"))
    }
}
