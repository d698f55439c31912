//! The Stream signing key that viewer tokens are signed with.
//!
//! Given by the operator (`--signing-key-file`, a JSON `{"id", "pem"}`, or
//! `STREAM_SIGNING_KEY_ID` + `STREAM_SIGNING_KEY_PEM`), or created once
//! through the account API (`POST .../stream/keys`) the first time a
//! private room needs it, with one call however many requests wait for it,
//! and then written to the key file (mode 0600) when one is named, so a
//! restart signs with the same key. The private key never reaches a log,
//! an error or an answer.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use jsonwebtoken::EncodingKey;
use serde::{Deserialize, Serialize};
use stream_api::Secret;
use tokio::sync::OnceCell;

use crate::account_client::{AccountClient, AccountError};

/// A key file larger than this is not a key file.
const MAX_KEY_FILE: u64 = 64 * 1024;

/// A loaded key: its id (the tokens' `kid`) and the private key.
pub struct SigningKey {
    pub id: String,
    pub(crate) encoding: EncodingKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// The key file's JSON.
#[derive(Serialize, Deserialize)]
struct KeyFile {
    id: String,
    pem: String,
}

/// The PEM text of `pem`: as given when it is PEM already, else base64 of
/// it (Cloudflare's `pem` field).
pub fn pem_text(pem: &str) -> Result<String, String> {
    let pem = pem.trim();
    if pem.starts_with("-----BEGIN") {
        return Ok(pem.to_string());
    }
    let compact: String = pem.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = STANDARD
        .decode(compact)
        .map_err(|_| "the key is neither PEM nor base64 of PEM".to_string())?;
    let text = String::from_utf8(bytes).map_err(|_| "the key is not PEM text".to_string())?;
    if text.trim_start().starts_with("-----BEGIN") {
        Ok(text)
    } else {
        Err("the key is neither PEM nor base64 of PEM".into())
    }
}

impl SigningKey {
    /// A key from its id and `pem` (PEM text, or base64 of it).
    pub fn new(id: &str, pem: &str) -> Result<Self, String> {
        let id = id.trim();
        if id.is_empty() || id.len() > 128 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err("the signing key id must be 1 to 128 letters and digits".into());
        }
        let pem = pem_text(pem)?;
        let encoding = EncodingKey::from_rsa_pem(pem.as_bytes())
            .map_err(|_| "the signing key is not an RSA private key in PEM".to_string())?;
        Ok(Self {
            id: id.to_string(),
            encoding,
        })
    }

    /// Reads a key file; `Ok(None)` when it does not exist.
    pub fn read_file(path: &Path) -> Result<Option<Self>, String> {
        let shown = path.display();
        match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot read the signing key file {shown}: {e}")),
            Ok(m) if m.len() > MAX_KEY_FILE => {
                return Err(format!("the signing key file {shown} is too large"))
            }
            Ok(_) => {}
        }
        let bytes = std::fs::read(path)
            .map_err(|e| format!("cannot read the signing key file {shown}: {e}"))?;
        let file: KeyFile = serde_json::from_slice(&bytes).map_err(|_| {
            format!("the signing key file {shown} is not JSON {{\"id\": ..., \"pem\": ...}}")
        })?;
        Self::new(&file.id, &file.pem)
            .map(Some)
            .map_err(|e| format!("{shown}: {e}"))
    }
}

/// Writes `{"id", "pem"}` to `path`, readable by its owner only, through a
/// temporary file and a rename (never a half-written key).
pub fn write_file(path: &Path, id: &str, pem: &Secret) -> Result<(), String> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let json = serde_json::to_vec_pretty(&KeyFile {
        id: id.to_string(),
        pem: pem.expose().to_string(),
    })
    .map_err(|e| e.to_string())?;
    let tmp = path.with_extension("tmp");
    let shown = path.display();
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| f.write_all(&json).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, path));
    written.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write the signing key file {shown}: {e}")
    })
}

/// Why no key can be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The account API failed (details logged, not the key).
    #[error("the signing key cannot be created right now: {0}")]
    Upstream(String),
    /// Created, but it does not load or cannot be saved.
    #[error("{0}")]
    Broken(String),
}

/// Where the key comes from, and the key once known.
pub struct KeyStore {
    client: Arc<AccountClient>,
    file: Option<PathBuf>,
    key: OnceCell<Arc<SigningKey>>,
}

impl KeyStore {
    /// With the operator's key (`given`), or none yet: then the first
    /// [`KeyStore::get`] creates one (and writes it to `file`).
    pub fn new(
        client: Arc<AccountClient>,
        file: Option<PathBuf>,
        given: Option<SigningKey>,
    ) -> Self {
        let key = match given {
            Some(k) => OnceCell::new_with(Some(Arc::new(k))),
            None => OnceCell::new(),
        };
        Self { client, file, key }
    }

    /// The key from the configuration: the environment pair, else the file
    /// (if it exists). Both at once is an error (which one would win?).
    pub fn configured(
        file: Option<&Path>,
        id: Option<&str>,
        pem: Option<&Secret>,
    ) -> Result<Option<SigningKey>, String> {
        match (id, pem) {
            (Some(id), Some(pem)) => {
                if file.is_some_and(Path::exists) {
                    return Err(
                        "give the signing key once: STREAM_SIGNING_KEY_ID/PEM or the key file"
                            .into(),
                    );
                }
                SigningKey::new(id, pem.expose())
                    .map(Some)
                    .map_err(|e| format!("STREAM_SIGNING_KEY_PEM: {e}"))
            }
            (None, None) => match file {
                Some(f) => SigningKey::read_file(f),
                None => Ok(None),
            },
            _ => Err("STREAM_SIGNING_KEY_ID and STREAM_SIGNING_KEY_PEM go together".into()),
        }
    }

    /// The key id, if a key is known yet.
    pub fn known_id(&self) -> Option<String> {
        self.key.get().map(|k| k.id.clone())
    }

    /// The key, created on first need: concurrent callers share one
    /// account API call; a failure is not kept (the next call tries again).
    pub async fn get(&self) -> Result<Arc<SigningKey>, KeyError> {
        self.key
            .get_or_try_init(|| async {
                let created = self.client.create_signing_key().await.map_err(|e| {
                    tracing::warn!(error = %e, "signing key: the account API call failed");
                    KeyError::Upstream(match e {
                        AccountError::RateLimited { .. } => "Cloudflare is busy".into(),
                        AccountError::Unauthorized { .. } => {
                            "Cloudflare refused the backend's API token (needs Stream:Edit)".into()
                        }
                        _ => "Cloudflare's API failed".into(),
                    })
                })?;
                let key = SigningKey::new(&created.id, created.pem.expose())
                    .map_err(|e| KeyError::Broken(format!("the created signing key: {e}")))?;
                if let Some(path) = &self.file {
                    write_file(path, &created.id, &created.pem).map_err(|e| {
                        tracing::error!(error = %e, "signing key: created but not saved");
                        KeyError::Broken(e)
                    })?;
                    tracing::info!(key = %created.id, file = %path.display(), "signing key created and saved");
                } else {
                    tracing::warn!(
                        key = %created.id,
                        "signing key created but kept in memory only (no --signing-key-file): a restart creates another"
                    );
                }
                Ok(Arc::new(key))
            })
            .await
            .map(Arc::clone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_forms() {
        let pem = "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n";
        assert_eq!(pem_text(pem).unwrap(), pem.trim());
        let b64 = STANDARD.encode(pem);
        assert_eq!(pem_text(&b64).unwrap(), pem);
        // Cloudflare's field wrapped over lines still reads.
        let wrapped: String = b64
            .as_bytes()
            .chunks(20)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(pem_text(&wrapped).unwrap(), pem);
        assert!(pem_text("not a key").is_err());
        assert!(pem_text(&STANDARD.encode("hello")).is_err());
    }

    #[test]
    fn bad_keys_are_refused_without_echo() {
        let e = SigningKey::new(
            "abc",
            "-----BEGIN RSA PRIVATE KEY-----\nSECRETSTUFF\n-----END RSA PRIVATE KEY-----",
        )
        .unwrap_err();
        assert!(!e.contains("SECRETSTUFF"), "{e}");
        assert!(SigningKey::new("", "x").is_err());
        assert!(SigningKey::new("a/b", "x").is_err());
    }
}
