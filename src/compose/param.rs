//! MIME parameters (`filename`, `name`): a quoted string when the value is
//! ASCII and short, else RFC 2231 extended values (`filename*=utf-8''...`,
//! percent-encoded) split in numbered sections (RFC 2231 3) that keep each
//! line short. And the media type a file name suggests, when the caller
//! gives none.

use super::header::Atom;

/// Characters RFC 2231 7 lets stand unencoded (attribute-char).
fn attr_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b)
}

/// `name=value` parameter atoms, each to follow a `;`.
pub fn param(name: &str, value: &str) -> Vec<Atom> {
    let plain = value.bytes().all(|b| (32..127).contains(&b));
    if plain && value.len() + name.len() < 60 {
        let q = value.replace('\\', "\\\\").replace('"', "\\\"");
        return vec![Atom { space: " ".into(), text: format!("{name}=\"{q}\"") }];
    }
    // Percent-encode, then cut into sections of at most ~40 encoded
    // characters without splitting an escape.
    let mut pieces: Vec<String> = vec![String::new()];
    for b in value.bytes() {
        let enc = if attr_char(b) { (b as char).to_string() } else { format!("%{b:02X}") };
        if pieces.last().expect("one piece at least").len() + enc.len() > 40 {
            pieces.push(String::new());
        }
        pieces.last_mut().expect("one piece at least").push_str(&enc);
    }
    if pieces.len() == 1 {
        return vec![Atom { space: " ".into(), text: format!("{name}*=utf-8''{}", pieces[0]) }];
    }
    pieces
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let charset = if i == 0 { "utf-8''" } else { "" };
            Atom { space: " ".into(), text: format!("{name}*{i}*={charset}{p}") }
        })
        .collect()
}

/// `value; p1; p2` as atoms: the semicolons go on the atoms before them.
pub fn with_params(value: &str, params: Vec<Vec<Atom>>) -> Vec<Atom> {
    let mut out = vec![Atom { space: String::new(), text: value.to_string() }];
    for p in params {
        for a in p {
            out.last_mut().expect("the value first").text.push(';');
            out.push(a);
        }
    }
    out
}

/// A media type from a file name's extension; application/octet-stream
/// when unknown (RFC 2046 4.5.1).
pub fn guess_type(filename: &str) -> &'static str {
    let ext = filename.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "txt" | "text" | "log" => "text/plain",
        "html" | "htm" => "text/html",
        "csv" => "text/csv",
        "css" => "text/css",
        "md" => "text/markdown",
        "ics" => "text/calendar",
        "xml" => "application/xml",
        "json" => "application/json",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        "tar" => "application/x-tar",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "odt" => "application/vnd.oasis.opendocument.text",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        "mp3" => "audio/mpeg",
        "ogg" => "audio/ogg",
        "mp4" => "video/mp4",
        "eml" => "message/rfc822",
        _ => "application/octet-stream",
    }
}

/// A media type as the caller may give it: `type/subtype` of token
/// characters (RFC 2045 5.1), parameters not included.
pub fn valid_type(t: &str) -> bool {
    let token =
        |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?=".contains(&b));
    matches!(t.split_once('/'), Some((a, b)) if token(a) && token(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_names_are_quoted() {
        assert_eq!(param("filename", "report.pdf")[0].text, "filename=\"report.pdf\"");
        assert_eq!(param("filename", "a \"b\".txt")[0].text, "filename=\"a \\\"b\\\".txt\"");
    }

    #[test]
    fn other_names_are_rfc2231() {
        assert_eq!(param("filename", "Zoë.txt")[0].text, "filename*=utf-8''Zo%C3%AB.txt");
        let long = "Überweisungsträger für das Jahr 2024 (endgültige Fassung).pdf";
        let atoms = param("filename", long);
        assert!(atoms.len() > 1);
        assert!(atoms[0].text.starts_with("filename*0*=utf-8''"));
        assert!(atoms[1].text.starts_with("filename*1*="));
        let joined: String =
            atoms.iter().map(|a| a.text.split_once('=').unwrap().1.trim_start_matches("utf-8''")).collect();
        let bytes = crate::compose::encode::tests::unhex(&joined, b'%');
        assert_eq!(String::from_utf8(bytes).unwrap(), long);
    }

    #[test]
    fn types() {
        assert_eq!(guess_type("x.PDF"), "application/pdf");
        assert_eq!(guess_type("noext"), "application/octet-stream");
        assert!(valid_type("image/png"));
        for bad in ["image", "image/", "a/b; x=y", "a b/c"] {
            assert!(!valid_type(bad), "{bad}");
        }
    }
}
