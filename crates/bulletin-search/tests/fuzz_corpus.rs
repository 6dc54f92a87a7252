//! Replays the fuzz corpus through the function the fuzz target calls (see
//! `bulletin_test_support::replay_fuzz_corpus` and `scripts/fuzz.sh`).

#[test]
fn search_query_corpus_replays() {
    bulletin_test_support::replay_fuzz_corpus("search_query", bulletin_search::fuzzing::query);
}

#[test]
fn reading_a_query_is_linear() {
    use bulletin_test_support::work::assert_linear;
    let query = |n: usize| -> String {
        let units = ["alma ata", "\"press freedom\"", "-court", "OR", "baku"];
        let mut q = String::new();
        let mut i = 0;
        while q.len() + 20 < n {
            q.push_str(units[i % units.len()]);
            q.push(' ');
            i += 1;
        }
        q
    };
    let max = bulletin_search::MAX_QUERY_CHARS;
    // Warm the alias table first: it is built once, on the first query.
    bulletin_search::fuzzing::query(b"warm");
    assert_linear("a query", query(max / 2), query(max), 1.25, |q| {
        bulletin_search::fuzzing::query(q.as_bytes())
    });
}
