//! Bounces (issue 17): with `[smtp] bounce_address`, every newsletter message
//! goes out with its own envelope sender (VERP, `bounces+KEY.TAG@domain`);
//! `bulletin bounces import` reads delivery status notifications written as
//! RFC 3464 lays them out, from an mbox file and a Maildir folder, and marks
//! hard bounces only: not temporary failures, not a notification whose token
//! was made for another address, not ordinary mail.

use std::collections::HashMap;

use bulletin_test_support::smtp::SmtpSink;

use crate::{Archive, text, write};

/// A delivery status notification for `recipient`, sent back to `to`.
fn dsn(to: &str, recipient: &str, action: &str, status: &str) -> String {
    format!(
        "From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>\n\
         To: {to}\n\
         Subject: Delivery Status Notification\n\
         Date: Mon, 7 Dec 2026 10:00:00 +0000\n\
         MIME-Version: 1.0\n\
         Content-Type: multipart/report; report-type=delivery-status;\n\
         \tboundary=\"=_report\"\n\
         \n\
         --=_report\n\
         Content-Type: text/plain; charset=us-ascii\n\
         \n\
         Delivery to {recipient} did not succeed.\n\
         \n\
         --=_report\n\
         Content-Type: message/delivery-status\n\
         \n\
         Reporting-MTA: dns; mx.example.net\n\
         Received-From-MTA: dns; mail.example.org\n\
         \n\
         Final-Recipient: rfc822; {recipient}\n\
         Action: {action}\n\
         Status: {status}\n\
         Diagnostic-Code: smtp; {status} the mailbox said no\n\
         \n\
         --=_report\n\
         Content-Type: text/rfc822-headers\n\
         \n\
         Subject: Example Test Letter - Issue 7\n\
         \n\
         --=_report--\n"
    )
}

fn statuses(archive: &Archive) -> HashMap<String, String> {
    text(&archive.run_ok(&["subscribers", "list", "--json"]).stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|s| {
            (
                s["email"].as_str().unwrap().to_owned(),
                s["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn hard_bounces_proven_by_their_verp_address_are_marked() {
    let archive = Archive::sqlite();
    let Some(sink) = SmtpSink::start(&[]) else {
        return;
    };
    crate::newsletter::issue_seven_for(
        &archive,
        ["hard", "soft", "victim"].map(|r| format!("{r}@example.com")),
    );
    write(
        &archive.path("bulletin.toml"),
        format!(
            "[smtp]\nurl = \"{}\"\nfrom = \"news@example.org\"\nper_second = 1000\nbounce_address = \"bounces@example.org\"\n",
            sink.url()
        ),
    );
    archive.run_ok(&["send", "7"]);
    let mail = sink.wait_for(3);

    // Each message has its own envelope sender, under the bounce address.
    let mut verp: HashMap<String, String> = HashMap::new();
    for message in &mail {
        let from = &message.mail_from;
        assert!(
            from.starts_with("bounces+issue-7-") && from.ends_with("@example.org"),
            "{from}"
        );
        let key = message
            .message_id()
            .trim_matches(['<', '>'])
            .split('@')
            .next()
            .unwrap()
            .to_owned();
        assert!(
            from.starts_with(&format!("bounces+{key}.")),
            "{from} for {key}"
        );
        verp.insert(message.to().to_owned(), from.clone());
    }
    assert_eq!(verp.len(), 3);
    assert_eq!(
        verp.values()
            .collect::<std::collections::HashSet<_>>()
            .len(),
        3
    );

    // An mbox: a hard bounce, a temporary one, a forged one (the token of
    // another address's message), and an auto-reply.
    let mbox = archive.path("bounces.mbox");
    let mut text_of = String::new();
    for message in [
        dsn(&verp["hard@example.com"], "hard@example.com", "failed", "5.1.1"),
        dsn(&verp["soft@example.com"], "soft@example.com", "delayed", "4.2.2"),
        dsn(&verp["hard@example.com"], "victim@example.com", "failed", "5.1.1"),
        "From: someone@example.com\nTo: news@example.org\nSubject: Out of office\n\nAway until Monday.\n".to_owned(),
    ] {
        text_of.push_str("From MAILER-DAEMON Mon Dec  7 10:00:00 2026\n");
        text_of.push_str(&message);
        text_of.push('\n');
    }
    let mbox = write(&mbox, text_of);

    let out = archive.run_ok(&["bounces", "import", "--dry-run", &mbox]);
    let report = text(&out.stdout);
    assert!(
        report.contains("4 messages, 3 recipient reports: 1 would be marked bounced"),
        "{report}"
    );
    assert!(statuses(&archive).values().all(|s| s == "active"));

    let out = archive.run_ok(&["bounces", "import", &mbox]);
    let report = text(&out.stdout);
    assert!(
        report.contains("1 marked bounced, 0 already bounced, 0 not subscribers, 1 temporary (not marked), 1 unverified (not marked)"),
        "{report}{}",
        text(&out.stderr)
    );
    let now = statuses(&archive);
    assert_eq!(now["hard@example.com"], "bounced");
    assert_eq!(now["soft@example.com"], "active");
    assert_eq!(now["victim@example.com"], "active");

    // The same notice from a Maildir: already bounced, nothing more.
    let maildir = archive.path("Maildir");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    write(
        &maildir.join("new/1765101600.1.mx"),
        dsn(
            &verp["hard@example.com"],
            "hard@example.com",
            "failed",
            "5.1.1",
        )
        .replace('\n', "\r\n"),
    );
    let out = archive.run_ok(&["bounces", "import", &maildir.display().to_string()]);
    assert!(
        text(&out.stdout).contains("0 marked bounced, 1 already bounced"),
        "{}",
        text(&out.stdout)
    );
}
