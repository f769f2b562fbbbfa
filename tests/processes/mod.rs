//! Processes the tests run beside the app under test (a Python app, a browser driver):
//! free ports, the Python of `.venv`, waiting until one answers (`mod processes;` in each).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A loopback port nobody listens on now.
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The Python of the environment `./scripts/test` creates in `.venv`.
fn venv_python() -> PathBuf {
    let python = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: ./scripts/test creates the Python environment (flask, flask-session \
         0.8.0, msgspec, redis, pymemcache) from tests/interop/requirements.txt",
        python.display()
    );
    python
}

/// A command running `script` (a path from the project root) with the environment's Python
/// on `port`, its output discarded.
pub(crate) fn python_app(script: &str, port: u16) -> Command {
    let mut command = Command::new(venv_python());
    command
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(script))
        .env("PORT", port.to_string())
        .stdout(Stdio::null());
    command
}

/// Polls `url` until the app answers (at most 10 s); fails the test otherwise.
pub(crate) async fn wait_until_answering(url: &str, child: &mut Child) {
    for _ in 0..200 {
        if reqwest::get(url).await.is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the Python app exited ({status}) before answering on {url}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the Python app did not answer on {url} within 10 s");
}
