//! Helpers for the tests that drive outside programs (a browser, a validator).

use std::path::{Path, PathBuf};

/// An outside program on `PATH` (or at one of `fallbacks`); absent → a
/// failure saying how to install it (a counted skip only with
/// `BULLETIN_ALLOW_SKIP=1`).
pub fn tool(name: &str, fallbacks: &[&str], install_hint: &str) -> Option<PathBuf> {
    bulletin_test_support::on_path(name)
        .or_else(|| {
            fallbacks
                .iter()
                .map(PathBuf::from)
                .find(|p| is_executable(p))
        })
        .or_else(|| bulletin_test_support::tool(name, install_hint))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The workspace's target folder: `CARGO_TARGET_DIR` (relative to the workspace)
/// or `<workspace>/target`.
pub fn target_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/bulletin-web is two levels down");
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => workspace.join(dir),
        None => workspace.join("target"),
    }
}

/// A loopback port free at the time of asking.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
