//! End-to-end tests through the built `bulletin` binary, on SQLite and on
//! PostgreSQL (`bulletin_test_support::postgres_url`; a test fails without it
//! unless skipping is allowed, see `bulletin_test_support`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod answers;
mod bounces;
mod cli;
mod cluster;
mod crash;
mod dkim;
mod full_disk;
mod migrate;
mod newsletter;
mod ops;
mod outage;
mod send;
mod site;
mod subscribers;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use bulletin_test_support::TempPostgres;

/// A fresh data directory, and a fresh PostgreSQL database when asked for.
pub struct Archive {
    pub dir: tempfile::TempDir,
    /// The data directory: inside `dir` unless [`Archive::in_dir`] moved it.
    data: Option<PathBuf>,
    pub database: Option<String>,
    _postgres: Option<TempPostgres>,
}

impl Archive {
    pub fn sqlite() -> Archive {
        Archive {
            dir: tempfile::tempdir().unwrap(),
            data: None,
            database: None,
            _postgres: None,
        }
    }

    /// `None` (after a counted skip) only when PostgreSQL cannot be reached
    /// and skipping is allowed; otherwise unreachable PostgreSQL fails.
    pub fn postgres() -> Option<Archive> {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let pg = runtime.block_on(TempPostgres::create_or_skip())?;
        Some(Archive {
            dir: tempfile::tempdir().unwrap(),
            data: None,
            database: Some(pg.url().to_owned()),
            _postgres: Some(pg),
        })
    }

    /// A fresh data directory with its store on the database at `url` (which
    /// the caller owns).
    pub fn on_database(url: String) -> Archive {
        Archive {
            dir: tempfile::tempdir().unwrap(),
            data: None,
            database: Some(url),
            _postgres: None,
        }
    }

    /// Both backends that are available.
    pub fn each() -> Vec<Archive> {
        let mut all = vec![Archive::sqlite()];
        all.extend(Archive::postgres());
        all
    }

    /// The same archive with its data directory at `data` (which must exist).
    pub fn in_dir(mut archive: Archive, data: PathBuf) -> Archive {
        archive.data = Some(data);
        archive
    }

    pub fn dir_path(&self) -> &Path {
        self.data.as_deref().unwrap_or(self.dir.path())
    }

    pub fn name(&self) -> &'static str {
        if self.database.is_some() {
            "postgres"
        } else {
            "sqlite"
        }
    }

    pub fn url(&self) -> String {
        match &self.database {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.dir_path().join("bulletin.db").display()),
        }
    }

    pub fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_bulletin"));
        cmd.arg("--data").arg(self.dir_path());
        cmd.env_remove("BULLETIN_DATABASE_URL");
        if let Some(url) = &self.database {
            cmd.arg("--database").arg(url);
        }
        cmd.stdin(Stdio::null());
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().unwrap()
    }

    pub fn run_ok(&self, args: &[&str]) -> Output {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "[{}] bulletin {args:?} failed:\n{}",
            self.name(),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    pub fn export(&self, args: &[&str]) -> String {
        let mut all = vec!["export"];
        all.extend_from_slice(args);
        String::from_utf8(self.run_ok(&all).stdout).unwrap()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir_path().join(name)
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn write(path: &Path, contents: impl AsRef<[u8]>) -> String {
    std::fs::write(path, contents).unwrap();
    path.display().to_string()
}

/// One GET over a fresh TCP connection: the whole response, head and body.
pub fn http_get(addr: &str, target: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

/// Kills the server when a test fails half-way, so it cannot hold the test
/// harness's output open.
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `bulletin serve` on a free loopback port: the process and its address.
pub fn serve(archive: &Archive) -> (KillOnDrop, String) {
    let mut child = archive
        .command()
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let guard = KillOnDrop(child);
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stderr));
    let addr = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| {
            let rest = l.split("serving http://").nth(1)?;
            rest.split('/').next().map(str::to_owned)
        })
        .expect("the server says where it listens");
    // Keep reading its log so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
    (guard, addr)
}
