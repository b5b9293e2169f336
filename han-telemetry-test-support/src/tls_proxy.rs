//! A private PKI made with the `openssl` CLI and a real TLS terminator
//! (`socat`) on loopback, in front of a plain-text OTLP receiver.
//!
//! [`Pki::generate`] writes a CA, a server certificate for `127.0.0.1`/`localhost` and a
//! client certificate into a fresh temporary directory (removed on drop). [`TlsProxy::start`] runs
//! `socat OPENSSL-LISTEN:... TCP:127.0.0.1:<backend>` in its own process group, waits
//! until it accepts connections, and kills the whole group (the listener and the children
//! it forked per connection) on drop, also when the test panics.
//!
//! A missing `openssl` or `socat` is a test failure naming the package to install, never a
//! silent skip.

use std::fs;
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

const START_TIMEOUT: Duration = Duration::from_secs(20);
const START_ATTEMPTS: usize = 5;
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// Panics with an install hint unless `tool` can be run (`tool <version_arg>`).
pub fn require_tool(tool: &str, version_arg: &str, package: &str) {
    let ran = Command::new(tool)
        .arg(version_arg)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if let Err(e) = ran {
        panic!(
            "the TLS tests need `{tool}` on PATH, which cannot be run ({e}); \
             install the Debian package `{package}` (apt-get install -y {package})"
        );
    }
}

/// A CA, a server identity and a client identity, as PEM files in a temporary directory.
#[derive(Debug)]
pub struct Pki {
    dir: tempfile::TempDir,
    pub ca_cert: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
}

const OPENSSL_CONFIG: &str = "\
[req]
distinguished_name = dn
prompt = no

[dn]
CN = placeholder

[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
authorityKeyIdentifier = keyid
subjectKeyIdentifier = hash

[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
subjectKeyIdentifier = hash
";

impl Pki {
    /// Generates everything with the `openssl` CLI (P-256 keys, valid for two days).
    pub fn generate() -> Pki {
        require_tool("openssl", "version", "openssl");
        let dir = tempfile::Builder::new()
            .prefix("han-tls-pki-")
            .tempdir()
            .expect("a temporary directory for the PKI");
        let pki = Pki {
            ca_cert: dir.path().join("ca.pem"),
            server_cert: dir.path().join("server.pem"),
            server_key: dir.path().join("server.key"),
            client_cert: dir.path().join("client.pem"),
            client_key: dir.path().join("client.key"),
            dir,
        };
        let config = pki.dir().join("openssl.cnf");
        fs::write(&config, OPENSSL_CONFIG).expect("write openssl.cnf");
        let ca_key = pki.dir().join("ca.key");

        for key in [&ca_key, &pki.server_key, &pki.client_key] {
            pki.openssl(&[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                path(key),
            ]);
        }
        pki.openssl(&[
            "req",
            "-config",
            path(&config),
            "-x509",
            "-new",
            "-key",
            path(&ca_key),
            "-subj",
            "/CN=han-telemetry test CA",
            "-extensions",
            "ca",
            "-days",
            "2",
            "-out",
            path(&pki.ca_cert),
        ]);
        for (name, key, cert, subject) in [
            ("server", &pki.server_key, &pki.server_cert, "/CN=localhost"),
            (
                "client",
                &pki.client_key,
                &pki.client_cert,
                "/CN=han-telemetry test client",
            ),
        ] {
            let csr = pki.dir().join(format!("{name}.csr"));
            pki.openssl(&[
                "req",
                "-config",
                path(&config),
                "-new",
                "-key",
                path(key),
                "-subj",
                subject,
                "-out",
                path(&csr),
            ]);
            pki.openssl(&[
                "x509",
                "-req",
                "-in",
                path(&csr),
                "-CA",
                path(&pki.ca_cert),
                "-CAkey",
                path(&ca_key),
                "-set_serial",
                if name == "server" { "2" } else { "3" },
                "-days",
                "2",
                "-extfile",
                path(&config),
                "-extensions",
                name,
                "-out",
                path(cert),
            ]);
        }
        pki
    }

    /// The directory holding every file.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn openssl(&self, args: &[&str]) {
        let output = Command::new("openssl")
            .args(args)
            .current_dir(self.dir())
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run openssl ({e}); install the Debian package `openssl`")
            });
        assert!(
            output.status.success(),
            "openssl {} failed ({}):\n{}{}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

/// Whether the TLS terminator asks for and requires a client certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    None,
    Required,
}

/// `socat` terminating TLS on a loopback port and forwarding plain TCP to `backend_port`.
#[derive(Debug)]
pub struct TlsProxy {
    child: Child,
    port: u16,
    stderr: Arc<Mutex<String>>,
    /// Set once the leader was reaped: its pid (the group id) may then be reused.
    reaped: bool,
}

impl TlsProxy {
    /// Starts socat with the server identity of `pki`, forwarding to `127.0.0.1:backend_port`,
    /// and waits until it accepts connections.
    pub fn start(pki: &Pki, backend_port: u16, auth: ClientAuth) -> TlsProxy {
        require_tool("socat", "-V", "socat");
        let mut failures = Vec::new();
        for _ in 0..START_ATTEMPTS {
            match Self::try_start(pki, backend_port, auth) {
                Ok(proxy) => return proxy,
                Err(why) => failures.push(why),
            }
        }
        panic!(
            "socat could not start listening in {START_ATTEMPTS} attempts:\n{}",
            failures.join("\n")
        );
    }

    fn try_start(pki: &Pki, backend_port: u16, auth: ClientAuth) -> Result<TlsProxy, String> {
        let port = free_port();
        let verify = match auth {
            ClientAuth::None => 0,
            ClientAuth::Required => 1,
        };
        let listen = format!(
            "OPENSSL-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,cert={},key={},cafile={},verify={verify}",
            path(&pki.server_cert),
            path(&pki.server_key),
            path(&pki.ca_cert),
        );
        let mut child = Command::new("socat")
            .arg(listen)
            .arg(format!("TCP:127.0.0.1:{backend_port}"))
            // Its own process group: Drop kills the listener and every forked child.
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run socat ({e}); install the Debian package `socat`")
            });
        let stderr = Arc::new(Mutex::new(String::new()));
        if let Some(mut pipe) = child.stderr.take() {
            let sink = Arc::clone(&stderr);
            thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = pipe.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    if let Ok(mut s) = sink.lock() {
                        s.push_str(&String::from_utf8_lossy(&buf[..n]));
                    }
                }
            });
        }
        // From here on, Drop kills the process group, also when we panic.
        let mut proxy = TlsProxy {
            child,
            port,
            stderr,
            reaped: false,
        };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = proxy.child.try_wait() {
                proxy.reaped = true;
                // Let the reader catch what socat printed before it exited.
                thread::sleep(POLL_INTERVAL * 5);
                return Err(format!(
                    "port {port}: socat exited ({status}): {}",
                    proxy.stderr().trim()
                ));
            }
            // A probe connection is harmless: the forked child fails its handshake and exits.
            if TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), POLL_INTERVAL * 10)
                .is_ok()
            {
                return Ok(proxy);
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "port {port}: socat did not accept connections within {START_TIMEOUT:?}: {}",
                    proxy.stderr().trim()
                ));
            }
            thread::sleep(POLL_INTERVAL);
        }
    }

    /// `https://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// What socat printed on stderr so far (handshake errors and the like).
    pub fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Drop for TlsProxy {
    fn drop(&mut self) {
        if self.reaped {
            return;
        }
        // The group id is the leader's pid (process_group(0)). Kill the group, then reap
        // the leader; the forked children are reparented and reaped by init.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port that was free a moment ago (socat binds it with `reuseaddr`).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind an ephemeral loopback port")
}
