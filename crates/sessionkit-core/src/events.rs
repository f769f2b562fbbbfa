//! Lifecycle events for audit logs: a session created, rotated, destroyed, revoked or
//! expired, handed to the application's subscribers without ever making a request wait.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::SystemTime;

use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;

use crate::telemetry;

/// Something that happened to a session, as a subscriber receives it
/// ([`Sessions::subscribe`](crate::Sessions::subscribe)).
///
/// It names the session by its hint, the short one-way text that
/// [`UserSession::hint`](crate::UserSession::hint) shows and
/// [`Sessions::revoke_session`](crate::Sessions::revoke_session) takes, never by its id:
/// an audit log of these holds no usable cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionEvent {
    /// What happened.
    pub kind: SessionEventKind,
    /// The session's hint: for a rotation, that of the new id.
    pub hint: String,
    /// The user the session names under `SESSION_USER_KEY` (Flask-Login's `_user_id` by
    /// default), whether or not the user index is on: after a login or rotation, the user
    /// now; for a logout, revocation or expiry, the user the session had.
    pub user: Option<String>,
    /// When it happened, by the lifecycle's clock.
    pub at: SystemTime,
}

/// What happened to a session.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionEventKind {
    /// A new session was stored (its first write; the rest of the data after a logout
    /// that kept some, such as a flash message, is a new session too).
    Created,
    /// The session moved to a new id (`cycle_id`, typically at login).
    Rotated {
        /// The hint of the id it left.
        previous: String,
    },
    /// A logout: the request ended its own session (`clear`, `destroy`, the removal of
    /// an authentication key, or of its last key).
    Destroyed,
    /// The session was revoked through the user index: by
    /// [`revoke_user`](crate::Sessions::revoke_user) and its siblings,
    /// [`revoke_other_sessions`](crate::Session::revoke_other_sessions), or the cap of
    /// `SESSION_MAX_PER_USER` at a login.
    Revoked,
    /// The session was read past its absolute lifetime (`SESSION_ABSOLUTE_LIFETIME`) and
    /// deleted.
    Expired,
}

/// A subscription to lifecycle events: the receiving end of a bounded channel.
///
/// Events are sent without waiting: when the channel is full (the subscriber is slower
/// than the sessions it watches), the event is dropped and counted, by
/// [`dropped`](SessionEvents::dropped) and the `sessionkit.events.dropped` metric, and
/// the request goes on. [`recv`](SessionEvents::recv) returns `None` once every clone of
/// the [`Sessions`](crate::Sessions) is gone.
#[derive(Debug)]
pub struct SessionEvents {
    receiver: mpsc::Receiver<SessionEvent>,
    dropped: Arc<AtomicU64>,
}

impl SessionEvents {
    /// The next event, waiting for one.
    pub async fn recv(&mut self) -> Option<SessionEvent> {
        self.receiver.recv().await
    }

    /// The next event if one is waiting.
    pub fn try_recv(&mut self) -> Option<SessionEvent> {
        self.receiver.try_recv().ok()
    }

    /// The next event, blocking the thread until there is one: for a subscriber on a
    /// thread of its own, outside the async runtime.
    ///
    /// # Panics
    /// When called from within an asynchronous execution context (use
    /// [`recv`](SessionEvents::recv) there).
    pub fn blocking_recv(&mut self) -> Option<SessionEvent> {
        self.receiver.blocking_recv()
    }

    /// How many events this subscription missed because its channel was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// The subscribers of one [`Sessions`](crate::Sessions).
#[derive(Debug, Default)]
pub(crate) struct EventBus {
    /// Whether anybody subscribed: the lifecycle skips building events when not.
    active: AtomicBool,
    subscribers: RwLock<Vec<Subscriber>>,
}

#[derive(Debug)]
struct Subscriber {
    sender: mpsc::Sender<SessionEvent>,
    dropped: Arc<AtomicU64>,
}

impl EventBus {
    /// A new subscription with room for `capacity` events (at least 1).
    pub(crate) fn subscribe(&self, capacity: usize) -> SessionEvents {
        let (sender, receiver) = mpsc::channel(capacity.max(1));
        let dropped = Arc::new(AtomicU64::new(0));
        self.subscribers
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Subscriber {
                sender,
                dropped: Arc::clone(&dropped),
            });
        self.active.store(true, Ordering::Release);
        SessionEvents { receiver, dropped }
    }

    /// Whether any subscriber may want events.
    pub(crate) fn is_active(&self) -> bool {
        self.active.load(Ordering::Acquire)
    }

    /// Hands `event` to every subscriber without waiting: a full channel drops it (and
    /// counts), a closed one is forgotten.
    pub(crate) fn publish(&self, event: &SessionEvent) {
        let mut closed = false;
        for subscriber in self
            .subscribers
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            match subscriber.sender.try_send(event.clone()) {
                Ok(()) => {}
                Err(TrySendError::Full(_)) => {
                    subscriber.dropped.fetch_add(1, Ordering::Relaxed);
                    telemetry::count(&telemetry::keys::EVENTS_DROPPED);
                }
                Err(TrySendError::Closed(_)) => closed = true,
            }
        }
        if closed {
            let mut subscribers = self
                .subscribers
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            subscribers.retain(|s| !s.sender.is_closed());
            self.active
                .store(!subscribers.is_empty(), Ordering::Release);
        }
    }
}
