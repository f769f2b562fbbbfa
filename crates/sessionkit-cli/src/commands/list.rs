//! `list`: sessions by hint, with size and expiry.

use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;
use sessionkit::{Config, Id, ScanCursor};

use crate::ListArgs;
use crate::duration::show;
use crate::failure::Failure;
use crate::interrupt;
use crate::target::{PAGE, Target};

/// One listed session.
struct Row {
    id: Option<Id>,
    hint: String,
    size: u64,
    expires_at: Option<SystemTime>,
}

pub(crate) async fn run(config: Config, args: ListArgs) -> Result<ExitCode, Failure> {
    let target = Target::connect(config).await?;
    let lifetime = target.config.session().lifetime;
    let now = SystemTime::now();
    let limit = args.limit.unwrap_or(usize::MAX);
    // "Last written more than D ago": a write sets the expiry to then + the lifetime, so
    // the record's expiry is earlier than now + lifetime - D.
    let cutoff = args.older_than.map(|d| now + lifetime.saturating_sub(d));
    let keep = |row: &Row| match (cutoff, row.expires_at) {
        (None, _) => true,
        (Some(cutoff), Some(expires)) => expires < cutoff,
        (Some(_), None) => false,
    };
    let mut shown = 0;
    if let Some(user) = &args.user {
        if args.full_ids {
            return Err(Failure::new(
                "--full-ids is not available with --user: a user's sessions are named by hint",
            ));
        }
        for session in target.sessions()?.user_sessions(user).await? {
            let row = Row {
                id: None,
                hint: session.hint,
                size: session.size as u64,
                expires_at: Some(session.expires_at),
            };
            if shown < limit && keep(&row) {
                print(&row, args.json, now);
                shown += 1;
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut cursor: Option<ScanCursor> = None;
    'pages: loop {
        let page = target.page(cursor.as_ref(), PAGE).await?;
        for record in page.records {
            if shown >= limit || interrupt::requested() {
                break 'pages;
            }
            let row = Row {
                id: args.full_ids.then_some(record.id),
                hint: record.id.hint(),
                size: record.size,
                expires_at: record.expires_at,
            };
            if keep(&row) {
                print(&row, args.json, now);
                shown += 1;
            }
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    if interrupt::requested() {
        eprintln!("interrupted after listing {shown} sessions");
        return Ok(ExitCode::from(130));
    }
    Ok(ExitCode::SUCCESS)
}

fn print(row: &Row, json: bool, now: SystemTime) {
    let remaining = row
        .expires_at
        .map(|at| at.duration_since(now).unwrap_or(Duration::ZERO));
    if json {
        let mut line = json!({
            "hint": row.hint,
            "size": row.size,
            "expires_at": row.expires_at.map(unix_secs),
            "expires_in_secs": remaining.map(|d| d.as_secs()),
        });
        if let Some(id) = row.id {
            line["id"] = json!(id.to_string());
        }
        println!("{line}");
    } else {
        let expiry = remaining.map_or_else(
            || "never expires".to_owned(),
            |d| format!("expires in {}", show(d)),
        );
        match row.id {
            Some(id) => println!("{}  {id}  {:>8} B  {expiry}", row.hint, row.size),
            None => println!("{}  {:>8} B  {expiry}", row.hint, row.size),
        }
    }
}

/// Unix seconds of `time`.
pub(crate) fn unix_secs(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}
