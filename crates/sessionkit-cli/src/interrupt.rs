//! Ctrl-C: the first asks long operations to stop after the record in hand (they then
//! report what they did); a second one ends the process at once.

use std::sync::atomic::{AtomicBool, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Starts listening for Ctrl-C (SIGINT).
pub(crate) fn listen() {
    tokio::spawn(async {
        while tokio::signal::ctrl_c().await.is_ok() {
            if INTERRUPTED.swap(true, Ordering::SeqCst) {
                eprintln!("interrupted again: stopping now");
                std::process::exit(130);
            }
            eprintln!("interrupted: finishing the current record (Ctrl-C again to stop at once)");
        }
    });
}

/// Whether Ctrl-C was pressed.
pub(crate) fn requested() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}
