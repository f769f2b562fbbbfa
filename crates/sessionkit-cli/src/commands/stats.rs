//! `stats`: how many sessions, how large, expiring when.

use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use serde_json::json;
use sessionkit::{Config, ScanCursor};

use crate::StatsArgs;
use crate::failure::Failure;
use crate::interrupt;
use crate::progress::Progress;
use crate::target::{PAGE, Target};

/// Upper bounds of the size buckets, in bytes.
const SIZES: [(u64, &str); 5] = [
    (256, "< 256 B"),
    (1024, "< 1 KiB"),
    (4096, "< 4 KiB"),
    (16_384, "< 16 KiB"),
    (65_536, "< 64 KiB"),
];
const LARGER: &str = ">= 64 KiB";

/// Upper bounds of the expiry buckets.
const EXPIRIES: [(u64, &str); 4] = [
    (3600, "within 1 hour"),
    (86_400, "within 1 day"),
    (7 * 86_400, "within 7 days"),
    (30 * 86_400, "within 30 days"),
];
const LATER: &str = "later";
const NEVER: &str = "never";

pub(crate) async fn run(config: Config, args: StatsArgs) -> Result<ExitCode, Failure> {
    let target = Target::connect(config).await?;
    let now = SystemTime::now();
    let mut count = 0u64;
    let mut bytes = 0u64;
    let mut largest = 0u64;
    let mut sizes = [0u64; SIZES.len() + 1];
    let mut expiries = [0u64; EXPIRIES.len() + 2];
    let mut progress = Progress::new("stats");
    let mut cursor: Option<ScanCursor> = None;
    let complete = loop {
        if interrupt::requested() {
            break false;
        }
        let page = target.page(cursor.as_ref(), PAGE).await?;
        for record in page.records {
            count += 1;
            bytes += record.size;
            largest = largest.max(record.size);
            let size = SIZES.iter().position(|(bound, _)| record.size < *bound);
            sizes[size.unwrap_or(SIZES.len())] += 1;
            let expiry = match record.expires_at {
                None => EXPIRIES.len() + 1,
                Some(at) => {
                    let left = at.duration_since(now).unwrap_or(Duration::ZERO).as_secs();
                    EXPIRIES
                        .iter()
                        .position(|(bound, _)| left < *bound)
                        .unwrap_or(EXPIRIES.len())
                }
            };
            expiries[expiry] += 1;
        }
        progress.update(count, &format!("{count} sessions"));
        match page.next {
            Some(next) => cursor = Some(next),
            None => break true,
        }
    };
    progress.finish();
    let size_names = SIZES.iter().map(|(_, name)| *name).chain([LARGER]);
    let expiry_names = EXPIRIES.iter().map(|(_, name)| *name).chain([LATER, NEVER]);
    if args.json {
        let sizes: serde_json::Map<_, _> = size_names
            .zip(sizes)
            .map(|(name, n)| (name.to_owned(), json!(n)))
            .collect();
        let expiries: serde_json::Map<_, _> = expiry_names
            .zip(expiries)
            .map(|(name, n)| (name.to_owned(), json!(n)))
            .collect();
        println!(
            "{}",
            json!({
                "backend": target.store.backend(),
                "complete": complete,
                "count": count,
                "bytes": bytes,
                "largest": largest,
                "sizes": sizes,
                "expiries": expiries,
            })
        );
    } else {
        println!("backend: {}", target.store.backend());
        println!("sessions: {count}");
        println!("bytes: {bytes} (largest {largest})");
        println!("sizes:");
        for (name, n) in size_names.zip(sizes) {
            println!("  {name:<16} {n}");
        }
        println!("expiries:");
        for (name, n) in expiry_names.zip(expiries) {
            println!("  {name:<16} {n}");
        }
    }
    if !complete {
        return Err(Failure::interrupted(format!(
            "interrupted: the figures cover the first {count} sessions only"
        )));
    }
    Ok(ExitCode::SUCCESS)
}
