//! `show`: one session's data, decoded, as JSON.

use std::process::ExitCode;

use base64::Engine as _;
use serde_json::json;
use sessionkit::Config;

use crate::IdArgs;
use crate::decode::to_json;
use crate::failure::Failure;
use crate::ids::resolve;
use crate::target::Target;

pub(crate) async fn run(config: Config, args: IdArgs) -> Result<ExitCode, Failure> {
    let target = Target::connect(config).await?;
    let id = resolve(&target, &args.id, args.cookie).await?;
    let record = target
        .store
        .load(&id)
        .await?
        .ok_or_else(|| Failure::new(format!("no live session {}", id.hint())))?;
    let payload = record.payload();
    let data = to_json(target.config.session().codec, payload).unwrap_or_else(|why| {
        eprintln!("warning: the payload does not decode ({why}); shown as bytes");
        json!({ "$bytes": base64::engine::general_purpose::STANDARD.encode(payload) })
    });
    let shown = json!({ "hint": id.hint(), "size": payload.len(), "data": data });
    println!(
        "{}",
        serde_json::to_string_pretty(&shown).unwrap_or_else(|_| shown.to_string())
    );
    Ok(ExitCode::SUCCESS)
}
