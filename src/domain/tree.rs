//! Where a tenant's bytes live in R2. Keys are built from ids, never from names the
//! user chose, so renames touch only metadata (DESIGN §3).

/// Everything a tenant owns starts with this prefix.
pub fn tenant_prefix(tenant_id: &str) -> String {
    format!("t/{tenant_id}/")
}

/// A room's current file (the materialised tree of its head).
pub fn room_file_key(tenant_id: &str, room_id: &str, path: &str) -> String {
    format!("t/{tenant_id}/r/{room_id}/files/{path}")
}

/// The tenant's own listing pages: `/mod/index.html` and `/media/index.html`.
pub fn page_key(tenant_id: &str, page: &str) -> String {
    format!("t/{tenant_id}/pages/{page}")
}

/// Fills a template's `{{tenant}}` and `{{display_name}}` (already HTML-escaped).
pub fn render_template(template: &str, tenant: &str, display_name_html: &str) -> String {
    template
        .replace("{{tenant}}", tenant)
        .replace("{{display_name}}", display_name_html)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_live_under_the_tenant_prefix() {
        let prefix = tenant_prefix("T1");
        assert!(room_file_key("T1", "R1", "index.html").starts_with(&prefix));
        assert_eq!(
            room_file_key("T1", "R1", "a/b.css"),
            "t/T1/r/R1/files/a/b.css"
        );
        assert_eq!(
            page_key("T1", "mod/index.html"),
            "t/T1/pages/mod/index.html"
        );
        assert!(
            !room_file_key("T10", "R1", "x").starts_with(&prefix),
            "prefixes end with '/'"
        );
    }

    #[test]
    fn templates_get_the_tenant_and_escaped_name() {
        let out = render_template(
            "<h1>{{display_name}}</h1><a href=\"/\">{{tenant}}</a>",
            "alice",
            "A &amp; B",
        );
        assert_eq!(out, "<h1>A &amp; B</h1><a href=\"/\">alice</a>");
    }
}
