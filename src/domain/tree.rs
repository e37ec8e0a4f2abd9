//! Where a tenant's bytes live in R2. Keys are built from ids, never from names the
//! user chose, so renames touch only metadata (DESIGN §3).

/// Everything a tenant owns starts with this prefix.
pub fn tenant_prefix(tenant_id: &str) -> String {
    format!("t/{tenant_id}/")
}

/// Everything of one room (files, temporary files, later git packs).
pub fn room_prefix(tenant_id: &str, room_id: &str) -> String {
    format!("t/{tenant_id}/r/{room_id}/")
}

/// A room's current file (the materialised tree of its head).
pub fn room_file_key(tenant_id: &str, room_id: &str, path: &str) -> String {
    format!("t/{tenant_id}/r/{room_id}/files/{path}")
}

/// A pack of the room's git objects (DESIGN §4): immutable, named by its checksum.
pub fn room_git_key(tenant_id: &str, room_id: &str, name: &str) -> String {
    format!("t/{tenant_id}/r/{room_id}/git/{name}")
}

/// A room's temporary file (`tmp/{path}`), removed by the room's alarm after its TTL.
pub fn room_tmp_key(tenant_id: &str, room_id: &str, path: &str) -> String {
    format!("t/{tenant_id}/r/{room_id}/tmp/{path}")
}

/// One module's files, every version.
pub fn module_prefix(tenant_id: &str, module_id: &str) -> String {
    format!("t/{tenant_id}/m/{module_id}/")
}

pub fn module_file_key(tenant_id: &str, module_id: &str, version: &str, path: &str) -> String {
    format!("t/{tenant_id}/m/{module_id}/{version}/{path}")
}

/// A media file, by its id: renames and overwrites never collide with readers.
pub fn media_key(tenant_id: &str, media_id: &str) -> String {
    format!("t/{tenant_id}/media/{media_id}")
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

/// Fills a new room's starter page: `{{title}}` (already HTML-escaped) and `{{tenant}}`.
pub fn render_room_template(template: &str, tenant: &str, title_html: &str) -> String {
    template
        .replace("{{title}}", title_html)
        .replace("{{tenant}}", tenant)
}

/// A file path as it goes into a URL: every byte but unreserved ones and `/` escaped.
pub fn url_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
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
        assert!(room_tmp_key("T1", "R1", "x").starts_with(&room_prefix("T1", "R1")));
        assert!(room_file_key("T1", "R1", "x").starts_with(&room_prefix("T1", "R1")));
        assert!(
            module_file_key("T1", "M1", "1.0.0", "a.js").starts_with(&module_prefix("T1", "M1"))
        );
        assert_eq!(media_key("T1", "X"), "t/T1/media/X");
        assert!(
            !room_file_key("T10", "R1", "x").starts_with(&prefix),
            "prefixes end with '/'"
        );
    }

    #[test]
    fn url_paths_escape_all_but_unreserved() {
        assert_eq!(url_path("a b/ü.png"), "a%20b/%C3%BC.png");
        assert_eq!(url_path("x-1_2.~/y"), "x-1_2.~/y");
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
