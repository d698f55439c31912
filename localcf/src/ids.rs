//! Identifiers: random uids like Cloudflare's, and the validation of names
//! that reach the file system or the URL space.

/// 32 lowercase hex characters, the shape of a Cloudflare video or input uid.
pub fn random_uid() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// A caller-chosen input uid: `[A-Za-z0-9_-]{1,64}`.
pub fn is_valid_uid(s: &str) -> bool {
    is_token(s, 64)
}

/// A caller-chosen stream key: `[A-Za-z0-9_-]{1,128}`.
pub fn is_valid_stream_key(s: &str) -> bool {
    is_token(s, 128)
}

/// A client-chosen viewer id (`/views?viewer=`): `[A-Za-z0-9_-]{1,64}`.
pub fn is_valid_viewer_id(s: &str) -> bool {
    is_token(s, 64)
}

/// A rendition name (from `meta.json`): `[A-Za-z0-9_-]{1,64}`, so that
/// `<name>.m3u8` stays a plain file name in the broadcast's directory.
pub fn is_valid_rendition_name(s: &str) -> bool {
    is_token(s, 64)
}

fn is_token(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// What a file name under `/<id>/manifest/` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestFile {
    /// `video.m3u8`: the master playlist.
    Master,
    /// Another `*.m3u8`: a media playlist.
    Media,
    /// `*.ts`: a segment.
    Segment,
}

/// Classifies a file name under `/<id>/manifest/`; `None` for anything that is
/// not a plain `[A-Za-z0-9_-]+.(m3u8|ts)` name (so no path can escape the
/// broadcast's directory).
pub fn classify_manifest_file(name: &str) -> Option<ManifestFile> {
    if name == "video.m3u8" {
        return Some(ManifestFile::Master);
    }
    let (stem, ext) = name.rsplit_once('.')?;
    if !is_token(stem, 128) {
        return None;
    }
    match ext {
        "m3u8" => Some(ManifestFile::Media),
        "ts" => Some(ManifestFile::Segment),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_uid_is_32_lowercase_hex_and_differs() {
        let a = random_uid();
        let b = random_uid();
        assert_eq!(a.len(), 32);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
        assert_ne!(a, b);
    }

    #[test]
    fn uid_validation() {
        for ok in ["demo", "a", "A_b-9", &"x".repeat(64)] {
            assert!(is_valid_uid(ok), "{ok}");
        }
        for bad in ["", "a b", "a/b", "..", "é", &"x".repeat(65)] {
            assert!(!is_valid_uid(bad), "{bad}");
        }
        assert!(is_valid_stream_key(&"k".repeat(128)));
        assert!(!is_valid_stream_key(&"k".repeat(129)));
    }

    #[test]
    fn manifest_file_names() {
        let cases = [
            ("video.m3u8", Some(ManifestFile::Master)),
            ("stream_0.m3u8", Some(ManifestFile::Media)),
            ("stream_0_00001.ts", Some(ManifestFile::Segment)),
            ("video.mpd", None),
            ("../meta.json", None),
            ("a/b.ts", None),
            (".ts", None),
            ("meta.json", None),
            ("x.m3u8.tmp", None),
        ];
        for (name, want) in cases {
            assert_eq!(classify_manifest_file(name), want, "{name}");
        }
    }
}
