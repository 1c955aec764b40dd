//! The committed include/smtp.h must be what cbindgen generates from the
//! sources now. `UPDATE_HEADER=1 cargo test --test header` rewrites it.

use std::path::PathBuf;

#[test]
fn header_matches_sources() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml");
    let mut fresh = Vec::new();
    cbindgen::Builder::new()
        .with_crate(&root)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut fresh);
    let path = root.join("include/smtp.h");
    if std::env::var_os("UPDATE_HEADER").is_some() {
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "include/smtp.h differs from the sources: run UPDATE_HEADER=1 cargo test --test header and commit it"
    );
}

/// The version macros in the header follow Cargo.toml.
#[test]
fn header_version_macros() {
    let header = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("include/smtp.h")).unwrap();
    for (name, value) in [
        ("SMTP_VERSION_MAJOR", env!("CARGO_PKG_VERSION_MAJOR")),
        ("SMTP_VERSION_MINOR", env!("CARGO_PKG_VERSION_MINOR")),
        ("SMTP_VERSION_PATCH", env!("CARGO_PKG_VERSION_PATCH")),
    ] {
        assert!(header.contains(&format!("#define {name} {value}\n")), "{name} is not {value} in smtp.h");
    }
}

/// Everything the header declares is in the library's namespace.
#[test]
fn header_names_are_prefixed() {
    let header = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("include/smtp.h")).unwrap();
    for line in header.lines() {
        if let Some(rest) = line.strip_prefix("#define ") {
            assert!(rest.starts_with("SMTP_"), "unprefixed macro: {line}");
        }
    }
}
