//! Mail that verifies (issue 17): `bulletin dkim keygen` makes a key and its
//! DNS record; every message sent is DKIM-signed, the one-click unsubscribe
//! headers inside the signature; an independent verifier (Python's dkimpy,
//! `scripts/dkim-verify.py`) given only the printed record agrees, and
//! refuses the message once a signed header is changed.

use std::process::Command;

use bulletin_test_support::smtp::{Received, SmtpSink};

use crate::{Archive, text, write};

/// The TXT record's value from keygen's output: its quoted strings, joined.
fn record_value(printed: &str) -> String {
    printed.split('"').skip(1).step_by(2).collect()
}

/// Whether dkimpy (and PyNaCl) can be imported; the policy otherwise.
fn dkimpy() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import dkim, nacl"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        bulletin_test_support::skip_or_fail(
            "Python's dkimpy and PyNaCl are not installed",
            "python3 -m pip install dkimpy pynacl (.ci/run does)",
        );
    }
    ok
}

/// Runs the verifier on `raw` with `records` (selector, value).
fn verify(dir: &std::path::Path, raw: &str, records: &[(String, String)]) -> (bool, String) {
    let file = dir.join("message.eml");
    std::fs::write(&file, raw).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/dkim-verify.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(&file)
        .args(records.iter().map(|(s, r)| format!("{s}={r}")))
        .output()
        .unwrap();
    (out.status.success(), text(&out.stdout) + &text(&out.stderr))
}

/// The `h=` list of each DKIM-Signature, lowercased.
fn signed_headers(message: &Received) -> Vec<Vec<String>> {
    let head = message.data.split("\r\n\r\n").next().unwrap();
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    unfolded
        .split("\r\n")
        .filter(|l| l.to_ascii_lowercase().starts_with("dkim-signature:"))
        .map(|l| {
            let h = l
                .split(';')
                .find_map(|t| t.trim().strip_prefix("h="))
                .unwrap();
            h.split(':')
                .map(|n| n.trim().to_ascii_lowercase())
                .collect()
        })
        .collect()
}

#[test]
fn every_message_is_signed_and_an_independent_verifier_agrees() {
    if !dkimpy() {
        return;
    }
    let archive = Archive::sqlite();
    let Some(sink) = SmtpSink::start(&[]) else {
        return;
    };
    crate::newsletter::issue_seven_for(&archive, ["reader@example.org".to_owned()]);

    // One key of each kind; the domain from [smtp] from.
    write(
        &archive.path("bulletin.toml"),
        format!(
            "[smtp]\nurl = \"{}\"\nfrom = \"news@example.org\"\nper_second = 1000\n",
            sink.url()
        ),
    );
    let mut records = Vec::new();
    let mut tables = String::new();
    for (selector, kind) in [("rsa2026", "rsa"), ("ed2026", "ed25519")] {
        let key = archive
            .path(&format!("{selector}.pem"))
            .display()
            .to_string();
        let out = archive.run_ok(&[
            "dkim",
            "keygen",
            "--selector",
            selector,
            "--algorithm",
            kind,
            "-o",
            &key,
        ]);
        let printed = text(&out.stdout);
        assert!(
            printed.starts_with(&format!("{selector}._domainkey.example.org. IN TXT")),
            "{printed}"
        );
        let value = record_value(&printed);
        assert!(
            value.starts_with(&format!("v=DKIM1; k={kind}; p=")),
            "{value}"
        );
        records.push((selector.to_owned(), value));
        tables.push_str(&format!(
            "[[smtp.dkim]]\nkey = \"{key}\"\nselector = \"{selector}\"\n"
        ));
        // The key file is its owner's alone, and never overwritten.
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{mode:o}");
        assert!(
            !archive
                .run(&["dkim", "keygen", "--selector", selector, "-o", &key])
                .status
                .success()
        );
    }
    let config = std::fs::read_to_string(archive.path("bulletin.toml")).unwrap() + &tables;
    write(&archive.path("bulletin.toml"), config);

    archive.run_ok(&["send", "7"]);
    archive.run_ok(&["send", "7", "--to", "editor@example.org"]);
    let mail = sink.wait_for(2);
    for message in &mail {
        let signatures = signed_headers(message);
        assert_eq!(signatures.len(), 2, "{}", message.data);
        for h in &signatures {
            for name in [
                "from",
                "to",
                "subject",
                "date",
                "message-id",
                "list-unsubscribe",
                "list-unsubscribe-post",
            ] {
                assert!(h.contains(&name.to_owned()), "{name} not signed: {h:?}");
            }
        }
        let (ok, said) = verify(archive.dir.path(), &message.data, &records);
        assert!(ok && said.contains("pass 2"), "{said}\n{}", message.data);
        // Change the signed one-click header: no longer verifies.
        let tampered = message.data.replacen(
            "List-Unsubscribe: <",
            "List-Unsubscribe: <https://evil.example/x?",
            1,
        );
        assert_ne!(tampered, message.data);
        let (ok, said) = verify(archive.dir.path(), &tampered, &records);
        assert!(!ok, "a changed List-Unsubscribe still verified: {said}");
    }
}
