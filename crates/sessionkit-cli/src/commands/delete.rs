//! `delete`: one session, as a logout removes it.

use std::process::ExitCode;

use sessionkit::Config;

use crate::DeleteArgs;
use crate::confirm::confirm;
use crate::failure::Failure;
use crate::ids::resolve;
use crate::target::Target;

pub(crate) async fn run(config: Config, args: DeleteArgs) -> Result<ExitCode, Failure> {
    let target = Target::connect(config).await?;
    let id = resolve(&target, &args.id.id, args.id.cookie).await?;
    let hint = id.hint();
    if target.store.load(&id).await?.is_none() {
        return Err(Failure::new(format!(
            "no live session {hint}: nothing deleted"
        )));
    }
    confirm(&format!("delete session {hint}"), args.yes.yes)?;
    target.store.delete(&id).await?;
    println!("deleted session {hint}");
    Ok(ExitCode::SUCCESS)
}
