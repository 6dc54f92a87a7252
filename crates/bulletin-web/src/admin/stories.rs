//! Stories: the desk's list, the editor (new, save, preview, conflicts),
//! publishing, deleting, history and restoring a version.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use bulletin_core::staff::Role;
use bulletin_core::{IssueStatus, Story};
use bulletin_store::{DeskQuery, DeskState, SaveOutcome, StoreError};
use minijinja::context;
use minijinja::value::{Serde, Value};

use super::extract::role;
use super::render::{Answer, done, message, not_found, note_text, page, redirect, refused};
use super::{Staff, StaffForm, diff, forms};
use crate::AppState;
use crate::error::{Failure, HttpError};

const PAGE_SIZE: u32 = 50;

pub async fn story_list(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<HashMap<String, String>>,
) -> Answer {
    let get = |k: &str| q.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let page_number: u32 = get("page")
        .and_then(|p| p.parse().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1);
    let query = DeskQuery {
        state: get("state").and_then(DeskState::parse),
        tag: get("tag").map(str::to_owned),
        issue: get("issue").and_then(|n| n.parse().ok()),
        author: get("author").map(str::to_owned),
        text: get("q").map(|t| t.chars().take(200).collect()),
        offset: (page_number - 1).saturating_mul(PAGE_SIZE),
        limit: PAGE_SIZE,
    };
    let (entries, total) = state.store.desk(&query).await?;
    let tags = state
        .store
        .tags()
        .await
        .map(|t| t.into_iter().map(|(t, _)| t.name).collect::<Vec<_>>())
        .unwrap_or_default();
    let stories: Vec<Value> = entries
        .iter()
        .map(|e| {
            context! {
                slug => e.slug.clone(), headline => e.headline.clone(), date => e.date.to_string(),
                issue => e.issue, state => e.state.as_str(), author => e.author.clone(),
                waiting => waiting_label(&e.waiting, e.publish_at),
            }
        })
        .collect();
    let pages = total.div_ceil(u64::from(PAGE_SIZE)).max(1);
    let mut filters: Vec<(String, String)> = ["state", "tag", "issue", "author", "q"]
        .iter()
        .filter_map(|k| get(k).map(|v| ((*k).to_owned(), v.to_owned())))
        .collect();
    let link = |p: u64, filters: &mut Vec<(String, String)>| {
        filters.retain(|(k, _)| k != "page");
        filters.push(("page".into(), p.to_string()));
        let qs = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(filters.iter())
            .finish();
        format!("/admin/?{qs}")
    };
    let previous =
        (u64::from(page_number) > 1).then(|| link(u64::from(page_number) - 1, &mut filters));
    let next =
        (u64::from(page_number) < pages).then(|| link(u64::from(page_number) + 1, &mut filters));
    Ok(page(
        &state,
        Some(&staff),
        StatusCode::OK,
        "admin_stories.html",
        context! {
            stories => stories, total => total, page => page_number, pages => pages,
            previous => previous, next => next, tags => tags,
            f_state => get("state"), f_tag => get("tag"), f_issue => get("issue"),
            f_author => get("author"), f_q => get("q"),
            note => note_text(get("note")),
        },
    ))
}

/// Issues a story can be put in when created: those not published yet.
async fn open_issues(state: &AppState) -> Vec<Value> {
    state
        .store
        .issue_list()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|i| i.status != IssueStatus::Published)
        .map(|i| context! { number => i.number, date => i.date.map(|d| d.to_string()), status => i.status.as_str() })
        .collect()
}

async fn tag_names(state: &AppState) -> Vec<String> {
    state
        .store
        .tags()
        .await
        .map(|t| t.into_iter().map(|(t, _)| t.name).collect())
        .unwrap_or_default()
}

/// Everything the editor page shows.
struct EditorView<'a> {
    slug: Option<&'a str>,
    fields: &'a forms::StoryFields,
    version: u32,
    state: Option<DeskState>,
    errors: Vec<String>,
    preview: Option<&'a Story>,
    conflict: Option<Value>,
    note: Option<&'static str>,
    can_publish: bool,
}

async fn editor(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    view: EditorView<'_>,
) -> Answer {
    let publication = state.store.publication().await?;
    let preview = view.preview.map(|story| {
        let mut v = crate::pages::StoryView::new(story);
        // Staff see the whole story, subscribers' part included.
        v.body = story.body.clone();
        v.locked = false;
        let mut text = Vec::new();
        let _ = bulletin_text::write_story(&mut text, story, None, true);
        context! {
            story => Serde(&v),
            newsletter => String::from_utf8_lossy(&text).into_owned(),
        }
    });
    Ok(page(
        state,
        Some(staff),
        status,
        "admin_story.html",
        context! {
            slug => view.slug,
            f => Serde(view.fields),
            version => view.version,
            state => view.state.map(DeskState::as_str),
            errors => view.errors,
            preview => preview,
            conflict => view.conflict,
            note => view.note,
            tag_suggestions => tag_names(state).await,
            issues => open_issues(state).await,
            can_tag => staff.role() >= Role::Editor,
            can_publish => view.can_publish,
            default_credit => publication.credit,
        },
    ))
}

pub async fn new_story(State(state): State<AppState>, staff: Staff) -> Answer {
    let publication = state.store.publication().await?;
    let fields = forms::StoryFields {
        credit: publication.credit,
        date: state.clock_now().strftime("%Y-%m-%d").to_string(),
        access: publication.default_access.as_str().into(),
        ..Default::default()
    };
    editor(
        &state,
        &staff,
        StatusCode::OK,
        EditorView {
            slug: None,
            fields: &fields,
            version: 0,
            state: None,
            errors: vec![],
            preview: None,
            conflict: None,
            note: None,
            can_publish: false,
        },
    )
    .await
}

pub async fn create_story(
    State(state): State<AppState>,
    StaffForm { staff, form, .. }: StaffForm<role::Contributor>,
) -> Answer {
    let mut fields = forms::StoryFields::from_form(&form);
    if staff.role() < Role::Editor {
        // Contributors write; editors tag.
        fields.tags.clear();
    }
    let publication = state.store.publication().await?;
    let story = match fields.to_story(&publication, None) {
        Ok(s) => s,
        Err(errors) => {
            return editor(
                &state,
                &staff,
                StatusCode::UNPROCESSABLE_ENTITY,
                EditorView {
                    slug: None,
                    fields: &fields,
                    version: 0,
                    state: None,
                    errors,
                    preview: None,
                    conflict: None,
                    note: None,
                    can_publish: false,
                },
            )
            .await;
        }
    };
    if form.get("action") == Some("preview") {
        return editor(
            &state,
            &staff,
            StatusCode::OK,
            EditorView {
                slug: None,
                fields: &fields,
                version: 0,
                state: None,
                errors: vec![],
                preview: Some(&story),
                conflict: None,
                note: None,
                can_publish: false,
            },
        )
        .await;
    }
    match state
        .store
        .save_story(story, None, "save", &staff.actor(), state.now())
        .await
    {
        Ok(SaveOutcome::Saved { slug, .. }) => {
            Ok(redirect(&format!("/admin/stories/{slug}?note=created")))
        }
        Ok(SaveOutcome::Conflict { .. }) => {
            Err(Failure::Store(StoreError::Corrupt("a new story conflicted".into())).into())
        }
        Err(StoreError::InvalidStory { source, .. }) => {
            editor(
                &state,
                &staff,
                StatusCode::UNPROCESSABLE_ENTITY,
                EditorView {
                    slug: None,
                    fields: &fields,
                    version: 0,
                    state: None,
                    errors: vec![source.to_string()],
                    preview: None,
                    conflict: None,
                    note: None,
                    can_publish: false,
                },
            )
            .await
        }
        Err(e) => Err(refused(&state, &staff, e)),
    }
}

/// May this staff member edit this story? Contributors: their own drafts only.
fn may_edit(staff: &Staff, desk: &bulletin_store::DeskStory) -> bool {
    staff.role() >= Role::Editor
        || (desk.state == DeskState::Draft
            && desk.author.as_deref() == Some(staff.session.email.as_str()))
}

async fn load_for_edit(
    state: &AppState,
    staff: &Staff,
    slug: &str,
) -> Result<bulletin_store::DeskStory, HttpError<crate::error::AdminPage>> {
    match state.store.desk_story(slug).await? {
        Some(d) if may_edit(staff, &d) => Ok(d),
        Some(_) => Err(HttpError::answer(message(
            state,
            Some(staff),
            StatusCode::FORBIDDEN,
            "Not allowed",
            "Contributors can open only their own drafts.",
        ))),
        None => Err(not_found(state, staff, "such story")),
    }
}

pub async fn edit_story(
    State(state): State<AppState>,
    staff: Staff,
    Path(slug): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Answer {
    let desk = load_for_edit(&state, &staff, &slug).await?;
    let fields = forms::StoryFields::of(&desk.story);
    editor(
        &state,
        &staff,
        StatusCode::OK,
        EditorView {
            slug: Some(&slug),
            fields: &fields,
            version: desk.version,
            state: Some(desk.state),
            errors: vec![],
            preview: Some(&desk.story),
            conflict: None,
            note: note_text(q.get("note").map(String::as_str)),
            can_publish: staff.role() >= Role::Editor,
        },
    )
    .await
}

pub async fn save_story(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    StaffForm { staff, form, .. }: StaffForm<role::Contributor>,
) -> Answer {
    let desk = load_for_edit(&state, &staff, &slug).await?;
    let mut fields = forms::StoryFields::from_form(&form);
    if staff.role() < Role::Editor {
        fields.tags = desk.story.tags.join(", ");
    }
    let base: u32 = form
        .get("version")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let publication = state.store.publication().await?;
    let can_publish = staff.role() >= Role::Editor;
    let story = match fields.to_story(&publication, Some(&desk.story)) {
        Ok(s) => s,
        Err(errors) => {
            return editor(
                &state,
                &staff,
                StatusCode::UNPROCESSABLE_ENTITY,
                EditorView {
                    slug: Some(&slug),
                    fields: &fields,
                    version: base,
                    state: Some(desk.state),
                    errors,
                    preview: None,
                    conflict: None,
                    note: None,
                    can_publish,
                },
            )
            .await;
        }
    };
    if form.get("action") == Some("preview") {
        return editor(
            &state,
            &staff,
            StatusCode::OK,
            EditorView {
                slug: Some(&slug),
                fields: &fields,
                version: base,
                state: Some(desk.state),
                errors: vec![],
                preview: Some(&story),
                conflict: None,
                note: None,
                can_publish,
            },
        )
        .await;
    }
    match state
        .store
        .save_story(
            story.clone(),
            Some(base),
            "save",
            &staff.actor(),
            state.now(),
        )
        .await
    {
        Ok(SaveOutcome::Saved { slug, .. }) => {
            Ok(redirect(&format!("/admin/stories/{slug}?note=saved")))
        }
        Ok(SaveOutcome::Conflict {
            current,
            base: base_story,
            by,
        }) => {
            // Nothing was written: show what the other person changed, keep
            // this editor's text in the form, and let them save on top.
            let theirs = diff::story_lines(&current.story);
            let ours = diff::story_lines(&story);
            let from = base_story
                .as_deref()
                .map(diff::story_lines)
                .unwrap_or_default();
            let conflict = context! {
                by => by.clone(),
                version => current.version,
                their_changes => Serde(diff::diff(&from, &theirs)),
                yours_vs_theirs => Serde(diff::diff(&theirs, &ours)),
            };
            editor(&state, &staff, StatusCode::CONFLICT, EditorView {
                slug: Some(&slug), fields: &fields, version: current.version, state: Some(current.state),
                errors: vec![format!(
                    "{by} saved this story while you were editing it, so your save was not made. \
                     Their changes are shown below; your text is still in the form. Save again to \
                     replace their version with yours."
                )],
                preview: None, conflict: Some(conflict), note: None, can_publish,
            }).await
        }
        Err(StoreError::InvalidStory { source, .. }) => {
            editor(
                &state,
                &staff,
                StatusCode::UNPROCESSABLE_ENTITY,
                EditorView {
                    slug: Some(&slug),
                    fields: &fields,
                    version: base,
                    state: Some(desk.state),
                    errors: vec![source.to_string()],
                    preview: None,
                    conflict: None,
                    note: None,
                    can_publish,
                },
            )
            .await
        }
        Err(e) => Err(refused(&state, &staff, e)),
    }
}

pub async fn publish_story(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    StaffForm { staff, .. }: StaffForm<role::Editor>,
) -> Answer {
    let result = state
        .store
        .publish_story(&slug, &staff.actor(), state.now())
        .await;
    done(
        &state,
        &staff,
        result,
        &format!("/admin/stories/{slug}?note=published"),
    )
}

pub async fn unpublish_story(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    StaffForm { staff, .. }: StaffForm<role::Editor>,
) -> Answer {
    let result = state
        .store
        .unpublish_story(&slug, &staff.actor(), state.now())
        .await;
    done(
        &state,
        &staff,
        result,
        &format!("/admin/stories/{slug}?note=unpublished"),
    )
}

pub async fn delete_story(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    StaffForm { staff, .. }: StaffForm<role::Editor>,
) -> Answer {
    let result = state
        .store
        .delete_desk_story(&slug, &staff.actor(), state.now())
        .await;
    done(&state, &staff, result, "/admin/?note=deleted")
}

pub async fn history(
    State(state): State<AppState>,
    staff: Staff,
    Path(slug): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Answer {
    let desk = load_for_edit(&state, &staff, &slug).await?;
    let entries = state.store.history(&slug).await?;
    let latest = entries.last().map_or(0, |h| h.number);
    let pick = |k: &str, default: u32| {
        q.get(k)
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(default)
    };
    let (a, b) = (
        pick("a", latest.saturating_sub(1).max(1)),
        pick("b", latest),
    );
    let find = |n: u32| entries.iter().find(|h| h.number == n);
    let compared = match (find(a), find(b)) {
        (Some(x), Some(y)) => Some(context! {
            a => a, b => b,
            lines => Serde(diff::diff(&diff::story_lines(&x.story), &diff::story_lines(&y.story))),
        }),
        _ => None,
    };
    let rows: Vec<Value> = entries
        .iter()
        .rev()
        .map(|h| context! {
            number => h.number, actor => h.actor.clone(), action => h.action.clone(),
            at => jiff::Timestamp::from_second(h.at).map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default(),
            headline => h.story.headline.clone(),
        })
        .collect();
    Ok(page(
        &state,
        Some(&staff),
        StatusCode::OK,
        "admin_history.html",
        context! {
            slug => slug, headline => desk.story.headline, version => desk.version,
            entries => rows, compared => compared, can_restore => staff.role() >= Role::Editor,
        },
    ))
}

pub async fn restore(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    StaffForm { staff, form, .. }: StaffForm<role::Editor>,
) -> Answer {
    let number: u32 = form.get("number").and_then(|v| v.parse().ok()).unwrap_or(0);
    let base: u32 = form
        .get("version")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let entries = state.store.history(&slug).await?;
    let Some(entry) = entries.into_iter().find(|h| h.number == number) else {
        return Err(not_found(&state, &staff, "such version"));
    };
    match state
        .store
        .save_story(
            entry.story,
            Some(base),
            "restore",
            &staff.actor(),
            state.now(),
        )
        .await
    {
        Ok(SaveOutcome::Saved { slug, .. }) => {
            Ok(redirect(&format!("/admin/stories/{slug}?note=restored")))
        }
        Ok(SaveOutcome::Conflict { by, .. }) => Ok(message(
            &state,
            Some(&staff),
            StatusCode::CONFLICT,
            "Not restored",
            &format!(
                "{by} saved this story since you opened its history. Reload the history and try again."
            ),
        )),
        Err(e) => Err(refused(&state, &staff, e)),
    }
}

/// How an imported draft waits, in words for the story list; `None` for a plain
/// draft or a published story.
pub fn waiting_label(waiting: &str, publish_at: Option<i64>) -> Option<String> {
    match waiting {
        "pending" => Some("pending review".to_owned()),
        "private" => Some("private".to_owned()),
        "future" => Some(
            match publish_at.and_then(|t| jiff::Timestamp::from_second(t).ok()) {
                Some(at) => format!("scheduled {}", at.strftime("%Y-%m-%d %H:%M UTC")),
                None => "scheduled".to_owned(),
            },
        ),
        _ => None,
    }
}
