//! A small invented issue: one public story, two for subscribers. The sentences
//! are made up for these tests.

use bulletin_core::{
    Access, Copyright, Date, Dateline, Issue, IssueRef, IssueStatus, Publication, Story,
};
use bulletin_mail::{Links, Newsletter};

pub struct Fixture {
    pub publication: Publication,
    pub issue: Issue,
    pub stories: Vec<Story>,
}

impl Fixture {
    pub fn newsletter(&self) -> Newsletter<'_> {
        Newsletter {
            publication: &self.publication,
            issue: &self.issue,
            stories: &self.stories,
        }
    }
}

pub fn links() -> Links {
    Links {
        site: "https://bulletin.example.org".into(),
        unsubscribe: "https://bulletin.example.org/unsubscribe/?t=abc123".into(),
        account: "https://bulletin.example.org/account/".into(),
        subscribe: "https://bulletin.example.org/subscribe/".into(),
    }
}

pub fn story(slug: &str, headline: &str, places: &[&str], day: i8, body: &[&str]) -> Story {
    let publication = test_publication();
    Story {
        slug: slug.into(),
        headline: headline.into(),
        dateline: Dateline {
            places: places.iter().map(|p| (*p).to_owned()).collect(),
            date: Date::new(2021, 7, day).unwrap(),
            year_inferred: false,
            credit: "The Bulletin".into(),
        },
        body: body.iter().map(|p| (*p).to_owned()).collect(),
        tags: vec!["political rights".into()],
        countries: vec![],
        issue: Some(IssueRef {
            number: 493,
            date: Some(Date::constant(2021, 7, 22)),
        }),
        first_published: false,
        copyright: Copyright {
            holder: publication.name,
            year: 2021,
        },
        access: Access::Public,
    }
}

pub fn fixture() -> Fixture {
    let mut water = story(
        "water-council-agrees-summer-quotas",
        "Water council agrees summer quotas",
        &["Tashkent"],
        20,
        &[
            "Delegates from five countries agreed on Tuesday how to share river water until September.",
            "The agreement keeps last year's shares and adds a weekly report on reservoir levels.",
            "Farmers' groups said the reports would help them plan irrigation.",
        ],
    );
    water.first_published = true;
    water.tags = vec!["water".into()];

    let mut court = story(
        "court-hears-appeal-of-jailed-reporter",
        "Court hears appeal of jailed reporter",
        &["Dushanbe"],
        19,
        &[
            "An appeals court began hearing the case of a reporter jailed in March for his articles.",
            "Defence lawyers said the first trial ignored two witnesses who placed him elsewhere. [court-2]",
            "Prosecutors asked the court to keep the sentence of seven years unchanged. [court-3]",
            "Press freedom groups called for the reporter's release & an open hearing. [court-4]",
        ],
    );
    court.access = Access::Subscribers;
    court.tags = vec!["political rights".into(), "media".into()];

    let mut rail = story(
        "rail-freight-through-the-caucasus-grows",
        "Rail freight through the Caucasus grows",
        &["Tbilisi", "Baku"],
        21,
        &[
            "Freight on the line linking the Caspian and Black Sea ports rose by a fifth in the first half of the year.",
            "Operators credited faster border checks introduced in the spring. [rail-2]",
        ],
    );
    rail.access = Access::Subscribers;
    rail.dateline.year_inferred = true;

    let stories = vec![water, court, rail];
    Fixture {
        publication: test_publication(),
        issue: Issue {
            number: 493,
            date: Some(Date::constant(2021, 7, 22)),
            status: IssueStatus::Published,
            stories: stories.iter().map(|s| s.slug.clone()).collect(),
        },
        stories,
    }
}

/// A publication of the tests' own, so that no generated footer repeats a line
/// of the real archive.
pub fn test_publication() -> Publication {
    Publication {
        name: "Steppe and Caucasus Test Letter".into(),
        ..Publication::default()
    }
}
