//! A full disk: the data directory on a small tmpfs that the test fills to the
//! last byte. Import, restore, reindex and a running `serve` asked to write
//! give clear errors (no panic, no hang), and the store is left as it was: once
//! space is freed, the same store answers as before and the same work succeeds.
//!
//! Mounting a tmpfs needs root (or CAP_SYS_ADMIN); elsewhere the test fails
//! saying so, or is a counted skip under `BULLETIN_ALLOW_SKIP=1`. SQLite only:
//! it is the backend whose store lives in the data directory.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::newsletter::{cookie, field, form_headers, http, serve};
use crate::{Archive, text};

/// A tmpfs of a few megabytes mounted on a temporary directory; unmounted when
/// dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(megabytes: u32) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(dir.path())
            .output();
        match mounted {
            Ok(out) if out.status.success() => Some(Tmpfs { dir }),
            other => {
                let why = match other {
                    Ok(out) => text(&out.stderr),
                    Err(e) => e.to_string(),
                };
                bulletin_test_support::skip_or_fail(
                    &format!("the full-disk tests cannot mount a tmpfs ({})", why.trim()),
                    "run them as root (or with CAP_SYS_ADMIN), as CI does",
                );
                None
            }
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn filler(&self) -> PathBuf {
        self.path().join("filler")
    }

    /// Writes a file until the file system refuses another byte.
    fn fill(&self) {
        let mut file = std::fs::File::create(self.filler()).unwrap();
        let block = vec![0x55u8; 64 * 1024];
        let mut size = block.len();
        loop {
            match file.write(&block[..size]) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(28) && size > 1 => size /= 2, // ENOSPC
                Err(e) if e.raw_os_error() == Some(28) => break,
                Err(e) => panic!("filling the tmpfs: {e}"),
            }
        }
        // The disk is full: not one more byte fits.
        let probe = std::fs::write(self.path().join("probe"), b"x");
        assert!(probe.is_err(), "the tmpfs still had room");
    }

    fn free(&self) {
        std::fs::remove_file(self.filler()).unwrap();
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

/// An archive whose data directory is the tmpfs.
fn archive_on(tmpfs: &Tmpfs) -> Archive {
    let archive = Archive::sqlite();
    let data = tmpfs.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    Archive::in_dir(archive, data)
}

/// The failed command said why, in words a person can act on, and did not
/// panic.
fn refused_clearly(out: &Output, what: &str) {
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{what} succeeded on a full disk");
    assert!(!stderr.contains("panicked at"), "{what} panicked: {stderr}");
    let lower = stderr.to_lowercase();
    assert!(
        ["full", "no space", "space left"]
            .iter()
            .any(|w| lower.contains(w)),
        "{what}: the error should say the disk is full: {stderr}"
    );
}

fn generate(into: &Path, stories: u32, seed: u32) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_bulletin"))
        .args([
            "gen",
            "--stories",
            &stories.to_string(),
            "--seed",
            &seed.to_string(),
        ])
        .arg("-o")
        .arg(into)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    into.display().to_string()
}

#[test]
fn import_restore_and_reindex_on_a_full_disk() {
    let Some(tmpfs) = Tmpfs::mount(24) else {
        return;
    };
    let outside = tempfile::tempdir().unwrap();
    let small = generate(&outside.path().join("small.txt"), 200, 1);
    let more = generate(&outside.path().join("more.txt"), 2_000, 2);
    let archive = archive_on(&tmpfs);
    archive.run_ok(&["import", &small]);
    archive.run_ok(&["search", "court"]);
    let before = archive.export(&["--format", "json"]);
    let backup = outside.path().join("backup.json");
    archive.run_ok(&["export", "--format", "json", "-o", backup.to_str().unwrap()]);

    tmpfs.fill();
    // Import: refused, nothing of it kept.
    refused_clearly(&archive.run(&["import", &more]), "import");
    // Reindex: refused; the index it had still answers.
    refused_clearly(&archive.run(&["reindex"]), "reindex");
    tmpfs.free();
    assert_eq!(
        archive.export(&["--format", "json"]),
        before,
        "import left a trace"
    );
    archive.run_ok(&["search", "court"]);

    // Restore into an empty data directory on a full disk.
    let restored = Archive::in_dir(Archive::sqlite(), tmpfs.path().join("restored"));
    std::fs::create_dir_all(restored.dir_path()).unwrap();
    restored.run_ok(&["export", "--format", "text"]); // creates the store
    tmpfs.fill();
    refused_clearly(
        &restored.run(&["import", backup.to_str().unwrap()]),
        "restore",
    );
    tmpfs.free();
    let stories = restored.export(&["--format", "text"]);
    assert!(stories.trim().is_empty(), "a half restore: {stories}");
    // With room again, the same work succeeds.
    restored.run_ok(&["import", backup.to_str().unwrap()]);
    assert_eq!(restored.export(&["--format", "json"]), before);
    archive.run_ok(&["import", &more]);
    archive.run_ok(&["reindex"]);
}

#[test]
fn serve_on_a_full_disk_refuses_writes_and_keeps_reading() {
    let Some(tmpfs) = Tmpfs::mount(24) else {
        return;
    };
    let Some(sink) = bulletin_test_support::smtp::SmtpSink::start(&[]) else {
        return;
    };
    let outside = tempfile::tempdir().unwrap();
    let small = generate(&outside.path().join("small.txt"), 100, 3);
    let archive = archive_on(&tmpfs);
    archive.run_ok(&["import", &small]);
    crate::send::configure(&archive, &sink.url());
    let port = bulletin_test_support_port();
    let _server = serve(&archive, port);
    let (status, _, _) = http(port, "GET", "/", &[], "");
    assert_eq!(status, 200);

    tmpfs.fill();
    let (status, page) = subscribe(port);
    assert!(
        (500..600).contains(&status),
        "a write on a full disk answers an error, not {status}: {page}"
    );
    assert!(
        !page.contains("No space left"),
        "no internals in the answer: {page}"
    );
    // Reading still works while the disk is full.
    for path in ["/", "/feed/", "/search?q=court"] {
        let (status, _, _) = http(port, "GET", path, &[], "");
        assert_eq!(status, 200, "{path} on a full disk");
    }
    tmpfs.free();
    // With room again, the same write succeeds on the same server.
    let (status, page) = subscribe(port);
    assert_eq!(status, 200, "{page}");
    let listed = text(&archive.run_ok(&["subscribers", "list"]).stdout);
    assert!(listed.contains("reader@example.org"), "{listed}");
}

/// Signs up reader@example.org through the site's form: the answer's status
/// and page.
fn subscribe(port: u16) -> (u16, String) {
    let (_, headers, page) = http(port, "GET", "/subscribe/", &[], "");
    let form_cookie = cookie(&headers, "bulletin_form").unwrap();
    let token = field(&page, "form_token");
    let (status, _, page) = http(
        port,
        "POST",
        "/subscribe/",
        &form_headers(&form_cookie),
        &format!("form_token={token}&email=reader%40example.org"),
    );
    (status, page)
}

/// A free loopback port.
fn bulletin_test_support_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
