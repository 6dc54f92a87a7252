//! The functions the fuzz targets call (`fuzz/fuzz_targets/`), so that the
//! corpus replay tests (`tests/fuzz_corpus.rs`) run exactly the same code on
//! stable. Not part of the API.

use bulletin_core::Publication;

use crate::admin::forms::{Form, StoryFields};

/// An admin form body: decoded, read as the story form, turned into a story.
pub fn form(data: &[u8]) {
    let form = Form::parse(data);
    let _ = form.all("tags");
    let fields = StoryFields::from_form(&form);
    let _ = fields.to_story(&Publication::default(), None);
}

/// A one-click unsubscribe body, URL-encoded or `multipart/form-data`.
pub fn one_click(data: &[u8]) {
    let _ = crate::readers::unsubscribe::is_one_click(data);
}
