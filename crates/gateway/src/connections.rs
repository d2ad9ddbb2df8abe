//! A cap on the connections the gateway holds open, below its open-file
//! limit. Every device's stream is a socket, and so is every database file
//! and connection: without a cap, a reconnect storm or a flood of
//! connections takes the last descriptors, and then SQLite cannot open its
//! files and every bank API call fails with "unable to open database file"
//! (seen at 19,600 device streams under a limit of 20,000). Over the cap a
//! new connection is closed at once, before TLS; the device retries with
//! its backoff, while the connections already held keep working.
//!
//! And a bound on the TLS handshakes made at once ([`Admission`]): after a
//! restart every device reconnects within a second, and with every
//! handshake running side by side each one took so long on a busy CPU
//! that the devices gave up and retried, doing the work again (18,376
//! devices took 181 s to come back, with 26,163 failed attempts). Taken a
//! few at a time, in order of arrival, each handshake finishes quickly.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// Descriptors kept back from the open-file limit for everything that is
/// not a client connection: the database (SQLite's files, or the
/// PostgreSQL pool), the data folder, logs and the admin listener.
pub const RESERVED_FDS: usize = 1_024;

/// The default cap for an open-file limit of `fd_limit`: all but
/// [`RESERVED_FDS`], and at least half of a small limit.
pub fn default_max(fd_limit: u64) -> usize {
    let limit = usize::try_from(fd_limit).unwrap_or(usize::MAX);
    limit.saturating_sub(RESERVED_FDS).max(limit / 2).max(1)
}

/// How many connections are open, and how many may be.
#[derive(Debug)]
pub struct ConnectionLimit {
    open: AtomicUsize,
    max: usize,
}

impl ConnectionLimit {
    /// A limit of `max` open connections.
    pub fn new(max: usize) -> Arc<ConnectionLimit> {
        Arc::new(ConnectionLimit {
            open: AtomicUsize::new(0),
            max: max.max(1),
        })
    }

    /// The cap.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// Counts `stream` in, or gives it back (to be closed) when the cap is
    /// reached.
    pub fn admit(self: &Arc<Self>, stream: TcpStream) -> Result<Counted, TcpStream> {
        let taken = self
            .open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| {
                (open < self.max).then_some(open + 1)
            });
        match taken {
            Ok(_) => Ok(Counted {
                inner: stream,
                limit: Arc::clone(self),
            }),
            Err(_) => Err(stream),
        }
    }
}

/// An admitted connection: counted until it is dropped, whether it ends as
/// a request, a WebSocket stream or a failed handshake.
#[derive(Debug)]
pub struct Counted {
    inner: TcpStream,
    limit: Arc<ConnectionLimit>,
}

impl Counted {
    /// The socket.
    pub fn get_ref(&self) -> &TcpStream {
        &self.inner
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.limit.open.fetch_sub(1, Ordering::AcqRel);
    }
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// TLS handshakes made at once: enough to keep the cores busy while
/// handshakes wait on their clients' round trips, few enough that each
/// finishes in milliseconds.
pub const HANDSHAKES_AT_ONCE: usize = 128;

/// How long an accepted connection may wait for its turn to handshake:
/// past this its device (which gives the whole connection 15 s) has most
/// likely given up, so the connection is closed rather than served late.
pub const HANDSHAKE_QUEUE_LIMIT: std::time::Duration = std::time::Duration::from_secs(12);

/// An acceptor (the PROXY header and TLS, `inner`) run for at most
/// [`HANDSHAKES_AT_ONCE`] connections at a time, the rest waiting in order
/// of arrival for at most [`HANDSHAKE_QUEUE_LIMIT`].
#[derive(Debug, Clone)]
pub struct Admission<A> {
    inner: A,
    turns: Arc<tokio::sync::Semaphore>,
}

impl<A> Admission<A> {
    /// Bounds `inner`'s handshakes.
    pub fn new(inner: A) -> Admission<A> {
        Admission {
            inner,
            turns: Arc::new(tokio::sync::Semaphore::new(HANDSHAKES_AT_ONCE)),
        }
    }
}

impl<I, S, A> axum_server::accept::Accept<I, S> for Admission<A>
where
    A: axum_server::accept::Accept<I, S>,
    A::Future: Send + 'static,
    A::Stream: Send + 'static,
    A::Service: Send + 'static,
{
    type Stream = A::Stream;
    type Service = A::Service;
    type Future = Pin<Box<dyn Future<Output = io::Result<(A::Stream, A::Service)>> + Send>>;

    fn accept(&self, stream: I, service: S) -> Self::Future {
        // Called now, so the connection is counted (or refused) at once;
        // its work (the PROXY header, TLS) runs only when polled below.
        let handshake = self.inner.accept(stream, service);
        let turns = Arc::clone(&self.turns);
        Box::pin(async move {
            let Ok(Ok(_turn)) =
                tokio::time::timeout(HANDSHAKE_QUEUE_LIMIT, turns.acquire_owned()).await
            else {
                crate::metrics::metrics().handshake_abandoned();
                return Err(io::ErrorKind::TimedOut.into());
            };
            handshake.await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn pair(listener: &tokio::net::TcpListener) -> (TcpStream, TcpStream) {
        let addr = listener.local_addr().unwrap();
        let (client, server) = tokio::join!(TcpStream::connect(addr), listener.accept());
        (client.unwrap(), server.unwrap().0)
    }

    #[tokio::test]
    async fn connections_over_the_cap_are_refused_until_one_closes() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let limit = ConnectionLimit::new(2);
        let mut held = Vec::new();
        for _ in 0..2 {
            let (client, server) = pair(&listener).await;
            held.push((client, limit.admit(server).expect("under the cap")));
        }
        assert_eq!(limit.open(), 2);
        let (_client, third) = pair(&listener).await;
        let third = limit.admit(third).expect_err("over the cap");
        drop(third);
        assert_eq!(limit.open(), 2, "a refused connection is not counted");
        held.pop();
        assert_eq!(limit.open(), 1, "a closed connection frees its place");
        let (_client, again) = pair(&listener).await;
        assert!(limit.admit(again).is_ok(), "its place is taken again");
    }

    /// An acceptor whose handshake takes 2 ms, counting how many run at once.
    #[derive(Clone, Default)]
    struct SlowHandshake {
        now: Arc<AtomicUsize>,
        most: Arc<AtomicUsize>,
    }

    impl axum_server::accept::Accept<(), ()> for SlowHandshake {
        type Stream = ();
        type Service = ();
        type Future = Pin<Box<dyn Future<Output = io::Result<((), ())>> + Send>>;

        fn accept(&self, (): (), (): ()) -> Self::Future {
            let (now, most) = (Arc::clone(&self.now), Arc::clone(&self.most));
            Box::pin(async move {
                let running = now.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(running, Ordering::SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                now.fetch_sub(1, Ordering::SeqCst);
                Ok(((), ()))
            })
        }
    }

    /// A reconnect storm: every connection arrives at once. The handshakes
    /// run a bounded number at a time, and every one of them is made.
    #[tokio::test]
    async fn a_storm_of_handshakes_runs_a_bounded_number_at_once() {
        use axum_server::accept::Accept;
        let inner = SlowHandshake::default();
        let admission = Admission::new(inner.clone());
        let storm: Vec<_> = (0..HANDSHAKES_AT_ONCE * 4)
            .map(|_| tokio::spawn(admission.accept((), ())))
            .collect();
        for handshake in storm {
            assert!(handshake.await.unwrap().is_ok(), "every handshake is made");
        }
        let most = inner.most.load(Ordering::SeqCst);
        assert!(
            most <= HANDSHAKES_AT_ONCE,
            "{most} handshakes at once, at most {HANDSHAKES_AT_ONCE}"
        );
        assert!(most > 1, "handshakes still run side by side ({most})");
    }

    #[test]
    fn the_default_keeps_descriptors_for_the_database() {
        assert_eq!(default_max(20_000), 20_000 - RESERVED_FDS);
        assert_eq!(default_max(1_024), 512);
        assert_eq!(default_max(0), 1);
    }
}
