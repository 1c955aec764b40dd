//! The committed include/smtp.h must be what cbindgen generates from the
//! sources now (plus the C89 fix-ups below). `UPDATE_HEADER=1 cargo test
//! --test header` rewrites it.

use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// cbindgen's output, made valid C89 with -pedantic: no `//` comments and
/// no comma after the last enumerator (cbindgen emits both).
fn generate() -> String {
    let config = cbindgen::Config::from_file(root().join("cbindgen.toml")).expect("cbindgen.toml");
    let mut out = Vec::new();
    cbindgen::Builder::new()
        .with_crate(root())
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut out);
    let text = String::from_utf8(out).expect("UTF-8 header");
    text.replace("#endif // __cplusplus", "#endif /* __cplusplus */")
        .replace("#endif  // __cplusplus", "#endif  /* __cplusplus */")
        .replace("}  // extern \"C\"", "}  /* extern \"C\" */")
        .replace(",\n} ", "\n} ")
}

#[test]
fn header_matches_sources() {
    let fresh = generate();
    let path = root().join("include/smtp.h");
    if std::env::var_os("UPDATE_HEADER").is_some() {
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "include/smtp.h differs from the sources: run UPDATE_HEADER=1 cargo test --test header and commit it"
    );
}

/// The version macros follow Cargo.toml.
#[test]
fn header_version_macros() {
    let header = generate();
    for (name, value) in [
        ("SMTP_VERSION_MAJOR", env!("CARGO_PKG_VERSION_MAJOR")),
        ("SMTP_VERSION_MINOR", env!("CARGO_PKG_VERSION_MINOR")),
        ("SMTP_VERSION_PATCH", env!("CARGO_PKG_VERSION_PATCH")),
    ] {
        assert!(header.contains(&format!("#define {name} {value}\n")), "{name} is not {value} in smtp.h");
    }
}

/// Everything the header declares is in the library's namespace, and it
/// holds no `//` comment (C89) outside its block comments.
#[test]
fn header_names_are_prefixed() {
    let header = generate();
    for line in header.lines() {
        if let Some(rest) = line.strip_prefix("#define ") {
            assert!(rest.starts_with("SMTP_") || rest == "SMTP_H", "unprefixed macro: {line}");
        }
        // A `//` inside a block comment (a proxy URL's) is no comment.
        let in_block_comment = line.trim_start().starts_with('*') || line.trim_start().starts_with("/*");
        assert!(in_block_comment || !line.contains("//"), "C99 comment in the header: {line}");
    }
}

/// The functions the header declares (a line, outside comments, whose
/// first `(` follows a `smtp_` name), in order.
fn declared_functions(header: &str) -> Vec<String> {
    let body = header.split("extern \"C\" {").nth(1).expect("an extern \"C\" block");
    let mut names = Vec::new();
    for line in body.lines() {
        let t = line.trim_start();
        if t.starts_with('*') || t.starts_with('/') || t.starts_with('#') {
            continue;
        }
        if let Some(open) = t.find('(') {
            let name = t[..open].rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).next().unwrap_or("");
            if name.starts_with("smtp_") {
                names.push(name.to_string());
            }
        }
    }
    names
}

/// The header's opening comment indexes every function it declares, and
/// names none it does not (the index lives in cbindgen.toml's `header`;
/// `python3 docs/mkdocs.py --header-index` prints a fresh one).
#[test]
fn header_index_lists_every_function() {
    let header = generate();
    let declared = declared_functions(&header);
    assert!(declared.len() > 100, "found only {} functions in the header", declared.len());
    let index = header
        .split("Functions, by group")
        .nth(1)
        .and_then(|rest| rest.split("*/").next())
        .expect("the header's opening comment has a \"Functions, by group\" index");
    let indexed: Vec<&str> =
        index.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|w| w.starts_with("smtp_")).collect();
    let missing: Vec<&String> = declared.iter().filter(|n| !indexed.contains(&n.as_str())).collect();
    let stale: Vec<&&str> = indexed.iter().filter(|n| !declared.iter().any(|d| d == **n)).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "the function index in cbindgen.toml's header is out of date (missing {missing:?}, not declared \
         {stale:?}): paste `python3 docs/mkdocs.py --header-index` into it and run UPDATE_HEADER=1 \
         cargo test --test header"
    );
}
