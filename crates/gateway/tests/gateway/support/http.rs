//! The test client: a minimal HTTPS client trusting only the demo CA, and
//! the checks every feature makes of its replies (problem+json, forms).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use strongroom_gateway::RunningGateway;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A minimal HTTPS client: one request per connection, HTTP/1.1, trusting
/// only the demo CA. Enough to see exact statuses, headers and bodies.
pub struct Http {
    pub tls: Arc<rustls::ClientConfig>,
    pub addr: std::net::SocketAddr,
    pub api_key: String,
    /// The loopback address to connect from (another client's), if not the
    /// default 127.0.0.1.
    pub from: Option<std::net::Ipv4Addr>,
}

pub struct Reply {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| {
            panic!(
                "status {} body is not JSON: {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

pub fn client_tls(ca: &Path) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pki_types::CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth(),
    )
}

impl Http {
    pub fn new(gateway: &RunningGateway) -> Http {
        Http {
            tls: client_tls(gateway.ca_file.as_ref().expect("demo CA")),
            addr: gateway.local_addr,
            api_key: std::fs::read_to_string(&gateway.api_key_file)
                .unwrap()
                .trim()
                .to_owned(),
            from: None,
        }
    }

    /// The same client, connecting from another loopback address.
    pub fn from(&self, address: [u8; 4]) -> Http {
        Http {
            tls: Arc::clone(&self.tls),
            addr: self.addr,
            api_key: self.api_key.clone(),
            from: Some(address.into()),
        }
    }

    pub async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> Reply {
        self.send_after(b"", method, path, headers, body).await
    }

    /// [`Http::send`], with `prefix` written on the connection before TLS
    /// starts (a load balancer's PROXY protocol header).
    /// Connects, writes `prefix`, and makes the TLS handshake: its error
    /// when the gateway refuses the connection (for example a PROXY header
    /// from a client that is not a configured proxy).
    pub async fn handshake_after(
        &self,
        prefix: &[u8],
    ) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
        let mut tcp = match self.from {
            None => tokio::net::TcpStream::connect(self.addr).await?,
            Some(from) => {
                let socket = tokio::net::TcpSocket::new_v4()?;
                socket.bind((from, 0).into())?;
                socket.connect(self.addr).await?
            }
        };
        tcp.write_all(prefix).await?;
        let connector = tokio_rustls::TlsConnector::from(Arc::clone(&self.tls));
        let name = rustls_pki_types::ServerName::try_from("127.0.0.1").unwrap();
        connector.connect(name, tcp).await
    }

    pub async fn send_after(
        &self,
        prefix: &[u8],
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> Reply {
        let mut tls = self
            .handshake_after(prefix)
            .await
            .expect("the TLS handshake");
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\ncontent-length: {}\r\n",
            body.len()
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        tls.write_all(head.as_bytes()).await.unwrap();
        tls.write_all(body).await.unwrap();
        let mut raw = Vec::new();
        let _ = tls.read_to_end(&mut raw).await;
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a complete response head");
        let head = String::from_utf8_lossy(&raw[..split]).into_owned();
        let mut lines = head.split("\r\n");
        let status: u16 = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap();
        let headers: HashMap<String, String> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_owned()))
            .collect();
        let mut body = raw[split + 4..].to_vec();
        if headers
            .get("transfer-encoding")
            .is_some_and(|t| t == "chunked")
        {
            body = dechunk(&body);
        }
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn bank(&self, method: &str, path: &str, body: serde_json::Value) -> Reply {
        let body = if body.is_null() {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        };
        self.send(
            method,
            path,
            &[
                ("authorization", format!("Bearer {}", self.api_key)),
                ("content-type", "application/json".into()),
            ],
            &body,
        )
        .await
    }

    pub async fn form(&self, path: &str, fields: &[(&str, &str)], dpop: Option<String>) -> Reply {
        let body = serde_urlencoded_encode(fields);
        let mut headers = vec![(
            "content-type",
            "application/x-www-form-urlencoded".to_owned(),
        )];
        if let Some(proof) = dpop {
            headers.push(("dpop", proof));
        }
        self.send("POST", path, &headers, body.as_bytes()).await
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = data.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&data[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&data[eol + 2..eol + 2 + size]);
        data = &data[eol + 2 + size + 2..];
    }
    out
}

pub fn serde_urlencoded_encode(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| {
            let enc = |s: &str| {
                s.bytes()
                    .map(|b| match b {
                        b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                            (b as char).to_string()
                        }
                        _ => format!("%{b:02X}"),
                    })
                    .collect::<String>()
            };
            format!("{}={}", enc(k), enc(v))
        })
        .collect::<Vec<_>>()
        .join("&")
}

pub fn hidden_field(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let rest = &html[at..];
    let value = rest.find("value=\"")? + 7;
    let end = rest[value..].find('"')?;
    Some(rest[value..value + end].to_owned())
}

pub fn assert_problem(reply: &Reply, status: u16, what: &str) {
    assert_eq!(reply.status, status, "{what}: {}", reply.text());
    assert!(
        reply
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/problem+json")),
        "{what}: content type {:?}",
        reply.header("content-type")
    );
    let body = reply.json();
    for member in ["type", "title", "status", "detail"] {
        assert!(
            body.get(member).is_some(),
            "{what}: problem has {member}: {body}"
        );
    }
    assert_eq!(body["status"], status, "{what}");
}
