//! What XML may not do in an export: a document type declaration is refused (it
//! could define entities), no entity is expanded besides XML's five and numeric
//! character references, and the file must be UTF-8. Each check returns the
//! message; the walker places it in the file.

use super::elements::Root;

/// Why a document type declaration is refused; `None` for the harmless bare
/// `<!DOCTYPE rss>` before the root element. One with an internal subset (entity
/// definitions) or an external identifier is refused before anything in it is used.
pub(super) fn doctype_refusal(d: &[u8], root: Root) -> Option<String> {
    let text = String::from_utf8_lossy(d);
    let upper = text.to_ascii_uppercase();
    let what = if upper.contains("<!ENTITY") {
        "declares entities"
    } else if text.contains('[') {
        "has an internal subset"
    } else if upper.contains("SYSTEM") || upper.contains("PUBLIC") {
        "names an external DTD"
    } else if root != Root::NotSeen {
        "stands inside the document"
    } else {
        return None;
    };
    Some(format!(
        "the file's document type declaration (DTD) {what}: DTDs are refused and no entity is ever expanded (a WordPress export has none); this file may be crafted to exhaust memory or read local files"
    ))
}

/// An entity or character reference in text (`r` is what stands between `&` and
/// `;`): XML's five and numeric references only.
pub(super) fn reference(r: &[u8]) -> Result<char, String> {
    let c = match r {
        b"amp" => Some('&'),
        b"lt" => Some('<'),
        b"gt" => Some('>'),
        b"quot" => Some('"'),
        b"apos" => Some('\''),
        [b'#', b'x', hex @ ..] => std::str::from_utf8(hex)
            .ok()
            .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .and_then(char::from_u32)
            .filter(|&c| c != '\0'),
        [b'#', dec @ ..] => std::str::from_utf8(dec)
            .ok()
            .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|d| d.parse::<u32>().ok())
            .and_then(char::from_u32)
            .filter(|&c| c != '\0'),
        _ => {
            let name = String::from_utf8_lossy(r);
            return Err(format!(
                "the entity reference “&{name};” is not defined: bulletin expands no entities besides &amp; &lt; &gt; &quot; &apos; and numeric character references"
            ));
        }
    };
    c.ok_or_else(|| {
        format!(
            "“&{};” is not a valid character reference",
            String::from_utf8_lossy(r)
        )
    })
}

/// Why the XML declaration's encoding is refused; `None` for UTF-8 and ASCII.
pub(super) fn encoding_refusal(encoding: &[u8]) -> Option<String> {
    let encoding = String::from_utf8_lossy(encoding).into_owned();
    let label = encoding.to_ascii_lowercase();
    if matches!(label.as_str(), "utf-8" | "utf8" | "us-ascii" | "ascii") {
        return None;
    }
    Some(format!(
        "the file declares the encoding “{encoding}”; bulletin reads UTF-8 only: convert the file to UTF-8 (e.g. iconv -f {encoding} -t UTF-8), change the declaration to encoding=\"UTF-8\", and import it again"
    ))
}

/// The message for a byte that is not UTF-8.
pub(super) fn not_utf8(byte: u8) -> String {
    format!(
        "the file is not valid UTF-8 here (byte 0x{byte:02X}); bulletin reads UTF-8 only: save the export as UTF-8 and import it again"
    )
}

/// An attribute value's references resolved (XML's five and numeric only).
pub(super) fn unescape(raw: &[u8]) -> Result<String, String> {
    let text = std::str::from_utf8(raw).map_err(|_| {
        "an attribute value is not valid UTF-8; bulletin reads UTF-8 only".to_owned()
    })?;
    if !text.contains('&') {
        return Ok(text.to_owned());
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let Some(semi) = after.find(';') else {
            return Err("an “&” in an attribute value starts no reference".to_owned());
        };
        let name = &after[..semi];
        let c = match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => name
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32)
                .filter(|&c| c != '\0'),
        };
        let Some(c) = c else {
            return Err(format!(
                "the entity reference “&{name};” is not defined: bulletin expands no entities besides &amp; &lt; &gt; &quot; &apos; and numeric character references"
            ));
        };
        out.push(c);
        rest = &after[semi + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_unescaping() {
        assert_eq!(unescape(b"a &amp; b &#233;&#xE9;").unwrap(), "a & b éé");
        assert!(unescape(b"&lol;").unwrap_err().contains("&lol;"));
        assert!(unescape(b"a & b").is_err());
    }
}
