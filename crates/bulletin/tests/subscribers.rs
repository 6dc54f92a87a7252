//! `bulletin subscribers`: CSV in and out, one transaction, consent kept.

use serde_json::Value;

use crate::{Archive, text, write};

fn listed(archive: &Archive) -> Vec<Value> {
    text(&archive.run_ok(&["subscribers", "list", "--json"]).stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn subscribers_come_in_and_go_out_as_csv() {
    for archive in Archive::each() {
        let csv = write(
            &archive.path("list.csv"),
            "Email,Name,Plan\n\
             Reader@Example.org,\"Smith, Jo\",paid\n\
             second@example.org,,free\n\
             third@example.org,Aru,\n",
        );
        let out = archive.run_ok(&["subscribers", "import", &csv]);
        assert!(
            text(&out.stderr).contains("3 new, 0 updated, 0 unchanged"),
            "[{}] {}",
            archive.name(),
            text(&out.stderr)
        );
        let all = listed(&archive);
        assert_eq!(all.len(), 3);
        assert_eq!(all[0]["email"], "reader@example.org");
        assert_eq!(all[0]["name"], "Smith, Jo");
        assert_eq!(all[0]["plan"], "paid");
        assert_eq!(all[0]["status"], "active");
        assert_eq!(all[2]["plan"], "free");

        // One of them unsubscribes; a later import of an old list does not bring
        // them back, though their plan follows it.
        let left = write(
            &archive.path("left.csv"),
            "email,status\nsecond@example.org,unsubscribed\n",
        );
        archive.run_ok(&["subscribers", "import", &left]);
        let out = archive.run_ok(&["subscribers", "import", &csv]);
        assert!(
            text(&out.stderr).contains("1 kept unsubscribed"),
            "{}",
            text(&out.stderr)
        );
        let second = listed(&archive)
            .into_iter()
            .find(|s| s["email"] == "second@example.org")
            .unwrap();
        assert_eq!(second["status"], "unsubscribed");
        let paid = text(
            &archive
                .run_ok(&[
                    "subscribers",
                    "list",
                    "--plan",
                    "paid",
                    "--status",
                    "active",
                ])
                .stdout,
        );
        assert_eq!(paid.lines().count(), 1, "{paid}");

        let exported = text(&archive.run_ok(&["subscribers", "export"]).stdout);
        let mut lines = exported.lines();
        assert_eq!(
            lines.next(),
            Some("email,name,plan,status,created_at,confirmed_at,unsubscribed_at")
        );
        assert!(exported.contains("reader@example.org,\"Smith, Jo\",paid,active,"));
        // The export imports again (into a fresh archive) as the same list.
        let copy = Archive::sqlite();
        let file = write(&copy.path("copy.csv"), &exported);
        copy.run_ok(&["subscribers", "import", &file]);
        let strip = |v: Vec<Value>| -> Vec<(Value, Value, Value, Value)> {
            v.into_iter()
                .map(|s| {
                    (
                        s["email"].clone(),
                        s["name"].clone(),
                        s["plan"].clone(),
                        s["status"].clone(),
                    )
                })
                .collect()
        };
        assert_eq!(strip(listed(&copy)), strip(listed(&archive)));
    }
}

#[test]
fn a_bad_row_stops_the_whole_import() {
    let archive = Archive::sqlite();
    let csv = write(
        &archive.path("bad.csv"),
        "email,name,plan\n\
         good@example.org,Good,free\n\
         not-an-address,Bad,free\n\
         other@example.org,\"Eve\r\nBcc: all@example.org\",free\n\
         third@example.org,Third,gold\n\
         good@example.org,Again,free\n",
    );
    let out = archive.run(&["subscribers", "import", &csv]);
    assert!(!out.status.success());
    let log = text(&out.stderr);
    assert!(log.contains(&format!("{csv}:3:1: error:")), "{log}");
    assert!(log.contains("an address has an @"), "{log}");
    assert!(log.contains("  | not-an-address,Bad,free"), "{log}");
    assert!(log.contains("line breaks or control characters"), "{log}");
    assert!(log.contains(&format!("{csv}:6:")), "{log}");
    assert!(log.contains("plan \"gold\" is not free or paid"), "{log}");
    assert!(log.contains("already on line 2"), "{log}");
    assert!(log.contains("nothing was imported"), "{log}");
    assert!(listed(&archive).is_empty());

    let no_email = write(
        &archive.path("no-email.csv"),
        "address,name\nx@example.org,X\n",
    );
    let out = archive.run(&["subscribers", "import", &no_email]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no `email` column"),
        "{}",
        text(&out.stderr)
    );
}
