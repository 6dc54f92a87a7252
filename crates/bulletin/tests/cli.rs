//! The command line, end to end.

use std::io::Write;
use std::process::Stdio;

use bulletin_test_support::shared;
use serde_json::{Value, json};

use crate::{Archive, http_get, text, write};

fn corpus() -> Option<(String, String)> {
    let path = shared("corpus/tag-archive-political-rights.txt")?;
    let body = std::fs::read_to_string(&path).unwrap();
    Some((path.display().to_string(), body))
}

fn stories_by_slug(export: &Value) -> std::collections::HashMap<String, Value> {
    export["stories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["slug"].as_str().unwrap().to_owned(), s.clone()))
        .collect()
}

#[test]
fn import_the_corpus_and_export_json() {
    let Some((corpus, _)) = corpus() else { return };
    for archive in Archive::each() {
        let out = archive.run_ok(&["import", &corpus]);
        let log = text(&out.stderr);
        assert!(
            log.contains("10 new, 0 updated, 0 unchanged; 8 issues, 1 tags, 4 warnings"),
            "{log}"
        );
        let export: Value = serde_json::from_str(&archive.export(&["--format", "json"])).unwrap();
        assert_eq!(
            export["publication"]["name"],
            "Central Asia & South Caucasus Bulletin"
        );
        let stories = stories_by_slug(&export);
        assert_eq!(stories.len(), 10, "[{}]", archive.name());
        let mut pegasus =
            stories["pegasus-spyware-targets-azerbaijani-and-kazakh-opposition"].clone();
        let body = pegasus["body"].take();
        assert_eq!(body.as_array().unwrap().len(), 7);
        // The unfiltered export is a complete backup: the canonical story plus its
        // times and revisions.
        let record = pegasus.as_object_mut().unwrap();
        for key in ["created_at", "updated_at"] {
            let time = record.remove(key).unwrap();
            assert!(time.as_str().unwrap().ends_with('Z'), "{key}: {time}");
        }
        assert_eq!(record.remove("revisions"), Some(json!([])));
        assert!(
            body[0]
                .as_str()
                .unwrap()
                .starts_with("Officials in Kazakhstan and Azerbaijan")
        );
        assert_eq!(
            pegasus,
            json!({
                "slug": "pegasus-spyware-targets-azerbaijani-and-kazakh-opposition",
                "headline": "Pegasus spyware targets Azerbaijani and Kazakh opposition",
                "dateline": {"places": ["Baku", "Almaty"], "date": "2021-07-18", "year_inferred": false, "credit": "The Bulletin"},
                "body": null,
                "tags": ["political rights"],
                "countries": ["AZ", "KZ"],
                "issue": {"number": 493, "date": "2021-07-22"},
                "first_published": false,
                "copyright": {"holder": "Central Asia & South Caucasus Bulletin", "year": 2021},
                "access": "public",
                "url": "/2021/07/18/pegasus-spyware-targets-azerbaijani-and-kazakh-opposition/"
            }),
            "[{}]",
            archive.name()
        );
        let clamp = &stories["kazakh-authorities-clamp-down-on-anti-china-protests"];
        assert_eq!(clamp["issue"], json!({"number": 471, "date": null}));
        assert_eq!(clamp["first_published"], true);
        let arrest = &stories["azerbaijani-authorities-arrest-opposition-leaders"];
        assert_eq!(arrest["dateline"]["date"], "2020-07-28");
        assert_eq!(arrest["dateline"]["year_inferred"], true);
        // Issues: numbers, dates and stories in issue order.
        let issues = export["issues"].as_array().unwrap();
        let numbers: Vec<u64> = issues
            .iter()
            .map(|i| i["number"].as_u64().unwrap())
            .collect();
        assert_eq!(numbers, [48, 451, 455, 471, 474, 493, 506, 565]);
        let i474 = issues.iter().find(|i| i["number"] == 474).unwrap();
        assert_eq!(i474["date"], "2021-03-05");
        assert_eq!(i474["status"], "published");
        assert_eq!(
            i474["stories"],
            json!([
                "tajik-court-imprisons-son-of-opposition-leader",
                "police-in-almaty-detain-demonstrators",
                "uzbek-police-detain-opposition-leader"
            ])
        );
        // Newest first.
        let dates: Vec<&str> = export["stories"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["dateline"]["date"].as_str().unwrap())
            .collect();
        let mut sorted = dates.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(dates, sorted);
    }
}

#[test]
fn importing_twice_changes_nothing() {
    let Some((corpus, _)) = corpus() else { return };
    for archive in Archive::each() {
        archive.run_ok(&["import", &corpus]);
        let first = archive.export(&["--format", "json"]);
        let out = archive.run_ok(&["import", &corpus]);
        assert!(
            text(&out.stderr).contains("0 new, 0 updated, 10 unchanged"),
            "{}",
            text(&out.stderr)
        );
        assert_eq!(
            archive.export(&["--format", "json"]),
            first,
            "[{}]",
            archive.name()
        );
    }
}

#[test]
fn a_corrected_story_updates_and_keeps_a_revision() {
    let Some((corpus, body)) = corpus() else {
        return;
    };
    for archive in Archive::each() {
        archive.run_ok(&["import", &corpus]);
        let corrected = body.replacen(
            "sentenced Nurzhan Mukhammedov",
            "sentenced activist Nurzhan Mukhammedov",
            1,
        );
        assert_ne!(corrected, body);
        let path = write(&archive.path("corrected.txt"), &corrected);
        let out = archive.run_ok(&["import", &path]);
        assert!(
            text(&out.stderr).contains("0 new, 1 updated, 9 unchanged"),
            "{}",
            text(&out.stderr)
        );
        let export: Value = serde_json::from_str(&archive.export(&["--format", "json"])).unwrap();
        let slug = "kazakh-court-sentences-activist-to-prison-for-ablyazov-links";
        let story = &stories_by_slug(&export)[slug];
        assert!(
            story["body"][0]
                .as_str()
                .unwrap()
                .contains("sentenced activist Nurzhan")
        );
        let url = archive.url();
        let revisions = tokio::runtime::Runtime::new().unwrap().block_on(async {
            let store = bulletin_store::open(&url).await.unwrap();
            store.revisions(slug).await.unwrap()
        });
        assert_eq!(revisions.len(), 1, "[{}]", archive.name());
        assert!(revisions[0].story.body[0].contains("sentenced Nurzhan Mukhammedov"));
    }
}

#[test]
fn bad_input_exits_non_zero_with_a_position_and_changes_nothing() {
    let Some((corpus, body)) = corpus() else {
        return;
    };
    let truncated = &body[..body.find("ENDS").unwrap()];
    let unknown_month = body.replacen("NOV. 2 2021", "NOVV. 2 2021", 1);
    let feb_30 = body.replacen("FEB. 10 2021", "FEB. 30 2021", 1);
    let mut invalid_utf8 = body.clone().into_bytes();
    let at = body.find("Pegasus spyware targets").unwrap();
    invalid_utf8[at + 2] = 0xfe;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "truncated.txt",
            truncated.as_bytes().to_vec(),
            "truncated.txt:3:1: error:",
        ),
        (
            "month.txt",
            unknown_month.into_bytes(),
            "month.txt:15:1: error: unknown month",
        ),
        (
            "feb30.txt",
            feb_30.into_bytes(),
            "feb30.txt:87:8: error: impossible date",
        ),
        (
            "utf8.txt",
            invalid_utf8,
            "utf8.txt:23:3: error: this line is not valid UTF-8",
        ),
    ];
    for archive in Archive::each() {
        archive.run_ok(&["import", &corpus]);
        let before = archive.export(&["--format", "json"]);
        for (name, bytes, expected) in &cases {
            let path = write(&archive.path(name), bytes);
            let out = archive.run(&["import", &path]);
            let log = text(&out.stderr);
            assert!(
                !out.status.success(),
                "[{}] {name} must fail",
                archive.name()
            );
            assert!(
                log.contains(&format!("{}/{expected}", archive.dir.path().display())),
                "[{}] {name}: {log}",
                archive.name()
            );
            assert!(log.contains("nothing was imported"), "{log}");
            // A good file beside the bad one is not imported either.
            let good = write(
                &archive.path("good.txt"),
                body.replace("Pegasus", "Pegasus II"),
            );
            assert!(!archive.run(&["import", &good, &path]).status.success());
            assert_eq!(
                archive.export(&["--format", "json"]),
                before,
                "[{}] {name} changed the archive",
                archive.name()
            );
        }
    }
}

#[test]
fn text_export_round_trips_through_the_store() {
    let Some((corpus, body)) = corpus() else {
        return;
    };
    for archive in Archive::each() {
        archive.run_ok(&["import", &corpus]);
        let exported = archive.export(&["--format", "text", "--tag", "political-rights"]);
        assert!(exported.starts_with("Tag Archives: political rights\n\n"));
        let original = bulletin_text::read_str(&body).unwrap();
        assert_eq!(
            bulletin_text::read_str(&exported).unwrap(),
            original,
            "[{}]",
            archive.name()
        );
        let json = archive.export(&["--format", "json", "--issue", "474"]);
        let keys: Vec<usize> = ["\"publication\"", "\"issues\"", "\"stories\""]
            .iter()
            .map(|k| json.find(k).unwrap())
            .collect();
        assert!(
            keys[0] < keys[1] && keys[1] < keys[2],
            "DESIGN.md's key order"
        );
        let json: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(json["issues"].as_array().unwrap().len(), 1);
        assert_eq!(json["stories"].as_array().unwrap().len(), 3);
        let issue = archive.export(&["--format", "text", "--issue", "474"]);
        assert_eq!(bulletin_text::read_str(&issue).unwrap().stories.len(), 3);
        let out = archive.run(&["export", "--format", "text", "--tag", "no such tag"]);
        assert!(!out.status.success());
        assert!(
            text(&out.stderr).contains("no tag named"),
            "{}",
            text(&out.stderr)
        );
        // -o writes the same bytes to a file.
        let path = archive.path("out.txt");
        archive.run_ok(&[
            "export",
            "--format",
            "text",
            "--tag",
            "political rights",
            "-o",
            path.to_str().unwrap(),
        ]);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), exported);
    }
}

#[test]
fn import_from_standard_input() {
    let Some((_, body)) = corpus() else { return };
    let archive = Archive::sqlite();
    let mut child = archive
        .command()
        .args(["import", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("10 new"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn check_the_corpus() {
    let Some((corpus, _)) = corpus() else { return };
    let archive = Archive::sqlite();
    let out = archive.run(&["check", &corpus]);
    assert!(out.status.success(), "warnings only: exit 0");
    let report = text(&out.stdout);
    let sequence: Vec<&str> = report
        .lines()
        .filter(|l| l.contains("does not fit the sequence"))
        .collect();
    assert_eq!(sequence.len(), 1, "{report}");
    assert!(
        sequence[0].starts_with(&format!("{corpus}:51:1: warning: issue number 48")),
        "{report}"
    );
    assert!(
        report.contains(&format!("{corpus}: 10 stories, 0 errors, 4 warnings")),
        "{report}"
    );
    let bad = write(
        &archive.path("bad.txt"),
        "Headline\n\nJULE 4 2021 (The Bulletin) \u{2014} Text.\n\nENDS\n",
    );
    let out = archive.run(&["check", &bad]);
    assert_eq!(out.status.code(), Some(1));
    let report = text(&out.stdout);
    assert!(
        report.contains(&format!("{bad}:3:1: error: unknown month")),
        "{report}"
    );
    assert!(report.contains("     3 | JULE 4 2021"), "{report}");
}

#[test]
fn gen_is_deterministic_and_clean() {
    let archive = Archive::sqlite();
    let a = archive
        .run_ok(&["gen", "--stories", "300", "--seed", "7"])
        .stdout;
    let b = archive
        .run_ok(&["gen", "--stories", "300", "--seed", "7"])
        .stdout;
    let c = archive
        .run_ok(&["gen", "--stories", "300", "--seed", "8"])
        .stdout;
    assert_eq!(a, b);
    assert_ne!(a, c);
    let path = write(&archive.path("gen.txt"), &a);
    let out = archive.run(&["check", &path]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains(": 300 stories, 0 errors,"),
        "{}",
        text(&out.stdout)
    );
    let out = archive.run_ok(&["import", &path]);
    assert!(
        text(&out.stderr).contains("imported 300 stories"),
        "{}",
        text(&out.stderr)
    );
    // Windows line ends and a BOM read the same.
    let windows = archive.path("gen-crlf.txt");
    archive.run_ok(&[
        "gen",
        "--stories",
        "300",
        "--seed",
        "7",
        "--crlf",
        "--bom",
        "-o",
        windows.to_str().unwrap(),
    ]);
    let out = archive.run_ok(&["import", windows.to_str().unwrap()]);
    assert!(
        text(&out.stderr).contains("0 new, 0 updated, 300 unchanged"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn demo_builds_a_sample_archive() {
    for archive in Archive::each() {
        let out = archive.run_ok(&["demo", "--stories", "120", "--no-serve"]);
        let report = text(&out.stdout);
        assert!(report.contains("stories:  120"), "{report}");
        assert!(report.contains("issues:"), "{report}");
        // Running it again is harmless.
        let again = text(
            &archive
                .run_ok(&["demo", "--stories", "120", "--no-serve"])
                .stdout,
        );
        assert!(again.contains("stories:  120"), "{again}");
    }
}

#[test]
fn demo_serves_the_sample_archive() {
    use std::io::{BufRead, BufReader};
    let archive = Archive::sqlite();
    let mut child = archive
        .command()
        .args(["demo", "--stories", "60", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // A panic below must not leave the server running (it holds the test's
    // output open, and the test run would never end).
    struct KillOnDrop(u32);
    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &self.0.to_string()])
                .status();
        }
    }
    let guard = KillOnDrop(child.id());
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    // First run: a one-time link to create the first admin, then the address.
    let mut setup = None;
    let mut addr = None;
    for line in lines.map_while(Result::ok) {
        if let Some((_, token)) = line.split_once("/admin/setup?token=") {
            setup = token.split(' ').next().map(str::to_owned);
        } else if let Some(rest) = line.split("open http://").nth(1) {
            addr = rest.split('/').next().map(str::to_owned);
            break;
        }
    }
    let addr = addr.expect("demo prints the address to open");
    let setup = setup.expect("a new data directory gets a setup link");
    let get = |path: &str| http_get(&addr, path);
    let page = get(&format!("/admin/setup?token={setup}"));
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("Create the first admin account"), "{page}");
    assert!(get("/admin/setup?token=guess").starts_with("HTTP/1.1 404"));
    let home = get("/");
    assert!(home.starts_with("HTTP/1.1 200"), "{home}");
    assert!(home.contains("<h1>Issue "), "{home}");
    // Feeds link to the address the demo serves on.
    let feed = get("/feed/");
    assert!(
        feed.contains(&format!("<link>http://{addr}/</link>")),
        "{feed}"
    );
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());
    std::mem::forget(guard);
}

#[test]
fn unknown_config_keys_are_refused() {
    let archive = Archive::sqlite();
    write(&archive.path("bulletin.toml"), "colour = \"blue\"\n");
    let out = archive.run(&["export", "--format", "json"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("unknown field"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn files_from_windows_editors() {
    let Some((corpus, body)) = corpus() else {
        return;
    };
    let archive = Archive::sqlite();
    // Notepad's "Unicode": UTF-16 LE with a BOM and CRLF line ends.
    let crlf = body.replace('\n', "\r\n");
    let mut utf16 = vec![0xFF, 0xFE];
    for unit in crlf.encode_utf16() {
        utf16.extend_from_slice(&unit.to_le_bytes());
    }
    let path = write(&archive.path("notepad-unicode.txt"), &utf16);
    let out = archive.run_ok(&["import", &path]);
    assert!(
        text(&out.stderr).contains("10 new"),
        "{}",
        text(&out.stderr)
    );
    // The same stories as the UTF-8 original.
    let out = archive.run_ok(&["import", &corpus]);
    assert!(
        text(&out.stderr).contains("0 new, 0 updated, 10 unchanged"),
        "{}",
        text(&out.stderr)
    );
    // Notepad's "ANSI" (Windows-1252) is not UTF-8: an error with its position.
    let ansi: Vec<u8> = crlf
        .chars()
        .map(|c| match c {
            '\u{2018}' => 0x91,
            '\u{2019}' => 0x92,
            '\u{201c}' => 0x93,
            '\u{201d}' => 0x94,
            '\u{2013}' => 0x96,
            '\u{2014}' => 0x97,
            '\u{a0}' => 0xA0,
            c if c.is_ascii() => c as u8,
            c => panic!("no Windows-1252 byte for {c:?} in this test"),
        })
        .collect();
    let path = write(&archive.path("notepad-ansi.txt"), &ansi);
    let out = archive.run(&["check", &path]);
    assert_eq!(out.status.code(), Some(1));
    let report = text(&out.stdout);
    assert!(
        report.contains(&format!(
            "{path}:3:27: error: this line is not valid UTF-8 (byte 0x93)"
        )),
        "{report}"
    );
    assert!(
        report.contains(&format!(
            "{path}:5:30: error: this line is not valid UTF-8 (byte 0x97)"
        )),
        "{report}"
    );
}

#[test]
fn serve_answers_over_http_and_stops_on_sigterm() {
    use std::io::{BufRead, BufReader};
    let Some((corpus, _)) = corpus() else { return };
    for archive in Archive::each() {
        archive.run_ok(&["import", &corpus]);
        let mut child = archive
            .command()
            .args(["serve", "--addr", "127.0.0.1:0"])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let addr = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|l| {
                let rest = l.split("serving http://").nth(1)?;
                rest.split('/').next().map(str::to_owned)
            })
            .expect("the server says where it listens");
        let response = http_get(&addr, "/tag/political-rights/");
        assert!(
            response.starts_with("HTTP/1.1 200"),
            "[{}] {response}",
            archive.name()
        );
        assert!(response.contains("Tag Archives: political rights"));
        // The search index was built at start-up and answers the API.
        let response = http_get(&addr, "/api/v1/search?q=Pegasus");
        assert!(
            response.starts_with("HTTP/1.1 200"),
            "[{}] {response}",
            archive.name()
        );
        assert!(
            response.contains("\"headline\":\"Pegasus spyware"),
            "{response}"
        );
        // SIGTERM: finish in-flight requests and exit cleanly.
        let term = std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(term.success());
        let status = child.wait().unwrap();
        assert!(
            status.success(),
            "[{}] exit after SIGTERM: {status:?}",
            archive.name()
        );
        let rest: Vec<String> = lines.map_while(Result::ok).collect();
        assert!(
            rest.iter().any(|l| l.contains("bulletin stopped")),
            "{rest:?}"
        );
        // One structured access-log line per request, without query strings.
        assert!(
            rest.iter().any(|l| l.contains("bulletin::access")
                && l.contains("path=/tag/political-rights/")
                && l.contains("status=200")),
            "{rest:?}"
        );
    }
}

#[test]
fn search_and_reindex_from_the_command_line() {
    let Some((corpus, _)) = corpus() else { return };
    for archive in Archive::each() {
        archive.run_ok(&["import", &corpus]);
        let run = |args: &[&str]| {
            let out = archive.command().args(args).output().unwrap();
            (out.status.code(), text(&out.stdout), text(&out.stderr))
        };
        let (code, out, err) = run(&["search", "Alma-Ata"]);
        assert_eq!(code, Some(0), "[{}] {err}", archive.name());
        assert!(
            out.contains("Police in Almaty detain demonstrators"),
            "{out}"
        );
        assert!(out.contains("[Almaty]"), "matches are marked: {out}");
        assert!(err.contains("also searched as Almaty"), "{err}");

        let (code, out, _) = run(&["search", "--json", "--country", "KZ", "detained"]);
        assert_eq!(code, Some(0));
        let v: Value = serde_json::from_str(&out).unwrap();
        assert!(v["total"].as_u64().unwrap() >= 1);
        for hit in v["hits"].as_array().unwrap() {
            assert!(
                hit["countries"].as_array().unwrap().contains(&json!("KZ")),
                "{hit}"
            );
        }
        assert!(v["facets"]["years"].is_array());

        let (code, _, err) = run(&["search", "nosuchwordanywhere"]);
        assert_eq!(code, Some(1), "nothing found: exit 1 like grep; {err}");
        let long = "x ".repeat(600);
        let (code, _, err) = run(&["search", &long]);
        assert_eq!(code, Some(2));
        assert!(err.contains("the limit is 500"), "{err}");
        let (code, _, err) = run(&[
            "search",
            "--from",
            "2022-01-01",
            "--to",
            "2021-01-01",
            "court",
        ]);
        assert_eq!(code, Some(2));
        assert!(err.contains("inverted"), "{err}");
        let (code, _, err) = run(&["search", "--from", "yesterday", "court"]);
        assert_eq!(code, Some(2), "{err}");

        let (code, _, err) = run(&["reindex"]);
        assert_eq!(code, Some(0), "{err}");
        assert!(err.contains("indexed 10 stories"), "{err}");
        let (code, out, _) = run(&["search", "\"political prisoners\"", "--newest"]);
        assert_eq!(code, Some(0));
        assert!(out.contains("[political prisoners]"), "{out}");
    }
}

#[test]
fn staff_accounts_from_the_command_line() {
    const PASSWORD: &str = "correct horse battery staple";
    for archive in Archive::each() {
        let with_stdin = |args: &[&str], input: &str| {
            let mut child = archive
                .command()
                .args(args)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
            let out = child.wait_with_output().unwrap();
            (out.status.code(), text(&out.stdout), text(&out.stderr))
        };
        let name = archive.name();
        let (code, _, err) = with_stdin(
            &["user", "add", " Admin@Example.ORG ", "--role", "admin"],
            &format!("{PASSWORD}\n"),
        );
        assert_eq!(code, Some(0), "[{name}] {err}");
        assert!(err.contains("added admin@example.org (admin)"), "{err}");
        assert!(!err.contains(PASSWORD));

        // Refusals, each with its reason, and nothing added.
        for (args, input, reason) in [
            (
                vec!["user", "add", "admin@example.org", "--role", "editor"],
                PASSWORD,
                "already has an account",
            ),
            (
                vec!["user", "add", "e@example.org", "--role", "owner"],
                PASSWORD,
                "unknown role",
            ),
            (
                vec!["user", "add", "e@example.org", "--role", "editor"],
                "short",
                "at least 12",
            ),
            (
                vec![
                    "user",
                    "add",
                    "e@example.org\r\nBcc: x@y.org",
                    "--role",
                    "editor",
                ],
                PASSWORD,
                "email",
            ),
            (
                vec!["user", "add", "e@example.org", "--role", "editor"],
                "",
                "at least 12",
            ),
            (
                vec!["user", "disable", "admin@example.org"],
                "",
                "last active admin",
            ),
            (
                vec!["user", "disable", "nobody@example.org"],
                "",
                "no account",
            ),
            (
                vec!["user", "reset-password", "nobody@example.org"],
                PASSWORD,
                "no account",
            ),
        ] {
            let (code, _, err) = with_stdin(&args, &format!("{input}\n"));
            assert_eq!(code, Some(1), "[{name}] {args:?}: {err}");
            assert!(err.contains(reason), "[{name}] {args:?}: {err}");
            assert!(!err.contains(PASSWORD));
        }

        let (code, _, err) = with_stdin(
            &["user", "add", "editor@example.org", "--role", "editor"],
            "another long passphrase\n",
        );
        assert_eq!(code, Some(0), "{err}");
        archive.run_ok(&["user", "disable", "editor@example.org"]);
        let out = archive.run_ok(&["user", "list", "--json"]);
        let listed: Value = serde_json::from_str(&text(&out.stdout)).unwrap();
        let listed = listed.as_array().unwrap();
        assert_eq!(listed.len(), 2, "[{name}]");
        assert_eq!(listed[0]["email"], "admin@example.org");
        assert_eq!(listed[1]["role"], "editor");
        assert_eq!(listed[1]["disabled"], true);
        let all = text(&out.stdout);
        assert!(!all.contains("argon2") && !all.contains("hash"), "{all}");
        archive.run_ok(&["user", "enable", "editor@example.org"]);

        // The stored hash is argon2id and checks the password; a reset replaces it.
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let stored = |email: &str| {
            runtime.block_on(async {
                let store = bulletin_store::open(&archive.url()).await.unwrap();
                store.user_credentials(email).await.unwrap().unwrap()
            })
        };
        let (user, hash) = stored("editor@example.org");
        assert!(!user.disabled);
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(bulletin_core::staff::verify_password(
            "another long passphrase",
            &hash
        ));
        let (code, _, err) = with_stdin(
            &["user", "reset-password", "editor@example.org"],
            "a third long passphrase\n",
        );
        assert_eq!(code, Some(0), "{err}");
        let (_, hash) = stored("editor@example.org");
        assert!(bulletin_core::staff::verify_password(
            "a third long passphrase",
            &hash
        ));
        assert!(!bulletin_core::staff::verify_password(
            "another long passphrase",
            &hash
        ));
    }
}
