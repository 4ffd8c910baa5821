//! Users and roles for the web UI and API: each person gets their own API token
//! (`hark user add NAME --role viewer|editor|admin`, shown once), so the audit log says who
//! changed what and a viewer cannot change anything.
//!
//! Tokens are stored as SHA-256 digests only (they are long random strings: a slow password
//! hash adds nothing), in the state store. A user may also have a password for the web UI's
//! log-in (`--password-stdin`), stored as an Argon2id hash; logging in gives a cookie session
//! (HttpOnly, SameSite=Strict) whose writes need its CSRF token in `X-CSRF-Token`. Roles: a **viewer** reads; an **editor** also
//! triages mentions; an **admin** may do everything the API offers. The single shared token
//! of `[server].token_env` keeps working and acts as an admin.

use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Editor,
    Admin,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s.trim().to_ascii_lowercase().as_str() {
            "viewer" => Some(Role::Viewer),
            "editor" => Some(Role::Editor),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }

    /// Whether this role may change data (triage).
    pub fn can_write(self) -> bool {
        self >= Role::Editor
    }
}

/// A user as stored (no token: only its digest).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    pub role: Role,
    /// SHA-256 of the token, hex.
    pub token_sha256: String,
    pub created: String,
    /// Argon2id hash (PHC string) of the web UI password, if the user has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_argon2: Option<String>,
}

/// The Argon2id hash of `password`, with a random salt.
pub fn hash_password(password: &str) -> String {
    use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashes any password")
        .to_string()
}

/// Whether `password` matches the stored `hash` (constant time inside argon2).
pub fn verify_password(password: &str, hash: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(hash).is_ok_and(|h| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A new random API token (`hark_` + 43 URL-safe characters, 256 bits).
pub fn new_token() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!(
        "hark_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// The digest a token is stored and looked up by.
pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.trim().as_bytes()))
}

/// A user name: letters, digits, `.`, `_`, `-`, `@`, 1–64 characters.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_stored_as_digests() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert!(a.starts_with("hark_") && a.len() == 48, "{a}");
        assert_eq!(token_digest(&a), token_digest(&format!(" {a}\n")));
        assert_eq!(token_digest(&a).len(), 64);
        assert!(Role::Editor.can_write() && Role::Admin.can_write() && !Role::Viewer.can_write());
        assert!(valid_name("ann.k@acme") && !valid_name("a b") && !valid_name(""));
        let h = hash_password("correct horse");
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("correct hors", &h));
        assert!(!verify_password("x", "not a hash"));
    }
}
