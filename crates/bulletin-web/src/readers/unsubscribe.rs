//! Unsubscribing: a page with a button, and RFC 8058's one-click POST.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use bulletin_core::subscriber::SubscriberStatus;
use bulletin_core::token::Purpose;

use super::*;
use crate::AppState;

// ---- Unsubscribing --------------------------------------------------------

pub(super) async fn unsubscribe_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Answer {
    async {
        let Some(claims) = verified(&state, &token, Purpose::Unsubscribe).await? else {
            return bad_link(&state, "Sign in to your account to unsubscribe.").await;
        };
        let action = format!("/unsubscribe/{token}");
        let text = format!(
            "Stop sending the newsletter to {}? You can subscribe again at any time.",
            claims.email
        );
        // No form token: the signed link is the authority, as in the
        // one-click POST a mail client makes.
        message(
            &state,
            StatusCode::OK,
            "Unsubscribe",
            &text,
            Some((&action, "Unsubscribe", None)),
        )
        .await
    }
    .await
}

/// RFC 8058: a POST of `List-Unsubscribe=One-Click` to the link unsubscribes,
/// without cookies or any other token. The button on the page posts the same.
pub(super) async fn unsubscribe(
    State(state): State<AppState>,
    Path(token): Path<String>,
    body: axum::body::Bytes,
) -> Answer {
    async {
        let Some(claims) = verified(&state, &token, Purpose::Unsubscribe).await? else {
            return bad_link(&state, "Sign in to your account to unsubscribe.").await;
        };
        let one_click = is_one_click(&body);
        if !one_click {
            return message(
                &state,
                StatusCode::BAD_REQUEST,
                "Unsubscribe",
                "Use the button on the unsubscribe page.",
                None,
            )
            .await;
        }
        let now = state.now();
        if let Some(s) = state.store.subscriber(&claims.email).await?
            && s.status == SubscriberStatus::Active
        {
            state
                .store
                .set_subscriber_status(&claims.email, SubscriberStatus::Unsubscribed, now)
                .await?;
            tracing::info!(target: "bulletin::readers", "a subscriber unsubscribed");
        }
        message(
            &state,
            StatusCode::OK,
            "You are unsubscribed",
            "No more newsletters will be sent to this address. If you pay for a subscription, it is unchanged: sign in to read.",
            None,
        )
        .await
    }
    .await
}

/// Whether a POST body says `List-Unsubscribe=One-Click`, URL-encoded or as
/// `multipart/form-data` (RFC 8058's own example uses the latter).
pub(crate) fn is_one_click(body: &[u8]) -> bool {
    if form_urlencoded::parse(body).any(|(k, v)| k == "List-Unsubscribe" && v == "One-Click") {
        return true;
    }
    let text = String::from_utf8_lossy(body);
    text.split("\r\n\r\n")
        .collect::<Vec<_>>()
        .windows(2)
        .any(|pair| {
            let head = pair[0].to_ascii_lowercase();
            head.contains("content-disposition: form-data")
                && head.contains("name=\"list-unsubscribe\"")
                && pair[1].lines().next().map(str::trim) == Some("One-Click")
        })
}

#[cfg(test)]
mod tests {
    use super::is_one_click;

    #[test]
    fn one_click_bodies() {
        assert!(is_one_click(b"List-Unsubscribe=One-Click"));
        assert!(is_one_click(b"a=b&List-Unsubscribe=One-Click"));
        let multipart = "--XYZ\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--XYZ--\r\n";
        assert!(is_one_click(multipart.as_bytes()));
        assert!(!is_one_click(b""));
        assert!(!is_one_click(b"List-Unsubscribe=Yes"));
        let other = "--XYZ\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nOne-Click\r\n--XYZ--\r\n";
        assert!(!is_one_click(other.as_bytes()));
    }
}
