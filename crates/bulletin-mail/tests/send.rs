//! The test send: the message goes over real SMTP to a minimal server on a
//! loopback port, which records what it was given.

use bulletin_mail::{Reader, message, render, send, sender, smtp_transport};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::common::{fixture, links};

/// What one SMTP session delivered.
#[derive(Debug, Default)]
struct Received {
    mail_from: String,
    rcpt_to: Vec<String>,
    data: String,
}

/// Serves one SMTP session: enough of RFC 5321 for one message.
async fn serve_one(listener: TcpListener) -> Received {
    let (socket, _) = listener.accept().await.unwrap();
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    let mut received = Received::default();
    write
        .write_all(b"220 localhost test SMTP\r\n")
        .await
        .unwrap();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await.unwrap() == 0 {
            break;
        }
        let command = line.trim_end().to_owned();
        let upper = command.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            b"250-localhost\r\n250 8BITMIME\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            received.mail_from = command[10..].to_owned();
            b"250 OK\r\n"
        } else if upper.starts_with("RCPT TO:") {
            received.rcpt_to.push(command[8..].to_owned());
            b"250 OK\r\n"
        } else if upper == "DATA" {
            write.write_all(b"354 go ahead\r\n").await.unwrap();
            loop {
                line.clear();
                lines.read_line(&mut line).await.unwrap();
                if line == ".\r\n" {
                    break;
                }
                // Undo dot-stuffing (RFC 5321 4.5.2).
                let l = line.strip_prefix('.').unwrap_or(&line);
                received.data.push_str(l);
            }
            b"250 queued\r\n"
        } else if upper == "QUIT" {
            write.write_all(b"221 bye\r\n").await.unwrap();
            break;
        } else {
            b"250 OK\r\n"
        };
        write.write_all(reply).await.unwrap();
    }
    received
}

#[tokio::test]
async fn a_test_send_delivers_the_message_to_one_address() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(serve_one(listener));

    let f = fixture();
    let rendered = render(&f.newsletter(), Reader::Paid, &links());
    let from = sender(Some("The Bulletin"), "news@bulletin.example.org").unwrap();
    let m = message(
        &rendered,
        &from,
        "editor@example.org",
        None,
        &links(),
        "newsletter.bulletin.example.org",
        Some("issue-1-1"),
    )
    .unwrap();
    let expected = String::from_utf8(m.formatted()).unwrap();
    assert!(
        expected.contains("\r\nMessage-ID: <issue-1-1@bulletin.example.org>\r\n"),
        "{expected}"
    );

    let transport = smtp_transport(&format!("smtp://127.0.0.1:{port}")).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(30), send(&transport, m))
        .await
        .unwrap()
        .unwrap();
    drop(transport);
    let received = tokio::time::timeout(std::time::Duration::from_secs(30), server)
        .await
        .unwrap()
        .unwrap();

    assert!(
        received.mail_from.contains("<news@bulletin.example.org>"),
        "{received:?}"
    );
    assert_eq!(received.rcpt_to.len(), 1);
    assert!(received.rcpt_to[0].contains("<editor@example.org>"));
    assert_eq!(received.data.trim_end(), expected.trim_end());
}

#[test]
fn a_bad_smtp_url_is_an_error() {
    assert!(smtp_transport("not a url").is_err());
    assert!(smtp_transport("ftp://example.org").is_err());
}

#[tokio::test]
async fn one_connection_carries_message_after_message() {
    use bulletin_mail::{Mailer, SmtpSettings};
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    // serve_one accepts one session only: both messages must share it.
    let server = tokio::spawn(serve_one(listener));
    let mailer = Mailer::new(&SmtpSettings {
        url: format!("smtp://127.0.0.1:{port}"),
        from: "news@bulletin.example.org".into(),
        from_name: None,
        list_id: None,
        per_second: 20,
        dkim: Vec::new(),
        bounce_address: None,
    })
    .unwrap();
    let from = sender(None, "news@bulletin.example.org").unwrap();
    // A line that starts with a dot must arrive as it was (transparency).
    let messages: Vec<_> = ["first", "second"]
        .iter()
        .map(|word| {
            bulletin_mail::lettre::Message::builder()
                .from(from.clone())
                .to(format!("{word}@example.org").parse().unwrap())
                .subject(*word)
                .body(format!(
                    "{word} line\r\n.starts with a dot\r\n..two dots\r\n"
                ))
                .unwrap()
        })
        .collect();
    let mut connection = mailer.connect().await.unwrap();
    for m in &messages {
        tokio::time::timeout(std::time::Duration::from_secs(30), connection.send(m))
            .await
            .unwrap()
            .unwrap();
    }
    assert!(connection.is_open().await);
    connection.quit().await;
    let received = tokio::time::timeout(std::time::Duration::from_secs(30), server)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(received.rcpt_to.len(), 2, "{received:?}");
    assert!(received.rcpt_to[1].contains("<second@example.org>"));
    let expected: String = messages
        .iter()
        .map(|m| String::from_utf8(m.formatted()).unwrap())
        .collect::<Vec<_>>()
        .join("");
    // The server keeps each message's data up to the line before the dot.
    assert_eq!(
        received.data.replace("\r\n", "\n").trim_end(),
        expected.replace("\r\n", "\n").trim_end()
    );
    assert!(
        received
            .data
            .contains("\r\n.starts with a dot\r\n..two dots\r\n")
    );
}

#[test]
fn a_mailer_is_made_without_a_runtime_and_never_shows_the_password() {
    use bulletin_mail::{Mailer, SmtpSettings};
    let settings = |url: &str| SmtpSettings {
        url: url.into(),
        from: "news@bulletin.example.org".into(),
        from_name: None,
        list_id: None,
        per_second: 20,
        dkim: Vec::new(),
        bounce_address: None,
    };
    let mailer = Mailer::new(&settings("smtps://u:hunter2@mail.example.org")).unwrap();
    assert_eq!(mailer.server(), "smtps://u:***@mail.example.org");
    assert!(!format!("{mailer:?}").contains("hunter2"));
    let err = Mailer::new(&settings("imap://u:hunter2@mail.example.org"))
        .unwrap_err()
        .to_string();
    assert!(!err.contains("hunter2") && err.contains("u:***@"), "{err}");
}
