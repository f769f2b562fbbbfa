//! `copy`: live sessions from one store to another, with their remaining lifetime, never
//! overwriting a record the target already has.

use std::fmt;
use std::num::NonZeroUsize;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use sessionkit::{Config, ErrorKind, ScanCursor, ScannedRecord, SessionType};

use crate::CopyArgs;
use crate::confirm::confirm;
use crate::failure::Failure;
use crate::interrupt;
use crate::progress::Progress;
use crate::settings;
use crate::target::Target;

/// What became of the records seen so far.
#[derive(Debug, Default)]
struct Report {
    copied: u64,
    skipped_existing: u64,
    expired_skipped: u64,
    failed: u64,
    dry_run: bool,
}

impl Report {
    fn seen(&self) -> u64 {
        self.copied + self.skipped_existing + self.expired_skipped + self.failed
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let copied = if self.dry_run { "to copy" } else { "copied" };
        write!(
            f,
            "{} scanned, {} {copied}, {} skipped-existing, {} expired-skipped, {} failed",
            self.seen(),
            self.copied,
            self.skipped_existing,
            self.expired_skipped,
            self.failed
        )
    }
}

/// What became of one record.
enum Outcome {
    Copied,
    Existing,
    Expired,
    Failed(String),
}

pub(crate) async fn run(args: CopyArgs) -> Result<ExitCode, Failure> {
    let side = |name: &'static str, path: &Path| {
        let shown = path.display().to_string();
        move |failure: Failure| Failure::new(format!("--{name} {shown}: {}", failure.message()))
    };
    let from = settings::from_file(&args.from).map_err(side("from", &args.from))?;
    let to = settings::from_file(&args.to).map_err(side("to", &args.to))?;
    if matches!(to.session_type(), SessionType::Memory | SessionType::Cookie) {
        return Err(Failure::new(format!(
            "--to {}: SESSION_TYPE={} keeps no sessions another process could copy into",
            args.to.display(),
            to.session_type().name()
        )));
    }
    let source = Target::connect(from)
        .await
        .map_err(side("from", &args.from))?;
    let target = Target::connect(to).await.map_err(side("to", &args.to))?;
    source.scan().map_err(side("from", &args.from))?;
    let page_size = NonZeroUsize::new(args.page_size)
        .ok_or_else(|| Failure::new("--page-size must be at least 1"))?;
    if !args.dry_run {
        confirm(
            &format!(
                "copy the live sessions of the {} store into the {} store",
                source.store.backend(),
                target.store.backend()
            ),
            args.yes.yes,
        )?;
    }

    let mut cursor = match &args.resume {
        Some(file) if file.exists() => {
            let text = std::fs::read_to_string(file)
                .map_err(|e| Failure::new(format!("cannot read {}: {e}", file.display())))?;
            eprintln!("resuming from the position kept in {}", file.display());
            Some(ScanCursor::new(text.trim_end_matches('\n')))
        }
        _ => None,
    };
    let mut report = Report {
        dry_run: args.dry_run,
        ..Report::default()
    };
    let mut first_failure: Option<String> = None;
    let mut progress = Progress::new("copy");
    let complete = 'pages: loop {
        let page = source.page(cursor.as_ref(), page_size).await?;
        for record in page.records {
            if interrupt::requested() {
                break 'pages false;
            }
            match copy_one(&source, &target, record, args.dry_run).await {
                Outcome::Copied => report.copied += 1,
                Outcome::Existing => report.skipped_existing += 1,
                Outcome::Expired => report.expired_skipped += 1,
                Outcome::Failed(why) => {
                    report.failed += 1;
                    first_failure.get_or_insert(why);
                }
            }
            progress.update(report.seen(), &report.to_string());
        }
        cursor = page.next;
        // The page is done: a resumed copy starts after it.
        if let Some(file) = &args.resume {
            keep_position(file, cursor.as_ref())?;
        }
        if cursor.is_none() {
            break true;
        }
    };
    progress.finish();
    if let Some(why) = &first_failure {
        eprintln!("first failure: {why}");
    }
    let verb = if args.dry_run { "dry run" } else { "copy" };
    if !complete {
        println!("{verb} interrupted: {report}");
        let hint = match &args.resume {
            Some(file) => format!("run it again with --resume {} to go on", file.display()),
            None => "run it again to go on (existing records are skipped)".to_owned(),
        };
        return Err(Failure::interrupted(format!("interrupted: {hint}")));
    }
    println!("{verb} complete: {report}");
    if report.failed > 0 {
        return Err(Failure::new(format!(
            "{} record(s) could not be copied; run it again to retry them",
            report.failed
        )));
    }
    Ok(ExitCode::SUCCESS)
}

/// Copies one scanned record: read from the source, created in the target with the expiry
/// it has in the source (a record without one gets the target's lifetime from now), and
/// bound to its user there when the target indexes users.
async fn copy_one(
    source: &Target,
    target: &Target,
    record: ScannedRecord,
    dry_run: bool,
) -> Outcome {
    let now = SystemTime::now();
    let expires_at = record
        .expires_at
        .unwrap_or_else(|| now + target.config.session().lifetime);
    // Less than a second left: it would expire on the way.
    if expires_at <= now + Duration::from_secs(1) {
        return Outcome::Expired;
    }
    let id = record.id;
    let loaded = match source.store.load(&id).await {
        Ok(Some(loaded)) => loaded,
        // Expired or deleted since the scan saw it.
        Ok(None) => return Outcome::Expired,
        Err(e) => {
            return Outcome::Failed(format!(
                "reading {}: {}",
                id.hint(),
                Failure::from(e).message()
            ));
        }
    };
    if dry_run {
        return match target.store.load(&id).await {
            Ok(Some(_)) => Outcome::Existing,
            Ok(None) => Outcome::Copied,
            Err(e) => Outcome::Failed(format!(
                "looking up {}: {}",
                id.hint(),
                Failure::from(e).message()
            )),
        };
    }
    let payload = loaded.payload();
    let created = match (
        user_of(&source.config, &target.config, payload),
        target.store.user_index(),
    ) {
        (Some(user), Some(index)) => {
            index
                .create_for(&id, payload, expires_at, Some(&user))
                .await
        }
        _ => target.store.create(&id, payload, expires_at).await,
    };
    match created {
        Ok(()) => Outcome::Copied,
        Err(e) if e.kind() == ErrorKind::Collision => Outcome::Existing,
        Err(e) => Outcome::Failed(format!(
            "writing {}: {}",
            id.hint(),
            Failure::from(e).message()
        )),
    }
}

/// The user a payload is bound to, when the target indexes users: the value of the
/// target's `SESSION_USER_KEY`, a string or an integer, as the request lifecycle reads it.
fn user_of(from: &Config, to: &Config, payload: &bytes::Bytes) -> Option<String> {
    let session = to.session();
    if !session.indexes_users() {
        return None;
    }
    let data = from.session().codec.decode(payload).ok()?;
    match data.get::<serde_json::Value>(&session.user_key).ok()?? {
        serde_json::Value::String(user) => Some(user),
        serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        _ => None,
    }
}

/// Writes the position to go on from into `file`, or removes it when the scan is done.
fn keep_position(file: &Path, cursor: Option<&ScanCursor>) -> Result<(), Failure> {
    let result = match cursor {
        Some(cursor) => std::fs::write(file, cursor.as_str()),
        None => match std::fs::remove_file(file) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            other => other,
        },
    };
    result.map_err(|e| {
        Failure::new(format!(
            "cannot keep the position in {}: {e}",
            file.display()
        ))
    })
}
