//! `sessionkit`: the admin command-line tool of sessionkit. It reads the same configuration
//! keys as the library (`SESSION_TYPE`, `SESSION_REDIS`, ...), from the environment and
//! `--env-file` files, and works on whichever store they name: check the configuration,
//! list, show, delete and revoke sessions, purge expired ones, count them, and copy them
//! from one store to another. The README's "Command-line tool" section is the manual.

mod commands;
mod confirm;
mod decode;
mod duration;
mod failure;
mod ids;
mod interrupt;
mod progress;
mod settings;
mod target;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::failure::Failure;

/// Manage the sessions of a sessionkit store.
///
/// The store is configured by the library's keys (SESSION_TYPE, SESSION_REDIS,
/// SESSION_SQL_URL, SESSION_KEY_PREFIX, ...), read from the environment and then from each
/// --env-file in turn (later files win).
#[derive(Debug, Parser)]
#[command(name = "sessionkit", version)]
struct Cli {
    /// A file of KEY=VALUE lines (blank lines and `#` comments skipped, `export ` and quotes
    /// allowed); keys other than sessionkit's are ignored. May be given several times.
    #[arg(long = "env-file", value_name = "FILE", global = true)]
    env_files: Vec<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check the configuration, connect, and make a round trip (create, load and delete a
    /// throwaway record).
    Check,
    /// List sessions: hint, size, expiry (one line each; JSON lines with --json).
    List(ListArgs),
    /// Show one session's data as JSON (bytes as {"$bytes": base64}, MessagePack
    /// extensions as {"$ext": [type, base64]}).
    Show(IdArgs),
    /// Delete one session.
    Delete(DeleteArgs),
    /// Revoke every session of a user (through the user index), as a logout does.
    Revoke(RevokeArgs),
    /// Delete expired records now (SQL stores; Redis and Memcached expire by themselves).
    PurgeExpired(YesArgs),
    /// Count sessions: total, sizes and expiries.
    Stats(StatsArgs),
    /// Copy live sessions from one store to another, never overwriting one the target has.
    Copy(CopyArgs),
}

#[derive(Debug, Args)]
struct ListArgs {
    /// Only this user's sessions (needs SESSION_USER_INDEX=true).
    #[arg(long)]
    user: Option<String>,
    /// Only sessions last written more than this long ago (`90s`, `15m`, `2h`, `7d`,
    /// `1h30m`): their remaining lifetime is shorter than PERMANENT_SESSION_LIFETIME minus
    /// this.
    #[arg(long, value_name = "DURATION", value_parser = duration::parse)]
    older_than: Option<Duration>,
    /// List at most this many.
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// One JSON object per line.
    #[arg(long)]
    json: bool,
    /// Also print each session's stored id (with SESSION_HASH_IDS, the hashed id, which is
    /// not a cookie). Without it, sessions are named by their hint only.
    #[arg(long)]
    full_ids: bool,
}

#[derive(Debug, Args)]
struct IdArgs {
    /// The session: its hint (8 characters, as `list` shows it), its stored id (43
    /// characters, as `list --full-ids` shows it), or with --cookie the id in its cookie.
    /// (Ids and hints may start with `-`.)
    #[arg(allow_hyphen_values = true)]
    id: String,
    /// ID is the session id from a cookie: with SESSION_HASH_IDS it is hashed into the
    /// stored id first.
    #[arg(long)]
    cookie: bool,
}

#[derive(Debug, Args)]
struct DeleteArgs {
    #[command(flatten)]
    id: IdArgs,
    #[command(flatten)]
    yes: YesArgs,
}

#[derive(Debug, Args)]
struct YesArgs {
    /// Do it without asking (required when not on a terminal).
    #[arg(long, short = 'y')]
    yes: bool,
}

#[derive(Debug, Args)]
struct RevokeArgs {
    /// The user whose sessions to revoke (the value of SESSION_USER_KEY in the session).
    #[arg(long)]
    user: String,
    /// Keep this session (its hint, as `list --user` shows it).
    #[arg(long, value_name = "HINT", allow_hyphen_values = true)]
    except: Option<String>,
    #[command(flatten)]
    yes: YesArgs,
}

#[derive(Debug, Args)]
struct StatsArgs {
    /// One JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct CopyArgs {
    /// The env file of the store to copy from (its keys only: the environment and
    /// --env-file are not used for either side).
    #[arg(long, value_name = "FILE")]
    from: PathBuf,
    /// The env file of the store to copy to.
    #[arg(long, value_name = "FILE")]
    to: PathBuf,
    /// Count what would be copied and skipped, writing nothing.
    #[arg(long)]
    dry_run: bool,
    /// Keep the scan's position in FILE after every page and start from it if it exists,
    /// so an interrupted copy goes on where it stopped (removed when the copy completes).
    #[arg(long, value_name = "FILE")]
    resume: Option<PathBuf>,
    /// Records to ask the source for per page.
    #[arg(long, default_value_t = 500, value_name = "N")]
    page_size: usize,
    #[command(flatten)]
    yes: YesArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return Failure::new(format!("cannot start the async runtime: {e}")).report(),
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(failure) => failure.report(),
    }
}

async fn run(cli: Cli) -> Result<ExitCode, Failure> {
    interrupt::listen();
    let settings = || settings::from_env_and_files(&cli.env_files);
    match cli.command {
        Command::Check => commands::check::run(settings()?).await,
        Command::List(args) => commands::list::run(settings()?, args).await,
        Command::Show(args) => commands::show::run(settings()?, args).await,
        Command::Delete(args) => commands::delete::run(settings()?, args).await,
        Command::Revoke(args) => commands::revoke::run(settings()?, args).await,
        Command::PurgeExpired(args) => commands::purge::run(settings()?, args).await,
        Command::Stats(args) => commands::stats::run(settings()?, args).await,
        Command::Copy(args) => commands::copy::run(args).await,
    }
}
