//! Integration tests of the text format: one binary, one module per concern.

mod corpus;
mod errors;
mod generated;
mod roundtrip;

use std::path::PathBuf;

/// A file under the repository's sibling `shared/` folder. When it is absent the
/// test prints a skip line and passes — except under `CI=true`, where it fails.
pub fn shared(relative: &str) -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(relative);
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{} is required under CI=true",
        path.display()
    );
    println!("SKIP: {} is absent", path.display());
    None
}
