//! Helpers for the tests that drive outside programs (a browser, a validator).

use std::path::{Path, PathBuf};

/// An outside program on `PATH` (or at one of `fallbacks`), or the skip rule:
/// absent → a `SKIP` line and `None`, except under `CI=true`, where it fails.
pub fn tool(name: &str, fallbacks: &[&str], install_hint: &str) -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join(name));
    let found = on_path
        .chain(fallbacks.iter().map(PathBuf::from))
        .find(|p| is_executable(p));
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{name} is required under CI=true ({install_hint})"
        );
        println!("SKIP: {name} is absent ({install_hint})");
    }
    found
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
