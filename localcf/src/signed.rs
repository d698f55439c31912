//! Signed URLs, enforced as Cloudflare Stream does for a live input created
//! with `recording.requireSignedURLs` (and every video recorded from it):
//! every delivery URL must carry a token in place of the uid.
//!
//! - [`SigningKeys`]: the keys `POST .../stream/keys` created. Only the
//!   public halves are kept (Cloudflare shows the private key once), in
//!   memory and in `<data-dir>/signing-keys.json`, so that the recordings of
//!   earlier runs stay playable with the same tokens.
//! - [`verify`]: a token, checked as a pure function of the known keys, the
//!   clock and the client's address.
//! - [`guard`]: the layer in front of the delivery routes. A request whose
//!   first path segment is a token is checked on every request (so a fresh
//!   token works mid-stream) and then served as if it named the token's
//!   `sub`; a bare uid that requires signed URLs is refused. Playlists stay
//!   relative (`stream_0.m3u8`, `stream_0_00001.ts`), so the children of a
//!   token's master carry the same token.
//!
//! Refusals (Cloudflare answers 401 to a bare uid of a signed video; the
//! rest is our choice, written in the README): 401 for a missing, malformed,
//! expired or not-yet-valid token, an unknown `kid` or a bad signature; 403
//! when the token's `accessRules` block the client. A token is the uid: a
//! valid token for another uid plays that uid, and one whose `sub` names
//! nothing gets the unknown-id 404.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use player_core::cloudflare::ErrorBody;
use rsa::pkcs1::{DecodeRsaPublicKey, EncodeRsaPrivateKey, EncodeRsaPublicKey};
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::signature::Verifier as _;
use rsa::traits::{PrivateKeyParts as _, PublicKeyParts as _};
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ids;
use crate::origin::Origin;
use crate::recording::rfc3339;

/// The file of known public keys, in the data dir.
pub const KEYS_FILE: &str = "signing-keys.json";
/// Bits of a created key (Cloudflare's keys are RSA 2048).
const KEY_BITS: usize = 2048;
/// Longest token looked at (a URL path segment; Cloudflare's are ~600 bytes).
const MAX_TOKEN: usize = 4096;
/// Most keys kept: each create adds one, so a runaway client cannot grow
/// the file without bound.
const MAX_KEYS: usize = 100;

/// A key as `POST .../stream/keys` answers it: `pem` and `jwk` are base64
/// (of the PEM text and of the JWK's JSON), as Cloudflare sends them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreatedKey {
    pub id: String,
    pub pem: String,
    pub jwk: String,
    pub created: String,
}

/// A key as `GET .../stream/keys` lists it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListedKey {
    pub id: String,
    pub created: String,
}

/// One entry of [`KEYS_FILE`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredKey {
    id: String,
    created: String,
    /// PKCS#1 PEM of the public key.
    public_pem: String,
}

struct Known {
    public: RsaPublicKey,
    created: String,
}

/// The signing keys the stand-in knows (public halves only).
pub struct SigningKeys {
    file: Option<PathBuf>,
    keys: Mutex<BTreeMap<String, Known>>,
}

impl SigningKeys {
    /// No file: keys live as long as the process.
    pub fn in_memory() -> Self {
        Self {
            file: None,
            keys: Mutex::new(BTreeMap::new()),
        }
    }

    /// The keys of `<data_dir>/signing-keys.json` (none when it is missing;
    /// unreadable entries are skipped with a warning), saved there on change.
    pub fn load(data_dir: &Path) -> Self {
        let file = data_dir.join(KEYS_FILE);
        let mut keys = BTreeMap::new();
        match std::fs::read(&file) {
            Ok(bytes) => match serde_json::from_slice::<Vec<StoredKey>>(&bytes) {
                Ok(stored) => {
                    for k in stored {
                        match RsaPublicKey::from_pkcs1_pem(&k.public_pem) {
                            Ok(public) => {
                                keys.insert(
                                    k.id,
                                    Known {
                                        public,
                                        created: k.created,
                                    },
                                );
                            }
                            Err(e) => {
                                tracing::warn!(key = %k.id, error = %e, "skipping a signing key")
                            }
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(file = %file.display(), error = %e, "cannot read signing keys")
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(file = %file.display(), error = %e, "cannot read signing keys")
            }
        }
        Self {
            file: Some(file),
            keys: Mutex::new(keys),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Known>> {
        self.keys.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The public key of `kid`.
    pub fn public(&self, kid: &str) -> Option<RsaPublicKey> {
        self.lock().get(kid).map(|k| k.public.clone())
    }

    /// Every key, by id.
    pub fn list(&self) -> Vec<ListedKey> {
        self.lock()
            .iter()
            .map(|(id, k)| ListedKey {
                id: id.clone(),
                created: k.created.clone(),
            })
            .collect()
    }

    /// Forgets `kid` (its tokens stop working); whether it was known.
    pub fn delete(&self, kid: &str) -> Result<bool, String> {
        let mut keys = self.lock();
        let found = keys.remove(kid).is_some();
        if found {
            self.save(&keys)?;
        }
        Ok(found)
    }

    /// Creates a key pair, keeps the public half and returns the private
    /// one, once. Blocking: RSA key generation takes a while.
    pub fn create(&self) -> Result<CreatedKey, String> {
        if self.lock().len() >= MAX_KEYS {
            return Err(format!("at most {MAX_KEYS} signing keys; delete one first"));
        }
        let private = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, KEY_BITS)
            .map_err(|e| format!("cannot generate a key: {e}"))?;
        let public = private.to_public_key();
        let id = ids::random_uid();
        let pem = private
            .to_pkcs1_pem(rsa::pkcs1::LineEnding::LF)
            .map_err(|e| format!("cannot encode the key: {e}"))?;
        let jwk = jwk(&id, &private);
        let created = rfc3339(SystemTime::now());
        let mut keys = self.lock();
        keys.insert(
            id.clone(),
            Known {
                public,
                created: created.clone(),
            },
        );
        self.save(&keys)?;
        tracing::info!(key = %id, "signing key created");
        Ok(CreatedKey {
            id,
            pem: STANDARD.encode(pem.as_bytes()),
            jwk: STANDARD.encode(jwk.to_string()),
            created,
        })
    }

    /// Writes the public keys (temp file + rename, so a crash leaves the
    /// old file or the new one).
    fn save(&self, keys: &BTreeMap<String, Known>) -> Result<(), String> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        let stored: Vec<StoredKey> = keys
            .iter()
            .filter_map(|(id, k)| {
                Some(StoredKey {
                    id: id.clone(),
                    created: k.created.clone(),
                    public_pem: k.public.to_pkcs1_pem(rsa::pkcs1::LineEnding::LF).ok()?,
                })
            })
            .collect();
        let json = serde_json::to_vec_pretty(&stored).map_err(|e| e.to_string())?;
        let tmp = file.with_extension("json.tmp");
        std::fs::write(&tmp, json)
            .and_then(|()| std::fs::rename(&tmp, file))
            .map_err(|e| format!("cannot save signing keys to {}: {e}", file.display()))
    }
}

/// The private key as a JWK (what Cloudflare's `jwk` decodes to).
fn jwk(id: &str, k: &RsaPrivateKey) -> Value {
    let b = |n: &rsa::BigUint| URL_SAFE_NO_PAD.encode(n.to_bytes_be());
    let primes = k.primes();
    let mut v = serde_json::json!({
        "use": "sig", "kty": "RSA", "kid": id, "alg": "RS256",
        "n": b(k.n()), "e": b(k.e()), "d": b(k.d()),
    });
    if let ([p, q, ..], Some(dp), Some(dq), Some(qi)) = (
        primes,
        k.dp(),
        k.dq(),
        k.qinv().and_then(|c| c.to_biguint()),
    ) {
        v["p"] = b(p).into();
        v["q"] = b(q).into();
        v["dp"] = b(dp).into();
        v["dq"] = b(dq).into();
        v["qi"] = b(&qi).into();
    }
    v
}

/// Why a delivery request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 401: no token where one is required, or a token that is not valid.
    Unauthorized(&'static str),
    /// 403: a valid token whose access rules block this client.
    Forbidden(&'static str),
}

impl Refusal {
    pub fn status(self) -> StatusCode {
        match self {
            Refusal::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Refusal::Forbidden(_) => StatusCode::FORBIDDEN,
        }
    }

    pub fn reason(self) -> &'static str {
        match self {
            Refusal::Unauthorized(r) | Refusal::Forbidden(r) => r,
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (
            self.status(),
            [
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                // Outside the router's CORS layer: a browser must see the status.
                (
                    header::ACCESS_CONTROL_ALLOW_ORIGIN,
                    HeaderValue::from_static("*"),
                ),
            ],
            Json(ErrorBody {
                error: self.reason().into(),
            }),
        )
            .into_response()
    }
}

/// Whether a delivery id is a token rather than a uid (uids have no dots).
pub fn is_token(id: &str) -> bool {
    id.bytes().filter(|b| *b == b'.').count() == 2
}

#[derive(Deserialize)]
struct Header {
    alg: Option<String>,
    kid: Option<String>,
}

/// One of a token's `accessRules`.
#[derive(Debug, Deserialize)]
struct Rule {
    #[serde(rename = "type")]
    kind: String,
    action: String,
    #[serde(default)]
    ip: Vec<String>,
}

fn decode_json<T: serde::de::DeserializeOwned>(part: &str) -> Option<T> {
    let bytes = URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// A number claim (JSON numbers; Cloudflare's examples use integers).
fn seconds(v: Option<&Value>) -> Option<Option<f64>> {
    match v {
        None | Some(Value::Null) => Some(None),
        Some(Value::Number(n)) => n.as_f64().map(Some),
        Some(_) => None,
    }
}

/// Checks `token` at `now` (Unix seconds) for a request from `client`;
/// returns the uid it grants (`sub`).
pub fn verify(
    token: &str,
    key_of: impl Fn(&str) -> Option<RsaPublicKey>,
    now: u64,
    client: Option<IpAddr>,
) -> Result<String, Refusal> {
    use Refusal::Unauthorized as U;
    if token.len() > MAX_TOKEN {
        return Err(U("token too long"));
    }
    let mut parts = token.split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(U("not a token"));
    };
    let header: Header = decode_json(h).ok_or(U("malformed token header"))?;
    if header.alg.as_deref() != Some("RS256") {
        return Err(U("token algorithm must be RS256"));
    }
    let kid = header.kid.ok_or(U("token has no kid"))?;
    let key = key_of(&kid).ok_or(U("unknown signing key"))?;
    let sig = URL_SAFE_NO_PAD
        .decode(s)
        .ok()
        .and_then(|b| Signature::try_from(b.as_slice()).ok())
        .ok_or(U("malformed token signature"))?;
    let signed = &token[..h.len() + 1 + c.len()];
    VerifyingKey::<rsa::sha2::Sha256>::new(key)
        .verify(signed.as_bytes(), &sig)
        .map_err(|_| U("bad token signature"))?;
    let claims: serde_json::Map<String, Value> =
        decode_json(c).ok_or(U("malformed token claims"))?;
    if claims.get("kid").and_then(Value::as_str) != Some(kid.as_str()) {
        return Err(U("token kid claim does not match its header"));
    }
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| ids::is_valid_uid(s))
        .ok_or(U("token has no valid sub"))?;
    let now_f = now as f64;
    match seconds(claims.get("exp")) {
        Some(Some(exp)) if exp > now_f => {}
        Some(Some(_)) => return Err(U("token expired")),
        _ => return Err(U("token has no valid exp")),
    }
    match seconds(claims.get("nbf")) {
        Some(None) => {}
        Some(Some(nbf)) if nbf <= now_f => {}
        Some(Some(_)) => return Err(U("token not valid yet")),
        None => return Err(U("token has a bad nbf")),
    }
    if let Some(rules) = claims.get("accessRules") {
        let rules: Vec<Rule> =
            serde_json::from_value(rules.clone()).map_err(|_| U("malformed accessRules"))?;
        access(&rules, client)?;
    }
    Ok(sub.to_string())
}

/// The first rule that matches decides; none matching allows. The
/// stand-in has no geolocation: `ip.geoip.country` rules never match.
fn access(rules: &[Rule], client: Option<IpAddr>) -> Result<(), Refusal> {
    for r in rules {
        let matches = match r.kind.as_str() {
            "any" => true,
            "ip.src" => client.is_some_and(|c| r.ip.iter().any(|n| in_network(c, n))),
            "ip.geoip.country" => false,
            _ => return Err(Refusal::Unauthorized("unknown accessRules type")),
        };
        if matches {
            return match r.action.as_str() {
                "allow" => Ok(()),
                "block" => Err(Refusal::Forbidden("blocked by the token's access rules")),
                _ => Err(Refusal::Unauthorized("unknown accessRules action")),
            };
        }
    }
    Ok(())
}

/// Whether `ip` is `net` (an address or a CIDR); IPv4-mapped IPv6
/// addresses count as IPv4.
pub fn in_network(ip: IpAddr, net: &str) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    let (addr, bits) = match net.split_once('/') {
        Some((a, b)) => (a, b.parse::<u32>().ok()),
        None => (net, None),
    };
    let Ok(addr) = addr.trim().parse::<IpAddr>() else {
        return false;
    };
    match (ip, addr) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let bits = bits.unwrap_or(32);
            bits <= 32 && prefix_eq(u128::from(u32::from(a)), u128::from(u32::from(n)), bits, 32)
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let bits = bits.unwrap_or(128);
            bits <= 128 && prefix_eq(u128::from(a), u128::from(n), bits, 128)
        }
        _ => false,
    }
}

fn prefix_eq(a: u128, b: u128, bits: u32, width: u32) -> bool {
    if bits == 0 {
        return true;
    }
    let shift = width - bits;
    (a >> shift) == (b >> shift)
}

/// What the guard needs.
#[derive(Clone)]
pub struct Guard {
    pub keys: Arc<SigningKeys>,
    pub origin: Arc<Origin>,
}

/// The id of a delivery request (`/<id>/lifecycle`, `/views`,
/// `/manifest/...`, `/thumbnails/...`) and the rest of its path.
pub fn delivery_id(path: &str) -> Option<(&str, &str)> {
    let (id, rest) = path.strip_prefix('/')?.split_once('/')?;
    let delivery = rest == "lifecycle"
        || rest == "views"
        || rest.starts_with("manifest/")
        || rest.starts_with("thumbnails/");
    (delivery && !id.is_empty()).then_some((id, rest))
}

/// Wraps the whole HTTP surface: delivery requests pass the signed-URL
/// check first (and a token is swapped for its `sub` before routing).
pub fn guard(g: Guard, inner: Router) -> Router {
    // The outer router has no routes, so the rewritten URI is what the
    // inner one routes on.
    Router::new()
        .fallback_service(inner)
        .layer(axum::middleware::from_fn_with_state(g, check))
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

async fn check(State(g): State<Guard>, mut req: Request, next: Next) -> Response {
    // Preflights carry no token; the CORS layer answers them.
    if req.method() == Method::OPTIONS {
        return next.run(req).await;
    }
    let Some((id, rest)) = delivery_id(req.uri().path()) else {
        return next.run(req).await;
    };
    if !is_token(id) {
        return if g.origin.requires_signed_urls(id) == Some(true) {
            Refusal::Unauthorized("this video requires a signed URL").into_response()
        } else {
            next.run(req).await
        };
    }
    let client = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let sub = match verify(id, |kid| g.keys.public(kid), unix_now(), client) {
        Ok(sub) => sub,
        Err(r) => {
            tracing::debug!(reason = r.reason(), "signed URL refused");
            return r.into_response();
        }
    };
    let path_and_query = match req.uri().query() {
        Some(q) => format!("/{sub}/{rest}?{q}"),
        None => format!("/{sub}/{rest}"),
    };
    let mut parts = req.uri().clone().into_parts();
    parts.path_and_query = path_and_query.parse().ok();
    match Uri::from_parts(parts) {
        Ok(uri) => *req.uri_mut() = uri,
        Err(_) => return Refusal::Unauthorized("bad request path").into_response(),
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs1v15::SigningKey;
    use rsa::signature::{SignatureEncoding as _, Signer as _};

    /// One small key for every test (512 bits: key generation in a debug
    /// build is slow, and the checks do not depend on the size).
    fn key() -> &'static RsaPrivateKey {
        static KEY: std::sync::OnceLock<RsaPrivateKey> = std::sync::OnceLock::new();
        KEY.get_or_init(|| RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 512).unwrap())
    }

    fn sign(header: &Value, claims: &Value, k: &RsaPrivateKey) -> String {
        let h = URL_SAFE_NO_PAD.encode(header.to_string());
        let c = URL_SAFE_NO_PAD.encode(claims.to_string());
        let input = format!("{h}.{c}");
        let sig = SigningKey::<rsa::sha2::Sha256>::new(k.clone()).sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
    }

    const NOW: u64 = 1_700_000_000;

    fn token(claims: Value) -> String {
        sign(
            &serde_json::json!({"alg": "RS256", "kid": "k1"}),
            &claims,
            key(),
        )
    }

    fn check(t: &str) -> Result<String, Refusal> {
        let keys = |kid: &str| (kid == "k1").then(|| key().to_public_key());
        verify(t, keys, NOW, Some("10.1.2.3".parse().unwrap()))
    }

    #[test]
    fn token_matrix() {
        use serde_json::json;
        let exp = NOW + 60;
        let ok = json!({"sub": "in1", "kid": "k1", "exp": exp});
        assert_eq!(check(&token(ok.clone())), Ok("in1".into()));
        let refused = |claims: Value| check(&token(claims)).map_err(Refusal::status);
        let u = Err(StatusCode::UNAUTHORIZED);
        assert_eq!(
            refused(json!({"sub": "in1", "kid": "k1", "exp": NOW})),
            u,
            "expired"
        );
        assert_eq!(refused(json!({"sub": "in1", "kid": "k1"})), u, "no exp");
        assert_eq!(refused(json!({"sub": "in1", "kid": "k1", "exp": "x"})), u);
        assert_eq!(refused(json!({"kid": "k1", "exp": exp})), u, "no sub");
        assert_eq!(refused(json!({"sub": "a/b", "kid": "k1", "exp": exp})), u);
        assert_eq!(
            refused(json!({"sub": "in1", "kid": "k2", "exp": exp})),
            u,
            "kid claim"
        );
        assert_eq!(
            refused(json!({"sub": "in1", "exp": exp})),
            u,
            "no kid claim"
        );
        assert_eq!(
            refused(json!({"sub": "in1", "kid": "k1", "exp": exp, "nbf": NOW + 5})),
            u,
            "nbf ahead"
        );
        assert_eq!(
            refused(json!({"sub": "in1", "kid": "k1", "exp": exp, "nbf": NOW - 60})),
            Ok("in1".into())
        );
        // Unknown kid, wrong algorithm, bad signature, garbage.
        let unknown = sign(&json!({"alg": "RS256", "kid": "k9"}), &ok, key());
        assert_eq!(check(&unknown).map_err(Refusal::status), u);
        let hs = sign(&json!({"alg": "HS256", "kid": "k1"}), &ok, key());
        assert_eq!(check(&hs).map_err(Refusal::status), u);
        let t = token(ok.clone());
        let (head, _) = t.rsplit_once('.').unwrap();
        let other = token(json!({"sub": "in2", "kid": "k1", "exp": exp}));
        let forged = format!("{head}.{}", other.rsplit_once('.').unwrap().1);
        assert_eq!(
            check(&forged).map_err(Refusal::status),
            u,
            "signature of another token"
        );
        assert_eq!(check("a.b.c").map_err(Refusal::status), u);
        assert_eq!(check(&"x.".repeat(3000)).map_err(Refusal::status), u);
    }

    #[test]
    fn access_rules() {
        use serde_json::json;
        let with = |rules: Value| {
            check(&token(
                json!({"sub": "v1", "kid": "k1", "exp": NOW + 60, "accessRules": rules}),
            ))
            .map_err(Refusal::status)
        };
        let ok = Ok("v1".to_string());
        let f = Err(StatusCode::FORBIDDEN);
        assert_eq!(with(json!([{"type": "any", "action": "allow"}])), ok);
        assert_eq!(with(json!([{"type": "any", "action": "block"}])), f);
        assert_eq!(with(json!([])), ok);
        let mine = json!([{"type": "ip.src", "ip": ["10.1.0.0/16"], "action": "allow"},
                          {"type": "any", "action": "block"}]);
        assert_eq!(with(mine), ok);
        let theirs = json!([{"type": "ip.src", "ip": ["192.0.2.1", "10.2.0.0/16"], "action": "allow"},
                            {"type": "any", "action": "block"}]);
        assert_eq!(with(theirs), f);
        let geo = json!([{"type": "ip.geoip.country", "country": ["US"], "action": "block"}]);
        assert_eq!(with(geo), ok);
        assert_eq!(
            with(json!([{"type": "weird", "action": "allow"}])),
            Err(StatusCode::UNAUTHORIZED)
        );
        assert_eq!(with(json!({"type": "any"})), Err(StatusCode::UNAUTHORIZED));
    }

    #[test]
    fn networks() {
        let v4: IpAddr = "10.1.2.3".parse().unwrap();
        assert!(in_network(v4, "10.1.2.3"));
        assert!(in_network(v4, "10.0.0.0/8"));
        assert!(in_network(v4, "0.0.0.0/0"));
        assert!(!in_network(v4, "10.1.2.4"));
        assert!(!in_network(v4, "10.1.2.0/33"));
        assert!(!in_network(v4, "nonsense"));
        let mapped: IpAddr = "::ffff:10.1.2.3".parse().unwrap();
        assert!(in_network(mapped, "10.1.0.0/16"));
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        assert!(in_network(v6, "2001:db8::/32"));
        assert!(!in_network(v6, "10.0.0.0/8"));
    }

    #[test]
    fn delivery_paths() {
        assert_eq!(delivery_id("/abc/lifecycle"), Some(("abc", "lifecycle")));
        assert_eq!(
            delivery_id("/a.b.c/manifest/stream_0.m3u8"),
            Some(("a.b.c", "manifest/stream_0.m3u8"))
        );
        assert_eq!(
            delivery_id("/x/thumbnails/thumbnail.jpg").map(|d| d.0),
            Some("x")
        );
        assert_eq!(delivery_id("/x/views").map(|d| d.0), Some("x"));
        assert_eq!(delivery_id("/control/inputs"), None);
        assert_eq!(delivery_id("/client/v4/accounts/local/stream/keys"), None);
        assert_eq!(delivery_id("/index.html"), None);
        assert!(is_token("a.b.c") && !is_token("abc") && !is_token("a.b"));
    }

    #[test]
    fn created_key_signs_tokens_it_then_accepts() {
        let dir = std::env::temp_dir().join(format!("localcf-keys-{}", ids::random_uid()));
        std::fs::create_dir_all(&dir).unwrap();
        let keys = SigningKeys::load(&dir);
        let created = keys.create().unwrap();
        assert_eq!(created.id.len(), 32);
        let pem = String::from_utf8(STANDARD.decode(&created.pem).unwrap()).unwrap();
        assert!(pem.starts_with("-----BEGIN RSA PRIVATE KEY-----"), "{pem}");
        let jwk: Value = serde_json::from_slice(&STANDARD.decode(&created.jwk).unwrap()).unwrap();
        assert_eq!(jwk["kid"], created.id.as_str());
        assert_eq!(jwk["kty"], "RSA");
        assert!(jwk["d"].is_string() && jwk["qi"].is_string());
        use rsa::pkcs1::DecodeRsaPrivateKey as _;
        let private = RsaPrivateKey::from_pkcs1_pem(&pem).unwrap();
        let t = sign(
            &serde_json::json!({"alg": "RS256", "kid": created.id}),
            &serde_json::json!({"sub": "in1", "kid": created.id, "exp": NOW + 5}),
            &private,
        );
        // Read back from the file, as the next run would.
        let again = SigningKeys::load(&dir);
        assert_eq!(again.list().len(), 1);
        assert_eq!(verify(&t, |k| again.public(k), NOW, None), Ok("in1".into()));
        assert_eq!(again.delete(&created.id), Ok(true));
        assert!(SigningKeys::load(&dir).list().is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
