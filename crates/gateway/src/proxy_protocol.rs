//! Client addresses behind a load balancer: the PROXY protocol, version 2
//! (HAProxy's specification, section 2.2). A proxy in front of the gateway
//! sends, before TLS starts, a binary header naming the address the
//! connection came from; the rate limits and the audit log then see the
//! customer's address instead of the proxy's.
//!
//! The header is read only from the proxies the operator names
//! (`--proxy-protocol-from`), and from them it is required: a header
//! accepted from anyone would let a client choose the address it is
//! limited and audited by, and a proxy's connection without one would be
//! counted as the proxy's. Version 1 (text) and forwarded HTTP headers are
//! not read: version 2 is what HAProxy, Envoy, nginx and the cloud load
//! balancers send, and it arrives before TLS, so it covers WebSocket
//! streams and every request alike.

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::net::TcpStream;
use tower_layer::Layer;

use crate::connections::{ConnectionLimit, Counted};
use crate::error::GatewayError;

/// The twelve bytes every version 2 header starts with.
pub const SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";

/// The longest header read (addresses and TLVs). The specification allows
/// 64 KiB; load balancers send well under this (AWS's longest TLV is a
/// VPC endpoint id), and a proxy that sends more is misconfigured.
pub const MAX_HEADER_BODY: usize = 2048;

/// How long a trusted proxy has to send the header.
const HEADER_TIMEOUT: Duration = Duration::from_secs(5);

/// The proxies whose PROXY headers are read: addresses or CIDR blocks
/// (`10.0.0.0/8`, `2001:db8::/32`, `127.0.0.1`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// Parses `--proxy-protocol-from`'s value: addresses and CIDR blocks,
    /// separated by commas.
    ///
    /// # Errors
    /// [`GatewayError::Config`] naming the entry that is neither.
    pub fn parse(list: &str) -> Result<TrustedProxies, GatewayError> {
        let bad = |entry: &str| {
            GatewayError::Config(format!(
                "--proxy-protocol-from: {entry:?} is not an address or a CIDR block"
            ))
        };
        let mut blocks = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (ip, bits) = match entry.split_once('/') {
                Some((ip, bits)) => (ip, Some(bits)),
                None => (entry, None),
            };
            let ip: IpAddr = ip.parse().map_err(|_| bad(entry))?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                Some(b) => b
                    .parse::<u8>()
                    .ok()
                    .filter(|b| *b <= max)
                    .ok_or_else(|| bad(entry))?,
                None => max,
            };
            blocks.push((ip, bits));
        }
        if blocks.is_empty() {
            return Err(bad(list));
        }
        Ok(TrustedProxies(blocks))
    }

    /// Whether `ip` is one of the proxies (an IPv4-mapped IPv6 address
    /// counts as the IPv4 address it is).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        self.0.iter().any(|(block, bits)| match (block, ip) {
            (IpAddr::V4(b), IpAddr::V4(a)) => prefix_eq(&b.octets(), &a.octets(), *bits),
            (IpAddr::V6(b), IpAddr::V6(a)) => prefix_eq(&b.octets(), &a.octets(), *bits),
            _ => false,
        })
    }
}

/// Whether the first `bits` bits of `a` and `b` agree.
fn prefix_eq(a: &[u8], b: &[u8], bits: u8) -> bool {
    let (bytes, rest) = (usize::from(bits / 8), bits % 8);
    if a[..bytes] != b[..bytes] {
        return false;
    }
    rest == 0 || {
        let mask = 0xffu8 << (8 - rest);
        a[bytes] & mask == b[bytes] & mask
    }
}

/// What a trusted proxy said of a connection, put on each of its requests:
/// the client's address, or `None` when the connection did not come
/// through a proxy (or the proxy sent `LOCAL`, its own health check).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxiedClient(pub Option<SocketAddr>);

/// The fixed part of a version 2 header after its signature: the command,
/// the address family and the length of the rest, checked. `Ok(len)`.
///
/// # Errors
/// Why the bytes are not a version 2 header this gateway reads.
pub fn header_length(head: &[u8; 16]) -> Result<usize, &'static str> {
    if head[..12] != SIGNATURE {
        return Err("the connection did not start with a PROXY protocol v2 header");
    }
    if head[12] >> 4 != 2 {
        return Err("not version 2 of the PROXY protocol");
    }
    let length = usize::from(u16::from_be_bytes([head[14], head[15]]));
    if length > MAX_HEADER_BODY {
        return Err("a PROXY header longer than 2048 bytes");
    }
    Ok(length)
}

/// The client address in a version 2 header, from its command and family
/// bytes (`head[12]`, `head[13]`) and the `body` that followed.
///
/// # Errors
/// Why the header cannot be used: an unknown command, or a body too short
/// for its family.
pub fn client_address(
    command: u8,
    family: u8,
    body: &[u8],
) -> Result<Option<SocketAddr>, &'static str> {
    match command & 0x0f {
        // LOCAL: the proxy's own connection (a health check).
        0x0 => return Ok(None),
        0x1 => {}
        _ => return Err("an unknown PROXY command"),
    }
    let port = |b: &[u8]| u16::from_be_bytes([b[0], b[1]]);
    match family {
        // TCP or UDP over IPv4: source, destination, their ports.
        0x11 | 0x12 => {
            let b = body.get(..12).ok_or("a PROXY header too short for IPv4")?;
            let ip = Ipv4Addr::new(b[0], b[1], b[2], b[3]);
            Ok(Some(SocketAddr::new(ip.into(), port(&b[8..10]))))
        }
        0x21 | 0x22 => {
            let b = body.get(..36).ok_or("a PROXY header too short for IPv6")?;
            let mut octets = [0u8; 16];
            octets.copy_from_slice(&b[..16]);
            Ok(Some(SocketAddr::new(
                Ipv6Addr::from(octets).into(),
                port(&b[32..34]),
            )))
        }
        // UNSPEC, or Unix sockets: no address to use; the proxy's counts.
        _ => Ok(None),
    }
}

/// Reads a version 2 header from the start of `stream`: the client's
/// address, or `None` for `LOCAL` and unaddressed families.
///
/// # Errors
/// [`io::ErrorKind::InvalidData`] for anything but a valid header; the
/// stream's own errors.
pub async fn read_header<R: AsyncRead + Unpin>(stream: &mut R) -> io::Result<Option<SocketAddr>> {
    let invalid = |why: &str| io::Error::new(io::ErrorKind::InvalidData, why.to_owned());
    let mut head = [0u8; 16];
    stream.read_exact(&mut head).await?;
    let length = header_length(&head).map_err(invalid)?;
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await?;
    client_address(head[12], head[13], &body).map_err(invalid)
}

/// Reads the PROXY header on connections from the trusted proxies, before
/// TLS, and puts what it says on every request of the connection
/// ([`ProxiedClient`]). Also turns Nagle's algorithm off: alerts are small
/// frames that must not wait for more.
#[derive(Debug, Clone)]
pub struct ProxyAcceptor {
    trusted: Arc<TrustedProxies>,
    limit: Arc<ConnectionLimit>,
}

impl ProxyAcceptor {
    /// Reads headers from `trusted` (none: every connection is a client's),
    /// and admits connections while `limit` allows.
    pub fn new(trusted: TrustedProxies, limit: Arc<ConnectionLimit>) -> ProxyAcceptor {
        ProxyAcceptor {
            trusted: Arc::new(trusted),
            limit,
        }
    }
}

impl<S: Send + 'static> axum_server::accept::Accept<TcpStream, S> for ProxyAcceptor {
    type Stream = Counted;
    type Service = axum::middleware::AddExtension<S, ProxiedClient>;
    type Future = Pin<Box<dyn Future<Output = io::Result<(Counted, Self::Service)>> + Send>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        let trusted = Arc::clone(&self.trusted);
        // Counted first, before the PROXY header and TLS: over the cap the
        // socket is closed here, having cost nothing but its accept.
        let admitted = self.limit.admit(stream);
        Box::pin(async move {
            let Ok(mut stream) = admitted else {
                crate::metrics::metrics().connection_refused();
                return Err(io::Error::other("the connection limit is reached"));
            };
            let _ = stream.get_ref().set_nodelay(true);
            let peer = stream.get_ref().peer_addr()?;
            let client = if trusted.contains(peer.ip()) {
                match tokio::time::timeout(HEADER_TIMEOUT, read_header(&mut stream)).await {
                    Ok(Ok(client)) => client,
                    Ok(Err(e)) => {
                        tracing::warn!(proxy = %peer, error = %e, "refused a proxy's connection");
                        return Err(e);
                    }
                    Err(_) => {
                        tracing::warn!(proxy = %peer, "a proxy sent no PROXY header in 5 s");
                        return Err(io::ErrorKind::TimedOut.into());
                    }
                }
            } else {
                None
            };
            Ok((
                stream,
                axum::Extension(ProxiedClient(client)).layer(service),
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(command: u8, family: u8, body: &[u8]) -> Vec<u8> {
        let mut h = SIGNATURE.to_vec();
        h.extend([0x20 | command, family]);
        h.extend(u16::try_from(body.len()).unwrap().to_be_bytes());
        h.extend(body);
        h
    }

    #[tokio::test]
    async fn headers_name_the_client_or_are_refused() {
        let v4 = [203, 0, 113, 7, 10, 0, 0, 1, 0xc3, 0x50, 0x01, 0xbb];
        let mut with_tlv = v4.to_vec();
        with_tlv.extend([0x04, 0x00, 0x01, 0x00]); // a NOOP TLV, skipped
        let read = |bytes: Vec<u8>| async move { read_header(&mut bytes.as_slice()).await };
        assert_eq!(
            read(header(1, 0x11, &with_tlv)).await.unwrap(),
            Some("203.0.113.7:50000".parse().unwrap())
        );
        let mut v6 = vec![0x20, 0x01, 0x0d, 0xb8];
        v6.extend([0; 12]);
        v6.extend([0; 16]);
        v6.extend([0x00, 0x50, 0x01, 0xbb]);
        assert_eq!(
            read(header(1, 0x21, &v6)).await.unwrap(),
            Some("[2001:db8::]:80".parse().unwrap())
        );
        assert_eq!(read(header(0, 0x00, &[])).await.unwrap(), None, "LOCAL");
        for (bad, why) in [
            (
                b"GET / HTTP/1.1\r\nhost: x\r\n\r\n".to_vec(),
                "no signature",
            ),
            (header(1, 0x11, &v4[..8]), "too short for IPv4"),
            (header(1, 0x21, &v4), "too short for IPv6"),
            (header(7, 0x11, &v4), "unknown command"),
            (header(1, 0x11, &[0; MAX_HEADER_BODY + 1]), "too long"),
        ] {
            assert!(read(bad).await.is_err(), "{why}");
        }
        let mut version1 = header(1, 0x11, &v4);
        version1[12] = 0x11;
        assert!(read(version1).await.is_err(), "version 1 in a v2 frame");
    }

    #[test]
    fn trusted_proxies_are_addresses_and_blocks() {
        let trusted = TrustedProxies::parse("10.0.0.0/8, 192.0.2.1,2001:db8::/32").unwrap();
        for (ip, inside) in [
            ("10.200.3.4", true),
            ("11.0.0.1", false),
            ("192.0.2.1", true),
            ("192.0.2.2", false),
            ("2001:db8:ffff::1", true),
            ("2001:db9::1", false),
            ("::ffff:10.1.1.1", true),
        ] {
            assert_eq!(trusted.contains(ip.parse().unwrap()), inside, "{ip}");
        }
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.bank").is_err());
        assert!(TrustedProxies::parse("").is_err());
        assert!(
            TrustedProxies::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
    }
}
