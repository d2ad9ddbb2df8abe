//! TLS for the gateway's listener over rustls's unbuffered API, holding no
//! buffer while a connection is idle.
//!
//! Why not `tokio-rustls`: its connection keeps a 4 KiB receive buffer for
//! the life of every connection (rustls's `DeframerVecBuffer` never shrinks
//! below one read), about 40 % of what one idle device stream cost the
//! gateway (measured with massif at 1,500 streams; `docs/benchmarks.md`).
//! Devices hold their stream open for hours and send a few bytes a minute,
//! so here every buffer is allocated when bytes arrive or leave and freed as
//! soon as they are consumed or sent: received bytes are read into a buffer
//! on the stack, and only a record that arrived in part is kept.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use rustls::ServerConfig;
use rustls::server::UnbufferedServerConnection;
use rustls::unbuffered::{
    ConnectionState, EncodeError, EncryptError, InsufficientSizeError, UnbufferedStatus,
};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// How long a client has to finish its handshake (as `axum-server`'s
/// acceptor allowed).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Bytes read from the socket at once, on the stack: a full TLS record
/// (16 KiB of plaintext and its overhead) fits.
const READ_AT_ONCE: usize = 16 * 1024 + 512;

/// Plaintext taken per write: bounds what one write holds in memory.
const WRITE_AT_ONCE: usize = 64 * 1024;

/// A server-side TLS stream over `IO` (after its handshake).
pub struct TlsStream<IO> {
    io: IO,
    conn: UnbufferedServerConnection,
    /// Received bytes not yet processed: a record that arrived in part.
    incoming: Vec<u8>,
    /// Decrypted bytes not yet read, from `plaintext_at` on.
    plaintext: Vec<u8>,
    plaintext_at: usize,
    /// Encrypted bytes not yet sent, from `sent` on.
    outgoing: Vec<u8>,
    sent: usize,
    /// The peer sent `close_notify`: reads see the end of the stream.
    peer_closed: bool,
    /// The socket reached its end without `close_notify`.
    truncated: bool,
    /// Shutting down: our `close_notify` goes once the connection may send.
    close_wanted: bool,
    /// Our `close_notify` is queued.
    close_queued: bool,
    /// The TLS error that ended the connection, returned from then on.
    failed: Option<(io::ErrorKind, String)>,
}

impl<IO> std::fmt::Debug for TlsStream<IO> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsStream")
            .field("incoming", &self.incoming.len())
            .field("plaintext", &(self.plaintext.len() - self.plaintext_at))
            .field("outgoing", &(self.outgoing.len() - self.sent))
            .field("peer_closed", &self.peer_closed)
            .finish_non_exhaustive()
    }
}

/// Where processing the received records stopped.
#[derive(Debug, PartialEq, Eq)]
enum Rest {
    /// More bytes from the peer are needed (or the connection is idle).
    NeedData,
    /// Both sides sent `close_notify`.
    Closed,
}

fn tls_error(e: rustls::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

fn encrypt_error(e: EncryptError) -> io::Error {
    io::Error::other(e.to_string())
}

/// The room an encoding asked for, if that is why it failed.
fn encode_room(e: &EncodeError) -> Option<usize> {
    match e {
        EncodeError::InsufficientSize(InsufficientSizeError { required_size }) => {
            Some(*required_size)
        }
        _ => None,
    }
}

/// The room an encryption asked for, if that is why it failed.
fn encrypt_room(e: &EncryptError) -> Option<usize> {
    match e {
        EncryptError::InsufficientSize(InsufficientSizeError { required_size }) => {
            Some(*required_size)
        }
        _ => None,
    }
}

/// Drops the first `n` bytes of `buf`, releasing its memory once empty.
fn consume_front(buf: &mut Vec<u8>, n: usize) {
    if n >= buf.len() {
        *buf = Vec::new();
    } else if n > 0 {
        buf.drain(..n);
    }
}

/// Appends what `write` puts into a slice of the size it asks for.
fn append_sized<E>(
    out: &mut Vec<u8>,
    guess: usize,
    mut write: impl FnMut(&mut [u8]) -> Result<usize, E>,
    required: impl Fn(&E) -> Option<usize>,
) -> Result<(), E> {
    let start = out.len();
    let mut room = guess;
    loop {
        out.resize(start + room, 0);
        match write(&mut out[start..]) {
            Ok(n) => {
                out.truncate(start + n);
                return Ok(());
            }
            Err(e) => match required(&e) {
                Some(size) if size > room => room = size,
                _ => {
                    out.truncate(start);
                    return Err(e);
                }
            },
        }
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> TlsStream<IO> {
    fn new(io: IO, conn: UnbufferedServerConnection) -> Self {
        TlsStream {
            io,
            conn,
            incoming: Vec::new(),
            plaintext: Vec::new(),
            plaintext_at: 0,
            outgoing: Vec::new(),
            sent: 0,
            peer_closed: false,
            truncated: false,
            close_wanted: false,
            close_queued: false,
            failed: None,
        }
    }

    /// The stream under TLS.
    pub fn get_ref(&self) -> &IO {
        &self.io
    }

    /// Bytes of buffer the stream holds now (none while it is idle).
    pub fn buffered_capacity(&self) -> usize {
        self.incoming.capacity() + self.plaintext.capacity() + self.outgoing.capacity()
    }

    /// Processes every complete record received, encrypting `to_write`
    /// (and our `close_notify` once wanted) when the connection may send.
    /// Returns where it stopped and how much of `to_write` it took.
    fn process(&mut self, mut to_write: Option<&[u8]>) -> io::Result<(Rest, usize)> {
        // A connection that failed stays failed: rustls would process the
        // record that failed again (and send its alert twice).
        if let Some((kind, why)) = &self.failed {
            return Err(io::Error::new(*kind, why.clone()));
        }
        let mut taken = 0;
        // Bytes of `incoming` processed; removed once, at the end, rather
        // than after each record.
        let mut at = 0;
        let outcome = loop {
            let UnbufferedStatus { mut discard, state } =
                self.conn.process_tls_records(&mut self.incoming[at..]);
            let step: io::Result<Option<Rest>> = match state {
                Err(e) => Err(tls_error(e)),
                Ok(ConnectionState::ReadTraffic(mut traffic)) => {
                    let mut read = Ok(None);
                    while let Some(record) = traffic.next_record() {
                        match record {
                            Ok(record) => {
                                discard += record.discard;
                                self.plaintext.extend_from_slice(record.payload);
                            }
                            Err(e) => {
                                read = Err(tls_error(e));
                                break;
                            }
                        }
                    }
                    read
                }
                Ok(ConnectionState::EncodeTlsData(mut encode)) => append_sized(
                    &mut self.outgoing,
                    1024,
                    |out| encode.encode(out),
                    encode_room,
                )
                .map(|()| None)
                .map_err(|e| io::Error::other(e.to_string())),
                // What was encoded is in `outgoing`, sent before anything
                // encoded later.
                Ok(ConnectionState::TransmitTlsData(transmit)) => {
                    transmit.done();
                    Ok(None)
                }
                Ok(ConnectionState::WriteTraffic(mut traffic)) => {
                    if let Some(data) = to_write.take() {
                        let data = &data[..data.len().min(WRITE_AT_ONCE)];
                        // Each record adds a header, a type byte and a tag.
                        let guess = data.len() + (data.len() / 16_384 + 1) * 64;
                        taken = data.len();
                        append_sized(
                            &mut self.outgoing,
                            guess,
                            |out| traffic.encrypt(data, out),
                            encrypt_room,
                        )
                        .map(|()| None)
                        .map_err(encrypt_error)
                    } else if self.close_wanted && !self.close_queued {
                        self.close_queued = true;
                        append_sized(
                            &mut self.outgoing,
                            64,
                            |out| traffic.queue_close_notify(out),
                            encrypt_room,
                        )
                        .map(|()| None)
                        .map_err(encrypt_error)
                    } else {
                        Ok(Some(Rest::NeedData))
                    }
                }
                Ok(ConnectionState::BlockedHandshake) => Ok(Some(Rest::NeedData)),
                Ok(ConnectionState::PeerClosed) => {
                    self.peer_closed = true;
                    Ok(None)
                }
                Ok(ConnectionState::Closed) => {
                    self.peer_closed = true;
                    Ok(Some(Rest::Closed))
                }
                // Early data is not accepted (rustls's default), so no
                // other state can come.
                Ok(_) => Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "unexpected TLS state",
                )),
            };
            at += discard;
            match step {
                Ok(None) => {}
                Ok(Some(rest)) => break Ok(rest),
                Err(e) => break Err(e),
            }
        };
        consume_front(&mut self.incoming, at);
        match outcome {
            Ok(rest) => Ok((rest, taken)),
            Err(e) => {
                self.encode_alert();
                self.failed = Some((e.kind(), e.to_string()));
                Err(e)
            }
        }
    }

    /// Encodes the alert rustls queued on failing, if it did, so that the
    /// peer learns why (a client offering no protocol we accept, say)
    /// before the connection closes. One call only: rustls pops the alert
    /// before it looks at the input again, and input left from the record
    /// that failed must not be processed again.
    fn encode_alert(&mut self) {
        let UnbufferedStatus { state, .. } = self.conn.process_tls_records(&mut self.incoming);
        if let Ok(ConnectionState::EncodeTlsData(mut encode)) = state {
            let _ = append_sized(
                &mut self.outgoing,
                64,
                |out| encode.encode(out),
                encode_room,
            );
        }
    }

    /// Sends what is encrypted and unsent; ready once all of it is.
    fn poll_send(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.sent < self.outgoing.len() {
            match ready!(Pin::new(&mut self.io).poll_write(cx, &self.outgoing[self.sent..])) {
                Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Ok(n) => self.sent += n,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
        self.outgoing = Vec::new();
        self.sent = 0;
        Poll::Ready(Ok(()))
    }

    /// Reads what the socket has into `incoming`: `Ok(false)` at its end.
    fn poll_receive(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<bool>> {
        let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); READ_AT_ONCE];
        let mut read = ReadBuf::uninit(&mut buf);
        ready!(Pin::new(&mut self.io).poll_read(cx, &mut read))?;
        if read.filled().is_empty() {
            return Poll::Ready(Ok(false));
        }
        self.incoming.extend_from_slice(read.filled());
        Poll::Ready(Ok(true))
    }

    /// Drives the handshake to its end.
    async fn handshake(&mut self) -> io::Result<()> {
        loop {
            let (rest, _) = match self.process(None) {
                Ok(processed) => processed,
                Err(e) => {
                    // The alert, if the client still listens.
                    let send = std::future::poll_fn(|cx| self.poll_send(cx));
                    let _ = tokio::time::timeout(Duration::from_secs(1), send).await;
                    return Err(e);
                }
            };
            std::future::poll_fn(|cx| self.poll_send(cx)).await?;
            if !self.conn.is_handshaking() {
                return Ok(());
            }
            if rest == Rest::Closed || !std::future::poll_fn(|cx| self.poll_receive(cx)).await? {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the client left during the TLS handshake",
                ));
            }
        }
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncRead for TlsStream<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.plaintext_at < this.plaintext.len() {
                let available = &this.plaintext[this.plaintext_at..];
                let n = available.len().min(buf.remaining());
                buf.put_slice(&available[..n]);
                this.plaintext_at += n;
                if this.plaintext_at == this.plaintext.len() {
                    this.plaintext = Vec::new();
                    this.plaintext_at = 0;
                }
                return Poll::Ready(Ok(()));
            }
            if this.peer_closed {
                return Poll::Ready(Ok(()));
            }
            if this.truncated {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "peer closed connection without sending TLS close_notify",
                )));
            }
            let processed = this.process(None);
            // Replies the records called for (a key update, an alert) go
            // now if the socket takes them, else with the next write or
            // flush; not with this reader's waker, which would take the
            // socket's write wake-up from a writer waiting elsewhere.
            let mut quiet = Context::from_waker(std::task::Waker::noop());
            if let Poll::Ready(Err(e)) = this.poll_send(&mut quiet) {
                return Poll::Ready(Err(e));
            }
            processed?;
            if this.plaintext_at < this.plaintext.len() || this.peer_closed {
                continue;
            }
            if !ready!(this.poll_receive(cx))? {
                this.truncated = true;
            }
        }
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncWrite for TlsStream<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        // What an earlier write encrypted goes first: at most one write's
        // worth waits in memory.
        ready!(this.poll_send(cx))?;
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if this.close_wanted {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the TLS stream was shut down",
            )));
        }
        let (_, taken) = this.process(Some(buf))?;
        if taken == 0 {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "the TLS connection cannot send",
            )));
        }
        // Accepted: sent now if the socket takes it, else by the next write
        // or flush.
        if let Poll::Ready(Err(e)) = this.poll_send(cx) {
            return Poll::Ready(Err(e));
        }
        Poll::Ready(Ok(taken))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_send(cx))?;
        Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.close_wanted = true;
        this.process(None)?;
        ready!(this.poll_send(cx))?;
        Pin::new(&mut this.io).poll_shutdown(cx)
    }
}

/// Feeds `input` to a fresh server connection with `config`, `piece` bytes
/// at a time as reads from the socket would bring them, and returns how
/// many plaintext bytes it decrypted, or the error that ended it: the entry
/// of the `tls_server` fuzz target ([`crate::fuzzing::tls_server`]). Every
/// input must end in data, an error or a wait for more bytes, never a
/// panic.
///
/// # Errors
/// The kind of the error that ended the connection.
pub fn feed_client_bytes(
    config: Arc<ServerConfig>,
    input: &[u8],
    piece: usize,
) -> Result<usize, io::ErrorKind> {
    let conn = UnbufferedServerConnection::new(config).map_err(|e| tls_error(e).kind())?;
    let mut tls = TlsStream::new(tokio::io::empty(), conn);
    let mut decrypted = 0;
    for chunk in input.chunks(piece.max(1)) {
        tls.incoming.extend_from_slice(chunk);
        let processed = tls.process(None);
        decrypted += tls.plaintext.len() - tls.plaintext_at;
        tls.plaintext = Vec::new();
        tls.plaintext_at = 0;
        // What the server would send is not looked at.
        tls.outgoing = Vec::new();
        tls.sent = 0;
        match processed {
            Ok((Rest::Closed, _)) => break,
            Ok(_) => {}
            Err(e) => return Err(e.kind()),
        }
    }
    Ok(decrypted)
}

/// An `axum-server` acceptor: the `inner` acceptor's stream (PROXY header
/// read, counted), then the TLS handshake, within [`HANDSHAKE_TIMEOUT`].
#[derive(Debug, Clone)]
pub struct TlsAcceptor<A> {
    inner: A,
    config: Arc<ServerConfig>,
}

impl<A> TlsAcceptor<A> {
    /// Serves TLS with `config` over what `inner` accepts.
    pub fn new(inner: A, config: Arc<ServerConfig>) -> TlsAcceptor<A> {
        TlsAcceptor { inner, config }
    }
}

impl<I, S, A> axum_server::accept::Accept<I, S> for TlsAcceptor<A>
where
    A: axum_server::accept::Accept<I, S>,
    A::Future: Send + 'static,
    A::Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    A::Service: Send + 'static,
{
    type Stream = TlsStream<A::Stream>;
    type Service = A::Service;
    type Future = Pin<Box<dyn Future<Output = io::Result<(Self::Stream, Self::Service)>> + Send>>;

    fn accept(&self, stream: I, service: S) -> Self::Future {
        let inner = self.inner.accept(stream, service);
        let config = Arc::clone(&self.config);
        Box::pin(async move {
            let (io, service) = inner.await?;
            let conn = UnbufferedServerConnection::new(config).map_err(tls_error)?;
            let mut tls = TlsStream::new(io, conn);
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, tls.handshake()).await {
                Ok(Ok(())) => Ok((tls, service)),
                Ok(Err(e)) => Err(e),
                Err(_) => Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the TLS handshake took too long",
                )),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    type Client = tokio_rustls::client::TlsStream<TcpStream>;

    /// A server stream after its handshake and the client talking to it,
    /// over loopback TCP, with the demo certificates.
    async fn pair() -> (TlsStream<TcpStream>, Client, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let (ca, cert, key) = crate::tls::ensure_demo_certificates(dir.path()).unwrap();
        let server_config = crate::tls::server_config(&cert, &key).unwrap();
        let mut client_config = crate::tls::client_config(Some(&ca), false).unwrap();
        client_config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = async {
            let (tcp, _) = listener.accept().await.unwrap();
            let conn = UnbufferedServerConnection::new(server_config).unwrap();
            let mut tls = TlsStream::new(tcp, conn);
            tls.handshake().await.unwrap();
            tls
        };
        let client = async {
            let tcp = TcpStream::connect(addr).await.unwrap();
            tokio_rustls::TlsConnector::from(Arc::new(client_config))
                .connect("localhost".try_into().unwrap(), tcp)
                .await
                .unwrap()
        };
        let (server, client) = tokio::join!(server, client);
        (server, client, dir)
    }

    /// Whether a read is still waiting after the peer has been quiet.
    async fn read_waits(server: &mut TlsStream<TcpStream>) -> bool {
        let mut byte = [0u8; 1];
        tokio::time::timeout(Duration::from_millis(50), server.read(&mut byte))
            .await
            .is_err()
    }

    #[tokio::test]
    async fn data_crosses_both_ways_in_records_of_every_size() {
        let (mut server, mut client, _dir) = pair().await;
        assert_eq!(server.conn.alpn_protocol(), Some(&b"http/1.1"[..]));
        // 1 MiB crosses many records and reads.
        let big: Vec<u8> = (0..1_048_576u32).map(|i| (i % 251) as u8).collect();
        let sent = big.clone();
        let writer = tokio::spawn(async move {
            client.write_all(&sent).await.unwrap();
            client.flush().await.unwrap();
            client
        });
        let mut got = vec![0u8; big.len()];
        server.read_exact(&mut got).await.unwrap();
        assert!(got == big, "the client's bytes arrive unchanged");
        let mut client = writer.await.unwrap();
        server.write_all(&big).await.unwrap();
        server.flush().await.unwrap();
        let mut back = vec![0u8; big.len()];
        client.read_exact(&mut back).await.unwrap();
        assert!(back == big, "the server's bytes arrive unchanged");
        // One byte at a time, as an acknowledgement frame would come.
        for b in b"ack" {
            client.write_all(&[*b]).await.unwrap();
            client.flush().await.unwrap();
            let mut one = [0u8; 1];
            server.read_exact(&mut one).await.unwrap();
            assert_eq!(one[0], *b);
        }
    }

    /// The reason this stream exists: an idle connection holds no buffer
    /// (`tokio-rustls` holds 4 KiB for each).
    #[tokio::test]
    async fn an_idle_connection_holds_no_buffer() {
        let (mut server, mut client, _dir) = pair().await;
        client.write_all(b"resume").await.unwrap();
        client.flush().await.unwrap();
        let mut got = [0u8; 6];
        server.read_exact(&mut got).await.unwrap();
        server.write_all(&[7u8; 3000]).await.unwrap();
        server.flush().await.unwrap();
        let mut back = [0u8; 3000];
        client.read_exact(&mut back).await.unwrap();
        assert!(read_waits(&mut server).await, "nothing more was sent");
        assert_eq!(
            server.buffered_capacity(),
            0,
            "idle, after traffic both ways"
        );
    }

    #[tokio::test]
    async fn a_record_split_across_reads_is_kept_until_it_is_whole() {
        let (mut server, client, _dir) = pair().await;
        // The client's record is encrypted by its session and sent by hand,
        // one half at a time.
        let (mut tcp, mut session) = client.into_inner();
        use std::io::Write as _;
        session.writer().write_all(b"half and half").unwrap();
        let mut record = Vec::new();
        while session.wants_write() {
            session.write_tls(&mut record).unwrap();
        }
        let (first, second) = record.split_at(record.len() / 2);
        tcp.write_all(first).await.unwrap();
        assert!(read_waits(&mut server).await, "half a record is not data");
        assert!(server.buffered_capacity() > 0, "the half is kept");
        tcp.write_all(second).await.unwrap();
        let mut got = [0u8; 13];
        server.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"half and half");
        assert!(read_waits(&mut server).await);
        assert_eq!(server.buffered_capacity(), 0);
    }

    #[tokio::test]
    async fn close_notify_ends_the_stream_and_a_cut_connection_is_an_error() {
        let (mut server, mut client, _dir) = pair().await;
        client.shutdown().await.unwrap();
        let mut rest = Vec::new();
        assert_eq!(server.read_to_end(&mut rest).await.unwrap(), 0);
        server.shutdown().await.unwrap();
        let mut end = Vec::new();
        assert_eq!(
            client.read_to_end(&mut end).await.unwrap(),
            0,
            "ours arrives too"
        );

        // A connection cut without close_notify could hide a truncation.
        let (mut server, client, _dir) = pair().await;
        let (mut tcp, _session) = client.into_inner();
        tcp.shutdown().await.unwrap();
        let err = server.read(&mut [0u8; 8]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[tokio::test]
    async fn a_key_update_from_the_client_is_followed() {
        let (mut server, mut client, _dir) = pair().await;
        client.get_mut().1.refresh_traffic_keys().unwrap();
        client.write_all(b"after the update").await.unwrap();
        client.flush().await.unwrap();
        let mut got = [0u8; 16];
        server.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"after the update");
        // Our side moved to new keys as well: our reply still reads.
        server.write_all(b"reply").await.unwrap();
        server.flush().await.unwrap();
        let mut back = [0u8; 5];
        client.read_exact(&mut back).await.unwrap();
        assert_eq!(&back, b"reply");
    }

    /// Bad input gets a typed error, never a panic or a hang.
    #[tokio::test]
    async fn bytes_that_are_not_tls_fail_the_handshake_with_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let (_, cert, key) = crate::tls::ensure_demo_certificates(dir.path()).unwrap();
        let config = crate::tls::server_config(&cert, &key).unwrap();
        for garbage in [
            &b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..],
            // Part of a ClientHello, then application data: rustls fails
            // with no alert queued, and the handshake's pending bytes must
            // not be processed again (that panicked inside rustls).
            &[
                0x16, 0x03, 0x01, 0x00, 0x06, 0x01, 0x00, 0x01, 0x00, 0x03, 0x03, //
                0x17, 0x03, 0x03, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00,
            ][..],
            &[0x16, 0x03, 0x01, 0xff, 0xff, 0x01][..],
            &[0x17; 64][..],
        ] {
            let (mut ours, theirs) = tokio::io::duplex(1 << 16);
            let conn = UnbufferedServerConnection::new(Arc::clone(&config)).unwrap();
            let mut tls = TlsStream::new(theirs, conn);
            ours.write_all(garbage).await.unwrap();
            ours.shutdown().await.unwrap();
            let err = tokio::time::timeout(Duration::from_secs(5), tls.handshake())
                .await
                .expect("no hang")
                .expect_err("not a handshake");
            // Failed for good: asked again, the same error, not a second
            // pass over the record that failed.
            let again = tls.process(None).expect_err("still failed");
            assert_eq!(again.kind(), err.kind());
            drop(tls);
            let mut answer = Vec::new();
            ours.read_to_end(&mut answer).await.unwrap();
            if garbage.starts_with(b"GET") {
                // A TLS alert record (content type 21) says why.
                assert_eq!(answer.first(), Some(&21), "{answer:?}");
            }
            assert!(
                matches!(
                    err.kind(),
                    io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof
                ),
                "{garbage:?}: {err}"
            );
        }
    }
}
