//! Naming a session on the command line: its hint, its stored id, or its cookie's id.

use sessionkit::{Id, ScanCursor};

use crate::failure::Failure;
use crate::target::{PAGE, Target};

/// The stored id `text` names. A 43-character id is taken as stored (as `list --full-ids`
/// prints it), or with `cookie` as a cookie's id, hashed when `SESSION_HASH_IDS` is on. An
/// 8-character hint is looked up by a scan of the store and must name exactly one session.
///
/// # Errors
/// Text that is neither; a hint no session or several sessions have; store failures.
pub(crate) async fn resolve(target: &Target, text: &str, cookie: bool) -> Result<Id, Failure> {
    if let Some(id) = Id::parse(text) {
        return Ok(if cookie && target.config.session().hash_ids {
            id.hashed()
        } else {
            id
        });
    }
    if cookie {
        return Err(Failure::new(
            "--cookie takes the 43-character session id of a cookie",
        ));
    }
    if text.len() != 8 {
        return Err(Failure::new(format!(
            "`{text}` is neither a hint (8 characters, as `list` shows) nor a session id (43 characters)"
        )));
    }
    let mut found = Vec::new();
    let mut cursor: Option<ScanCursor> = None;
    loop {
        let page = target.page(cursor.as_ref(), PAGE).await?;
        for record in page.records {
            if record.id.hint() == text && !found.contains(&record.id) {
                found.push(record.id);
            }
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    match found.as_slice() {
        [id] => Ok(*id),
        [] => Err(Failure::new(format!("no live session has the hint {text}"))),
        _ => Err(Failure::new(format!(
            "{} sessions have the hint {text}: name one by its id (`list --full-ids`)",
            found.len()
        ))),
    }
}
