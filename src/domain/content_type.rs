//! The `Content-Type` a stored file is served with, from its extension alone: never
//! sniffed from the bytes, so an upload cannot turn itself into HTML.

use super::path::extension_of;

/// The content type for a path, by its (case-insensitive) extension. Text types say
/// `charset=utf-8` so browsers do not guess; anything unknown is a plain download.
pub fn for_path(path: &str) -> &'static str {
    let Some(ext) = extension_of(path) else {
        return "application/octet-stream";
    };
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" | "map" => "application/json; charset=utf-8",
        "txt" => "text/plain; charset=utf-8",
        "md" => "text/markdown; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "xml" => "application/xml; charset=utf-8",
        "svg" => "image/svg+xml; charset=utf-8",
        "webmanifest" => "application/manifest+json; charset=utf-8",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "bmp" => "image/bmp",
        "mp3" => "audio/mpeg",
        "ogg" | "oga" | "opus" => "audio/ogg",
        "wav" => "audio/wav",
        "flac" => "audio/flac",
        "m4a" => "audio/mp4",
        "aac" => "audio/aac",
        "mp4" | "m4v" => "video/mp4",
        "webm" => "video/webm",
        "ogv" => "video/ogg",
        "mov" => "video/quicktime",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "pdf" => "application/pdf",
        "wasm" => "application/wasm",
        "glb" => "model/gltf-binary",
        "gltf" => "model/gltf+json",
        "zip" => "application/zip",
        _ => "application/octet-stream",
    }
}

/// Whether a content type is an HTML document (parameters and case ignored). SVG can
/// run scripts too, so callers guarding against active content must consider it as well.
pub fn is_html(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("text/html")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_types_carry_a_charset() {
        for path in [
            "index.html",
            "a.htm",
            "s.css",
            "app.js",
            "m.mjs",
            "d.json",
            "app.js.map",
            "r.txt",
            "README.md",
            "t.csv",
            "f.xml",
            "i.svg",
            "site.webmanifest",
        ] {
            assert!(for_path(path).ends_with("; charset=utf-8"), "{path}");
        }
        assert_eq!(for_path("a/b/App.JS"), "text/javascript; charset=utf-8");
    }

    #[test]
    fn media_fonts_and_binaries_have_their_types() {
        assert_eq!(for_path("a.PNG"), "image/png");
        assert_eq!(for_path("a.jpeg"), "image/jpeg");
        assert_eq!(for_path("a.jpg"), "image/jpeg");
        assert_eq!(for_path("a.avif"), "image/avif");
        assert_eq!(for_path("song.opus"), "audio/ogg");
        assert_eq!(for_path("song.m4a"), "audio/mp4");
        assert_eq!(for_path("clip.webm"), "video/webm");
        assert_eq!(for_path("clip.mov"), "video/quicktime");
        assert_eq!(for_path("f.woff2"), "font/woff2");
        assert_eq!(for_path("doc.pdf"), "application/pdf");
        assert_eq!(for_path("m.wasm"), "application/wasm");
        assert_eq!(for_path("scene.glb"), "model/gltf-binary");
        assert_eq!(for_path("b.zip"), "application/zip");
    }

    #[test]
    fn unknown_and_extensionless_files_are_downloads() {
        for path in [
            "a.exe",
            "Makefile",
            ".htaccess",
            "dir.d/file",
            "x.",
            "a.php",
        ] {
            assert_eq!(for_path(path), "application/octet-stream", "{path}");
        }
    }

    #[test]
    fn recognises_html_with_or_without_parameters() {
        assert!(is_html("text/html"));
        assert!(is_html("Text/HTML; charset=utf-8"));
        assert!(is_html(for_path("x.htm")));
        assert!(!is_html("text/plain"));
        assert!(!is_html("text/html-sandboxed"));
        assert!(!is_html(for_path("x.svg")));
    }
}
