//! What is sent: an [`Edition`] (the issue and its stories) and the
//! [`Mailing`] that turns it into each recipient's message.

use bulletin_core::subscriber::Plan;
use bulletin_core::{Issue, Publication, Story};
use bulletin_store::SendJob;
use lettre::Message;

use crate::links::{default_list_id, recipient_links};
use crate::{MailError, Mailer, Newsletter, Reader, message, message_from, render};

/// The issue with its stories, in issue order (`issue.stories` names them).
#[derive(Debug, Clone)]
pub struct Edition {
    pub publication: Publication,
    pub issue: Issue,
    pub stories: Vec<Story>,
}

impl Edition {
    /// The edition as the renderer takes it.
    pub fn newsletter(&self) -> Newsletter<'_> {
        Newsletter {
            publication: &self.publication,
            issue: &self.issue,
            stories: &self.stories,
        }
    }
}

/// An edition going out through one mailer: the list it goes out as and the
/// secret its links are signed with (never shown by `Debug`).
pub struct Mailing {
    pub mailer: Mailer,
    pub edition: Edition,
    /// `List-Id`: the configured one, or `newsletter.` and the site's host.
    pub list_id: String,
    secret: String,
}

impl std::fmt::Debug for Mailing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailing")
            .field("mailer", &self.mailer)
            .field("issue", &self.edition.issue.number)
            .field("list_id", &self.list_id)
            .finish_non_exhaustive()
    }
}

impl Mailing {
    /// `secret` signs the recipients' links (the site secret
    /// [`crate::links::TOKEN_SECRET`]; a throwaway one for a preview).
    pub fn new(mailer: Mailer, edition: Edition, secret: String) -> Mailing {
        let list_id = mailer.list_id().map_or_else(
            || default_list_id(&edition.publication.base_url),
            str::to_owned,
        );
        Mailing {
            mailer,
            edition,
            list_id,
            secret,
        }
    }

    /// The issue's number.
    pub fn issue(&self) -> u32 {
        self.edition.issue.number
    }

    /// One recipient's message: their links, their copy, the fixed Message-ID.
    pub fn message(&self, job: &SendJob) -> Result<Message, MailError> {
        let links = recipient_links(
            &self.edition.publication.base_url,
            self.secret.as_bytes(),
            &job.email,
            &job.message_key,
        );
        let rendered = render(&self.edition.newsletter(), reader_of(job.plan), &links);
        let name = Some(job.name.as_str()).filter(|n| !n.trim().is_empty());
        message_from(
            &rendered,
            self.mailer.from(),
            &job.email,
            name,
            &links,
            &self.list_id,
            Some(&job.message_key),
            self.mailer
                .verp(self.secret.as_bytes(), &job.message_key, &job.email)
                .as_ref(),
        )
    }

    /// Builds one message for a made-up recipient: whatever fails here would
    /// fail for every recipient, so a run checks this before queueing.
    pub fn check(&self) -> Result<(), MailError> {
        let number = self.issue();
        let probe = SendJob {
            id: 0,
            issue: number,
            subscriber_id: 0,
            email: "reader@example.org".into(),
            name: String::new(),
            plan: Plan::Paid,
            message_key: format!("issue-{number}-0"),
            attempt: 1,
        };
        self.message(&probe).map(drop)
    }

    /// A test copy for `to`, outside the queue, with a fresh Message-ID;
    /// `link_key` keeps its unsubscribe link apart from everyone else's (a
    /// fresh `test-` nonce).
    pub fn test_message(
        &self,
        to: &str,
        reader: Reader,
        link_key: &str,
    ) -> Result<Message, MailError> {
        let links = recipient_links(
            &self.edition.publication.base_url,
            self.secret.as_bytes(),
            to,
            link_key,
        );
        let rendered = render(&self.edition.newsletter(), reader, &links);
        message(
            &rendered,
            self.mailer.from(),
            to,
            None,
            &links,
            &self.list_id,
            None,
        )
    }
}

/// The copy a queued row's plan reads.
fn reader_of(plan: Plan) -> Reader {
    match plan {
        Plan::Paid => Reader::Paid,
        Plan::Free => Reader::Free,
    }
}
