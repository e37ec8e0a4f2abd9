//! Modules: versioned bundles of files a tenant publishes under `/mod/<name>/<version>/`,
//! described by a `module.json` at their root.

use super::path::FilePath;
use super::semver::Version;
use super::Invalid;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{Map, Value};
use sha2::{Digest, Sha384};
use std::fmt;

/// Longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 500;

/// A module name: `[a-z0-9-]{2,64}`, starting and ending with a letter or digit, no
/// `--`. It is a URL segment, so it gets the same plain form as tenant names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModuleName(String);

impl ModuleName {
    /// Parses user input, case-folding it first (`My-Lib` is `my-lib`).
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let name = input.trim().to_ascii_lowercase();
        if name.len() < 2 {
            return Err("must be at least 2 characters");
        }
        if name.len() > 64 {
            return Err("must be at most 64 characters");
        }
        super::names::check_label(&name)?;
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ModuleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The parsed `module.json`. Unknown fields are ignored, so manifests can grow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub name: ModuleName,
    pub version: Version,
    /// The file importers load; one of the uploaded files.
    pub entry: FilePath,
    pub description: Option<String>,
}

impl Manifest {
    /// Parses `module.json` against the uploaded file list, reporting every bad field at
    /// once as `(field, reason)`.
    pub fn parse(
        json: &[u8],
        files: &[FilePath],
    ) -> Result<Manifest, Vec<(&'static str, Invalid)>> {
        let object = match serde_json::from_slice::<Value>(json) {
            Ok(Value::Object(object)) => object,
            Ok(_) => return Err(vec![("module.json", "must be a JSON object")]),
            Err(_) => return Err(vec![("module.json", "must be valid JSON")]),
        };
        let name = required_str(&object, "name").and_then(ModuleName::parse);
        let version = required_str(&object, "version").and_then(Version::parse);
        let entry = required_str(&object, "entry")
            .and_then(FilePath::parse)
            .and_then(|entry| {
                if files.contains(&entry) {
                    Ok(entry)
                } else {
                    Err("must be one of the uploaded files")
                }
            });
        let description = match object.get("description") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.chars().count() > MAX_DESCRIPTION_CHARS => {
                Err("must be at most 500 characters")
            }
            Some(Value::String(s)) => Ok(Some(s.trim().to_string()).filter(|s| !s.is_empty())),
            Some(_) => Err("must be a string"),
        };
        match (name, version, entry, description) {
            (Ok(name), Ok(version), Ok(entry), Ok(description)) => Ok(Manifest {
                name,
                version,
                entry,
                description,
            }),
            (name, version, entry, description) => Err([
                ("name", name.err()),
                ("version", version.err()),
                ("entry", entry.err()),
                ("description", description.err()),
            ]
            .into_iter()
            .filter_map(|(field, reason)| Some((field, reason?)))
            .collect()),
        }
    }
}

fn required_str<'a>(object: &'a Map<String, Value>, key: &str) -> Result<&'a str, Invalid> {
    match object.get(key) {
        None | Some(Value::Null) => Err("is required"),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err("must be a string"),
    }
}

/// A Subresource Integrity value (`sha384-<base64>`) for `<script integrity=…>`, so
/// pages importing a published module can pin its exact bytes.
pub fn integrity(bytes: &[u8]) -> String {
    format!("sha384-{}", STANDARD.encode(Sha384::digest(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(paths: &[&str]) -> Vec<FilePath> {
        paths.iter().map(|p| FilePath::parse(p).unwrap()).collect()
    }

    #[test]
    fn module_names_are_plain_and_case_folded() {
        assert_eq!(ModuleName::parse("My-Lib2").unwrap().as_str(), "my-lib2");
        assert_eq!(ModuleName::parse("ab").unwrap().to_string(), "ab");
        assert!(ModuleName::parse(&"a".repeat(64)).is_ok());
        for bad in ["", "a", "-ab", "ab-", "a--b", "a_b", "a.b", "a b", "é1"] {
            assert!(ModuleName::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(ModuleName::parse(&"a".repeat(65)).is_err());
    }

    #[test]
    fn parses_a_complete_manifest() {
        let json = br#"{"name": "Confetti", "version": "1.2.0-beta.1", "entry": "src/index.js",
            "description": " Party time ", "license": "MIT"}"#;
        let manifest = Manifest::parse(json, &files(&["module.json", "src/index.js"])).unwrap();
        assert_eq!(manifest.name.as_str(), "confetti");
        assert_eq!(manifest.version.to_string(), "1.2.0-beta.1");
        assert_eq!(manifest.entry.as_str(), "src/index.js");
        assert_eq!(manifest.description.as_deref(), Some("Party time"));
        let bare = br#"{"name": "ab", "version": "0.1.0", "entry": "a.js", "description": null}"#;
        assert_eq!(
            Manifest::parse(bare, &files(&["a.js"]))
                .unwrap()
                .description,
            None
        );
    }

    #[test]
    fn reports_every_bad_field() {
        let json = format!(
            r#"{{"name": "-x", "version": "v1", "entry": "missing.js", "description": "{}"}}"#,
            "d".repeat(501)
        );
        let errors = Manifest::parse(json.as_bytes(), &files(&["a.js"])).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|(field, _)| *field).collect();
        assert_eq!(fields, ["name", "version", "entry", "description"]);
        assert_eq!(errors[2].1, "must be one of the uploaded files");

        let errors = Manifest::parse(br#"{"version": 1, "entry": "../a.js"}"#, &[]).unwrap_err();
        assert_eq!(
            errors,
            vec![
                ("name", "is required"),
                ("version", "must be a string"),
                ("entry", "must not contain '.' or '..' segments"),
            ]
        );
        let errors = Manifest::parse(
            br#"{"name":"ab","version":"1.0.0","entry":"a","description":5}"#,
            &files(&["a"]),
        );
        assert_eq!(
            errors.unwrap_err(),
            vec![("description", "must be a string")]
        );
    }

    #[test]
    fn refuses_anything_but_a_json_object() {
        for json in [&b"[]"[..], b"\"x\"", b"null", b"{", b"", b"\xff"] {
            let errors = Manifest::parse(json, &[]).unwrap_err();
            assert_eq!(errors.len(), 1);
            assert_eq!(errors[0].0, "module.json");
        }
    }

    #[test]
    fn integrity_matches_the_mdn_example() {
        assert_eq!(
            integrity(b"alert('Hello, world.');"),
            "sha384-H8BRh8j48O9oYatfu5AZzq6A9RINhZO5H16dQZngK7T62em8MUt1FLm52t+eX6xO"
        );
    }
}
