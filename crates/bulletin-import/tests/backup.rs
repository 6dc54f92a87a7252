//! The JSON backup: written record by record, read back part by part.

use bulletin_core::backup::{
    BackupDraft, BackupHistory, BackupIssue, BackupRevision, BackupStory, BackupSubscriber,
    BackupUser, Redirect,
};
use bulletin_core::staff::Role;
use bulletin_core::subscriber::{Plan, SubscriberStatus};
use bulletin_core::{
    Access, Copyright, Date, Dateline, IssueRef, IssueStatus, Publication, Story, Tag,
};
use bulletin_import::backup::{Part, Section, Writer, read};

fn story(slug: &str, issue: Option<u32>) -> Story {
    Story {
        slug: slug.to_owned(),
        headline: format!("Headline of {slug}"),
        dateline: Dateline {
            places: vec!["Tbilisi".into()],
            date: Date::new(2021, 7, 18).unwrap(),
            year_inferred: false,
            credit: "The Bulletin".into(),
        },
        body: vec![
            "A first paragraph.".into(),
            "A second, with \"quotes\".".into(),
        ],
        tags: vec!["political rights".into()],
        countries: vec!["GE".into()],
        issue: issue.map(|number| IssueRef {
            number,
            date: Date::new(2021, 7, 22).ok(),
        }),
        first_published: false,
        copyright: Copyright {
            holder: "The Holder".into(),
            year: 2021,
        },
        access: Access::Subscribers,
    }
}

fn parts() -> Vec<Part> {
    let a = story("a", Some(493));
    vec![
        Part::Backup { version: 1 },
        Part::Publication(Publication::default()),
        Part::Tags(vec![Tag::new("political rights")]),
        Part::Users(vec![BackupUser {
            email: "e@example.org".into(),
            role: Role::Editor,
            disabled: false,
            created_at: "2026-11-28T16:30:00Z".into(),
            password_hash: None,
        }]),
        Part::Subscriber(BackupSubscriber {
            email: "reader@example.org".into(),
            name: "A Reader".into(),
            status: SubscriberStatus::Unsubscribed,
            plan: Plan::Paid,
            created_at: 1_700_000_000,
            confirmed_at: Some(1_700_000_100),
            unsubscribed_at: Some(1_700_000_200),
        }),
        Part::Issues(vec![BackupIssue {
            number: 493,
            date: Date::new(2021, 7, 22).ok(),
            status: IssueStatus::Published,
            publish_at: None,
            stories: vec!["a".into()],
        }]),
        Part::Story(Box::new(BackupStory {
            story: a.clone(),
            created_at: "2026-11-28T16:30:00Z".into(),
            updated_at: "2026-11-28T16:31:00Z".into(),
            revisions: vec![BackupRevision {
                number: 1,
                replaced_at: "2026-11-28T16:31:00Z".into(),
                story: story("a", Some(493)).to_json(),
            }],
        })),
        Part::Story(Box::new(BackupStory {
            story: story("b", None),
            created_at: "2026-11-28T16:30:00Z".into(),
            updated_at: "2026-11-28T16:30:00Z".into(),
            revisions: vec![],
        })),
        Part::Draft(Box::new(BackupDraft {
            story: story("c", None).to_json(),
            status: "future".into(),
            publish_at: Some(1_800_000_000),
            issue_position: 0,
            created_at: 1_700_000_000,
            updated_at: 1_700_000_001,
        })),
        Part::History(Box::new(BackupHistory {
            slug: "c".into(),
            number: 1,
            user: None,
            actor: "import".into(),
            action: "import".into(),
            at: 1_700_000_000,
            story: story("c", None).to_json(),
        })),
        Part::Redirect(Redirect {
            from: "/?p=1".into(),
            to: "/2021/07/18/a/".into(),
        }),
    ]
}

fn write_all(parts: &[Part]) -> Vec<u8> {
    let Part::Publication(publication) = &parts[1] else {
        panic!("the fixture starts with the publication")
    };
    let mut w = Writer::new(Vec::new(), publication).unwrap();
    for part in &parts[2..] {
        match part {
            Part::Tags(tags) => {
                w.section(Section::Tags).unwrap();
                tags.iter().for_each(|t| w.tag(t).unwrap());
            }
            Part::Users(users) => users.iter().for_each(|u| w.user(u).unwrap()),
            Part::Subscriber(s) => w.subscriber(s).unwrap(),
            Part::Issues(issues) => issues.iter().for_each(|i| w.issue(i).unwrap()),
            Part::Story(s) => w.story(s).unwrap(),
            Part::Draft(d) => w.draft(d).unwrap(),
            Part::History(h) => w.history(h).unwrap(),
            Part::Redirect(r) => w.redirect(r).unwrap(),
            other => panic!("unexpected {other:?}"),
        }
    }
    w.finish().unwrap()
}

fn read_all(bytes: &[u8]) -> Result<Vec<Part>, String> {
    let mut got = Vec::new();
    read(bytes, &mut |part| {
        got.push(part);
        Ok(())
    })
    .map_err(|e| e.to_string())?;
    Ok(got)
}

#[test]
fn a_backup_reads_back_as_written() {
    let parts = parts();
    let bytes = write_all(&parts);
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.starts_with("{\"format\":\"bulletin-backup\",\"version\":1,\n"));
    // One record a line, so a damaged file says where.
    assert!(text.contains("\n{\"slug\":\"a\",\"headline\":\"Headline of a\""));
    assert!(text.ends_with("}\n"));
    let back = read_all(&bytes).unwrap();
    assert_eq!(back, parts);
    // It is also valid JSON as a whole, and a canonical-story reader sees stories.
    let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(value["stories"][0]["url"], "/2021/07/18/a/");
    assert_eq!(value["stories"][1]["revisions"], serde_json::json!([]));
}

#[test]
fn empty_sections_are_written_and_order_is_kept() {
    let mut w = Writer::new(Vec::new(), &Publication::default()).unwrap();
    w.redirect(&Redirect {
        from: "/x/".into(),
        to: "/y/".into(),
    })
    .unwrap();
    // Going back to an earlier section is refused, not silently misplaced.
    assert!(w.section(Section::Stories).is_err());
    let bytes = w.finish().unwrap();
    let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    for key in [
        "tags",
        "users",
        "subscribers",
        "issues",
        "stories",
        "drafts",
        "history",
    ] {
        assert_eq!(value[key], serde_json::json!([]), "{key}");
    }
    assert_eq!(value["redirects"][0]["to"], "/y/");
}

#[test]
fn a_plain_export_gives_its_stories_only() {
    let plain = serde_json::json!({
        "publication": Publication::default(),
        "issues": [{"number": 493, "date": "2021-07-22", "status": "published", "stories": ["a"]}],
        "stories": [story("a", Some(493)).to_json()],
    });
    let parts = read_all(plain.to_string().as_bytes()).unwrap();
    assert_eq!(parts.len(), 2, "{parts:?}");
    assert!(matches!(&parts[0], Part::Publication(_)));
    let Part::Story(s) = &parts[1] else {
        panic!("{parts:?}")
    };
    assert_eq!(s.story, story("a", Some(493)));
}

#[test]
fn bad_files_say_where_and_why() {
    let cases: [(&str, &str); 6] = [
        ("[1, 2]", "1:1:"),
        (
            "{\"format\":\"bulletin-backup\",\"version\":9}",
            "version 9 is not one this build reads",
        ),
        (
            "{\"format\":\"something-else\"}",
            "this reads \"bulletin-backup\"",
        ),
        (
            "{\"stories\":[],\n\"surprise\":1}",
            "unknown field `surprise`",
        ),
        ("{\"stories\":[{\"slug\":\"x\"}]}", "missing field"),
        ("{\"stories\":[\n", "2:0: EOF"),
    ];
    for (input, needle) in cases {
        let e = read_all(input.as_bytes()).unwrap_err();
        assert!(e.contains(needle), "{input}: {e}");
    }
    // A story that breaks the model's rules is refused with its slug.
    let mut bad = story("bad", None).to_json();
    bad.headline = String::new();
    let e = read_all(serde_json::json!({"stories": [bad]}).to_string().as_bytes()).unwrap_err();
    assert!(e.contains("story \"bad\": headline is empty"), "{e}");
    // The sink's refusal stops the reading with its words.
    let bytes = write_all(&parts());
    let e = read(&bytes[..], &mut |part| match part {
        Part::Story(_) => Err("no stories today".to_owned()),
        _ => Ok(()),
    })
    .unwrap_err();
    assert!(e.message.contains("no stories today"), "{e}");
}

#[test]
fn reading_a_backup_is_linear() {
    let backup = |n: usize| -> Vec<u8> {
        let mut parts = parts()[..2].to_vec();
        for i in 0..n {
            parts.push(Part::Story(Box::new(BackupStory {
                story: story(&format!("s{i}"), None),
                created_at: "2026-11-28T16:30:00Z".into(),
                updated_at: "2026-11-28T16:30:00Z".into(),
                revisions: vec![],
            })));
        }
        write_all(&parts)
    };
    bulletin_test_support::work::assert_linear(
        "backup stories",
        backup(300),
        backup(600),
        1.25,
        |bytes| {
            let mut stories = 0;
            read(bytes.as_slice(), &mut |part| {
                stories += usize::from(matches!(part, Part::Story(_)));
                Ok(())
            })
            .unwrap();
            assert!(stories >= 300);
        },
    );
}
