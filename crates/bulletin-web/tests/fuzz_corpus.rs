//! Replays the fuzz corpora through the functions the fuzz targets call (see
//! `bulletin_test_support::replay_fuzz_corpus` and `scripts/fuzz.sh`).

use bulletin_test_support::replay_fuzz_corpus;
use bulletin_test_support::work::assert_linear;
use bulletin_web::fuzzing;

#[test]
fn form_corpus_replays() {
    replay_fuzz_corpus("form", fuzzing::form);
}

#[test]
fn one_click_corpus_replays() {
    replay_fuzz_corpus("one_click", fuzzing::one_click);
}

#[test]
fn decoding_forms_is_linear() {
    let body = |n: usize| -> Vec<u8> {
        let mut fields: Vec<String> = (0..n).map(|i| format!("tags=t{i}%2C+x")).collect();
        fields.push("headline=A+headline&places=Baku&date=2021-07-18&body=Words.".to_owned());
        fields.join("&").into_bytes()
    };
    assert_linear("a form", body(2_000), body(4_000), 1.25, |b| {
        fuzzing::form(&b)
    });
    let multipart = |n: usize| -> Vec<u8> {
        "--XYZ\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nvalue\r\n"
            .repeat(n)
            .into_bytes()
    };
    assert_linear(
        "a multipart body",
        multipart(2_000),
        multipart(4_000),
        1.25,
        |b| fuzzing::one_click(&b),
    );
}
