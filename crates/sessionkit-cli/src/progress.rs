//! Progress of long operations: an indicatif spinner on a terminal, plain lines otherwise.

use std::io::IsTerminal as _;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// How many records between two plain progress lines.
const LINE_EVERY: u64 = 1000;

/// Shows how far an operation got, on standard error.
pub(crate) struct Progress {
    bar: Option<ProgressBar>,
    what: &'static str,
    last_line: u64,
}

impl Progress {
    /// Progress of `what` (`"copy"`, `"stats"`, ...).
    pub(crate) fn new(what: &'static str) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {prefix}: {msg} [{elapsed}]")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_prefix(what);
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Self {
            bar,
            what,
            last_line: 0,
        }
    }

    /// `done` records handled so far; `summary` says what became of them.
    pub(crate) fn update(&mut self, done: u64, summary: &str) {
        match &self.bar {
            Some(bar) => bar.set_message(summary.to_owned()),
            None if done / LINE_EVERY > self.last_line / LINE_EVERY => {
                eprintln!("{} progress: {summary}", self.what);
                self.last_line = done;
            }
            None => {}
        }
    }

    /// Clears the spinner.
    pub(crate) fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}
