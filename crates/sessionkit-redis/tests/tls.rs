//! `rediss://` over rustls against a TLS-only redis-server with a certificate from a
//! private CA that the test creates with openssl.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use sessionkit_core::{ErrorKind, Id};
use sessionkit_redis::{ConnectionKind, RedisStore};
use sessionkit_testkit::{TimeTravel, cases};

struct TlsServer {
    dir: PathBuf,
    port: u16,
    child: Child,
}

fn run(dir: &Path, args: &[&str]) {
    let status = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl is needed to make test certificates");
    assert!(status.success(), "openssl {args:?}");
}

impl TlsServer {
    fn start() -> Self {
        let dir = std::env::temp_dir().join(format!(
            "sessionkit-tls-{}",
            &Id::random().to_string()[..10]
        ));
        std::fs::create_dir_all(&dir).unwrap();
        run(
            &dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
                "-days",
                "2",
                "-subj",
                "/CN=sessionkit test CA",
            ],
        );
        run(
            &dir,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=127.0.0.1",
            ],
        );
        std::fs::write(dir.join("ext.cnf"), "subjectAltName=IP:127.0.0.1\n").unwrap();
        run(
            &dir,
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "server.crt",
                "-days",
                "2",
                "-extfile",
                "ext.cnf",
            ],
        );

        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .current_dir(&dir)
            .args([
                "--bind",
                "127.0.0.1",
                "--port",
                "0",
                "--tls-port",
                &port.to_string(),
            ])
            .args([
                "--tls-cert-file",
                "server.crt",
                "--tls-key-file",
                "server.key",
            ])
            .args(["--tls-ca-cert-file", "ca.crt", "--tls-auth-clients", "no"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is installed by ./scripts/services");
        let server = Self { dir, port, child };
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return server;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("the TLS redis-server did not start (is redis-server built with TLS?)");
    }

    fn url(&self) -> String {
        format!("rediss://127.0.0.1:{}", self.port)
    }

    fn ca(&self) -> Vec<u8> {
        std::fs::read(self.dir.join("ca.crt")).unwrap()
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
async fn rediss_with_a_private_ca_works_for_both_connection_kinds() {
    let server = TlsServer::start();
    for kind in [
        ConnectionKind::Multiplexed,
        ConnectionKind::Pool { max_size: 2 },
    ] {
        let store = RedisStore::builder(server.url())
            .tls_root_certificate(server.ca())
            .connection(kind)
            .build()
            .await
            .unwrap_or_else(|e| panic!("TLS connection failed ({kind:?}): {e:?}"));
        let time = TimeTravel::Real;
        cases::round_trip_nested_values(&store, &time).await;
        cases::save_with_stale_version_conflicts(&store, &time).await;
        cases::create_collision_is_reported(&store, &time).await;
        cases::create_for_binds_the_record(&store, &time).await;
        cases::save_for_failures_bind_nothing(&store, &time).await;
        cases::deleted_records_are_not_listed(&store, &time).await;
    }
}

#[tokio::test]
async fn untrusted_certificate_is_refused() {
    let server = TlsServer::start();
    let err = RedisStore::builder(server.url())
        .timeout(Duration::from_secs(2))
        .build()
        .await
        .expect_err("the system roots do not trust the test CA");
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Unavailable | ErrorKind::Backend | ErrorKind::Timeout
        ),
        "{err:?}"
    );
}
