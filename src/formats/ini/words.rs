//! Values as lists of whitespace-separated words, for `add_words` and `remove_words`
//! (e.g. the kernel flavours in `installonlypkgs`).

/// Words of a value, split on ASCII whitespace.
pub(super) fn split_words(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty())
}

/// The words of all `words`, each once, in order.
pub(super) fn split_words_unique<'a>(words: &[&'a [u8]]) -> Vec<&'a [u8]> {
    let mut out: Vec<&'a [u8]> = Vec::new();
    for word in words.iter().flat_map(|w| split_words(w)) {
        if !out.contains(&word) {
            out.push(word);
        }
    }
    out
}

/// `value` without the `unwanted` words; each kept word keeps the whitespace before it
/// (except the first, which keeps none).
pub(super) fn without_words(value: &[u8], unwanted: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut gap_start = 0;
    let mut i = 0;
    while i < value.len() {
        if value[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let word_start = i;
        while i < value.len() && !value[i].is_ascii_whitespace() {
            i += 1;
        }
        let word = &value[word_start..i];
        if !unwanted.contains(&word) {
            if !out.is_empty() {
                out.extend_from_slice(&value[gap_start..word_start]);
            }
            out.extend_from_slice(word);
        }
        gap_start = i;
    }
    out
}
