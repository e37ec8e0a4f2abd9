//! What a user may say about themselves: a display name and free-form preferences.

use super::Invalid;
use serde_json::{Map, Value};

pub const MAX_PREFERENCES_BYTES: usize = 4 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let name = input.trim();
        if name.is_empty() {
            return Err("must not be empty");
        }
        if name.chars().count() > 64 {
            return Err("must be at most 64 characters");
        }
        if name.chars().any(char::is_control) {
            return Err("must not contain control characters");
        }
        Ok(Self(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Preferences are the web app's business; the platform only bounds their shape and size.
#[derive(Debug, Clone, PartialEq)]
pub struct Preferences(Map<String, Value>);

impl Preferences {
    pub fn parse(value: &Value) -> Result<Self, Invalid> {
        let Value::Object(map) = value else {
            return Err("must be a JSON object");
        };
        if value.to_string().len() > MAX_PREFERENCES_BYTES {
            return Err("must be at most 4 KiB");
        }
        Ok(Self(map.clone()))
    }

    pub fn to_json(&self) -> String {
        Value::Object(self.0.clone()).to_string()
    }
}

/// Escapes text for HTML element content and quoted attributes.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert_eq!(
            DisplayName::parse("  Alice Liddell ").unwrap().as_str(),
            "Alice Liddell"
        );
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse(&"ü".repeat(64)).is_ok());
        assert!(DisplayName::parse(&"ü".repeat(65)).is_err());
        assert!(DisplayName::parse("bell\u{7}").is_err());
    }

    #[test]
    fn preferences_must_be_a_small_object() {
        assert!(Preferences::parse(&json!({"theme": "dark"})).is_ok());
        assert!(Preferences::parse(&json!(["dark"])).is_err());
        assert!(Preferences::parse(&json!("dark")).is_err());
        assert!(Preferences::parse(&json!({"x": "y".repeat(4100)})).is_err());
    }

    #[test]
    fn html_escape_neutralises_markup() {
        assert_eq!(
            html_escape(r#"<b a='1'>"&"#),
            "&lt;b a=&#39;1&#39;&gt;&quot;&amp;"
        );
    }
}
