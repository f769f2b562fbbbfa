//! [`FaultProxy`]: a TCP proxy between a store and its server that breaks the network on
//! demand, for tests of timeouts and recovery.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What the proxy does to the traffic through it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Forwards every byte as it comes.
    None,
    /// Holds every byte, in both directions, without closing anything, as a stalled route
    /// does; on healing, what was held is delivered late (TCP retransmits it).
    Stall,
    /// Swallows every byte, in both directions, without closing anything: what was sent
    /// meanwhile never arrives, and the connections stay open.
    Blackhole,
    /// Delays every chunk by this long before forwarding it.
    Latency(Duration),
    /// Resets every open connection (and every new one) at once.
    Reset,
}

/// A loopback TCP proxy to `upstream` whose [`Fault`] a test switches at any time.
///
/// ```no_run
/// use sessionkit_testkit::{Fault, FaultProxy};
///
/// # async fn run() -> std::io::Result<()> {
/// let proxy = FaultProxy::start("127.0.0.1:6379".parse().unwrap()).await?;
/// let url = format!("redis://{}", proxy.addr());
/// // ... build a store on `url`, then:
/// proxy.set(Fault::Blackhole);
/// // calls time out ...
/// proxy.set(Fault::None);
/// // ... and are served again.
/// # Ok(()) }
/// ```
pub struct FaultProxy {
    addr: SocketAddr,
    fault: Arc<watch::Sender<Fault>>,
    accept: JoinHandle<()>,
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards to `upstream`.
    ///
    /// # Errors
    /// When no loopback port can be bound.
    pub async fn start(upstream: SocketAddr) -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let fault = Arc::new(watch::Sender::new(Fault::None));
        let shared = Arc::clone(&fault);
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let fault = shared.subscribe();
                tokio::spawn(async move {
                    if *fault.borrow() == Fault::Reset {
                        reset(client);
                        return;
                    }
                    if let Ok(server) = TcpStream::connect(upstream).await {
                        relay(client, server, fault).await;
                    }
                });
            }
        });
        Ok(Self {
            addr,
            fault,
            accept,
        })
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Switches the fault; it applies to open connections at once.
    pub fn set(&self, fault: Fault) {
        self.fault.send_replace(fault);
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.set(Fault::Reset);
    }
}

impl fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaultProxy")
            .field("addr", &self.addr)
            .field("fault", &*self.fault.borrow())
            .finish()
    }
}

/// Closes `stream` with a TCP reset.
// tokio deprecates SO_LINGER because a positive linger blocks the thread on drop; a zero
// linger does not block: the kernel sends RST and discards the socket at once.
#[allow(deprecated)]
fn reset(stream: TcpStream) {
    let _ = stream.set_linger(Some(Duration::ZERO));
    drop(stream);
}

/// Copies both ways until either side closes; resets both on [`Fault::Reset`].
async fn relay(mut client: TcpStream, mut server: TcpStream, fault: watch::Receiver<Fault>) {
    let (client_read, client_write) = client.split();
    let (server_read, server_write) = server.split();
    let (up, down) = tokio::join!(
        pump(client_read, server_write, fault.clone()),
        pump(server_read, client_write, fault)
    );
    if up == Ended::Reset || down == Ended::Reset {
        reset(client);
        reset(server);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    Closed,
    Reset,
}

/// Forwards `from` to `to` under the current fault.
async fn pump(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    mut fault: watch::Receiver<Fault>,
) -> Ended {
    let mut buffer = vec![0u8; 16 * 1024];
    let mut held: Vec<u8> = Vec::new();
    loop {
        let current = *fault.borrow_and_update();
        if current == Fault::Reset {
            return Ended::Reset;
        }
        if current != Fault::Stall && !held.is_empty() {
            if current == Fault::Blackhole {
                held.clear();
            } else if to.write_all(&held).await.is_err() {
                return Ended::Closed;
            }
            held.clear();
        }
        tokio::select! {
            changed = fault.changed() => {
                if changed.is_err() {
                    return Ended::Reset;
                }
            }
            read = from.read(&mut buffer) => {
                let n = match read {
                    Ok(0) | Err(_) => {
                        let _ = to.shutdown().await;
                        return Ended::Closed;
                    }
                    Ok(n) => n,
                };
                let current = *fault.borrow();
                let forwarded = match current {
                    Fault::None => to.write_all(&buffer[..n]).await,
                    Fault::Latency(delay) => {
                        tokio::time::sleep(delay).await;
                        to.write_all(&buffer[..n]).await
                    }
                    Fault::Stall => {
                        held.extend_from_slice(&buffer[..n]);
                        Ok(())
                    }
                    Fault::Blackhole => Ok(()),
                    Fault::Reset => return Ended::Reset,
                };
                if forwarded.is_err() {
                    return Ended::Closed;
                }
            }
        }
    }
}
