//! `revoke`: every session of a user, through the user index, as "log out everywhere".

use std::process::ExitCode;

use sessionkit::Config;

use crate::RevokeArgs;
use crate::confirm::confirm;
use crate::failure::Failure;
use crate::target::Target;

pub(crate) async fn run(config: Config, args: RevokeArgs) -> Result<ExitCode, Failure> {
    let target = Target::connect(config).await?;
    let sessions = target.sessions()?;
    let user = &args.user;
    let listed = sessions.user_sessions(user).await?;
    if let Some(keep) = &args.except
        && !listed.iter().any(|s| &s.hint == keep)
    {
        return Err(Failure::new(format!(
            "{user} has no session with the hint {keep} (see `list --user`): nothing revoked"
        )));
    }
    let doomed: Vec<&str> = listed
        .iter()
        .map(|s| s.hint.as_str())
        .filter(|hint| Some(*hint) != args.except.as_deref())
        .collect();
    if doomed.is_empty() {
        println!("{user} has no sessions to revoke");
        return Ok(ExitCode::SUCCESS);
    }
    confirm(
        &format!("revoke {} session(s) of {user}", doomed.len()),
        args.yes.yes,
    )?;
    let revoked = if args.except.is_none() {
        sessions.revoke_user(user).await?
    } else {
        let mut revoked = 0;
        for hint in doomed {
            if sessions.revoke_session(user, hint).await? {
                revoked += 1;
            }
        }
        revoked
    };
    println!("revoked {revoked} session(s) of {user}");
    Ok(ExitCode::SUCCESS)
}
