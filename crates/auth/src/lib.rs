//! Bearer-token verification: RS256 JWTs checked against a JWKS, issuer and audience. The same code
//! runs in AWS (Cognito's JWKS) and locally (a development key pair made by `localstack/setup.sh`);
//! only `JWT_*` configuration differs. [`mint`] signs tokens for local use and tests.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::env;
use weelo_core::contract::cursor::{CursorKey, CursorKeyError};
use weelo_core::model::caller::{Caller, Role};
use weelo_core::model::ids::UserId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierConfig {
    /// Where the public keys are: `file:///path/jwks.json` or `https://…/.well-known/jwks.json`.
    pub jwks_url: String,
    pub issuer: String,
    /// Expected `aud` (Cognito ID tokens: the app client id). `None` skips the audience check.
    pub audience: Option<String>,
    /// The claim that holds `customer` or `transporter` (Cognito custom attribute: `custom:role`).
    pub role_claim: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable CURSOR_KEY {0}")]
    CursorKey(CursorKeyError),
    #[error("cannot load the JWKS from {url}: {reason}")]
    Jwks { url: String, reason: String },
}

impl VerifierConfig {
    /// `JWT_JWKS_URL`, `JWT_ISSUER` (required), `JWT_AUDIENCE` (optional), `JWT_ROLE_CLAIM` (default `custom:role`).
    pub fn from_env() -> Result<Self, SetupError> {
        Ok(Self {
            jwks_url: env::var("JWT_JWKS_URL").map_err(|_| SetupError::Missing("JWT_JWKS_URL"))?,
            issuer: env::var("JWT_ISSUER").map_err(|_| SetupError::Missing("JWT_ISSUER"))?,
            audience: env::var("JWT_AUDIENCE").ok().filter(|a| !a.is_empty()),
            role_claim: env::var("JWT_ROLE_CLAIM").unwrap_or_else(|_| "custom:role".to_owned()),
        })
    }
}

/// What an edge that callers reach directly (the HTTP api, the live-tracking socket) checks them
/// with: the bearer-token settings, and the key that seals the tokens it hands out itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeSettings {
    /// `JWT_*`.
    pub jwt: VerifierConfig,
    /// `CURSOR_KEY`: the secret list cursors and shared links' tokens are sealed with (base64, at
    /// least 32 bytes; each kind of token under its own scope).
    pub cursor_key: CursorKey,
}

impl EdgeSettings {
    pub fn from_env() -> Result<Self, SetupError> {
        Ok(Self { jwt: VerifierConfig::from_env()?, cursor_key: cursor_key(env::var("CURSOR_KEY").ok())? })
    }
}

/// The `CURSOR_KEY` variable's value as a key; an error naming the variable when it is unset or
/// not a key.
fn cursor_key(value: Option<String>) -> Result<CursorKey, SetupError> {
    let value = value.ok_or(SetupError::Missing("CURSOR_KEY"))?;
    CursorKey::from_base64(&value).map_err(SetupError::CursorKey)
}

/// Why a token was refused. The api answers 401 for all of them and says only which kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("token has expired")]
    Expired,
    #[error("token is invalid")]
    Invalid,
    #[error("token lacks a valid {0} claim")]
    MissingClaim(String),
}

/// Verifies bearer tokens; built once per cold start.
pub struct TokenVerifier {
    keys: HashMap<String, DecodingKey>,
    validation: Validation,
    role_claim: String,
}

impl TokenVerifier {
    pub async fn load(config: &VerifierConfig) -> Result<Self, SetupError> {
        let jwks_error = |reason: String| SetupError::Jwks { url: config.jwks_url.clone(), reason };
        let text = if let Some(path) = config.jwks_url.strip_prefix("file://") {
            std::fs::read_to_string(path).map_err(|e| jwks_error(e.to_string()))?
        } else {
            reqwest::get(&config.jwks_url)
                .await
                .and_then(reqwest::Response::error_for_status)
                .map_err(|e| jwks_error(e.to_string()))?
                .text()
                .await
                .map_err(|e| jwks_error(e.to_string()))?
        };
        let set: JwkSet = serde_json::from_str(&text).map_err(|e| jwks_error(e.to_string()))?;
        Self::from_jwks(&set, config).map_err(jwks_error)
    }

    pub fn from_jwks(set: &JwkSet, config: &VerifierConfig) -> Result<Self, String> {
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let kid = jwk.common.key_id.clone().ok_or("a key has no kid")?;
            keys.insert(kid, DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?);
        }
        if keys.is_empty() {
            return Err("the key set is empty".into());
        }
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&config.issuer]);
        validation.set_required_spec_claims(&["exp", "sub", "iss"]);
        match &config.audience {
            Some(audience) => validation.set_audience(&[audience]),
            None => validation.validate_aud = false,
        }
        validation.leeway = 30;
        Ok(Self { keys, validation, role_claim: config.role_claim.clone() })
    }

    /// The caller a token proves, or why it proves nothing.
    pub fn verify(&self, token: &str) -> Result<Caller, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid)?;
        let key = header.kid.as_deref().and_then(|kid| self.keys.get(kid)).ok_or(TokenError::Invalid)?;
        let data =
            jsonwebtoken::decode::<Map<String, Value>>(token, key, &self.validation).map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                ErrorKind::MissingRequiredClaim(claim) => TokenError::MissingClaim(claim.clone()),
                _ => TokenError::Invalid,
            })?;
        let sub = data.claims.get("sub").and_then(Value::as_str).and_then(|s| UserId::parse(s).ok());
        let user_id = sub.ok_or_else(|| TokenError::MissingClaim("sub".into()))?;
        let role = data.claims.get(&self.role_claim).and_then(Value::as_str).and_then(Role::parse);
        let role = role.ok_or_else(|| TokenError::MissingClaim(self.role_claim.clone()))?;
        Ok(Caller { user_id, role })
    }
}

/// What to put in a token minted by [`mint`].
#[derive(Debug, Clone)]
pub struct MintRequest<'a> {
    pub private_key_pem: &'a [u8],
    pub key_id: &'a str,
    pub issuer: &'a str,
    pub audience: Option<&'a str>,
    pub role_claim: &'a str,
    pub subject: &'a str,
    pub role: &'a str,
    /// Seconds from now; negative makes an already expired token.
    pub lifetime_secs: i64,
}

/// Signs an RS256 token like the ones Cognito issues (for local runs, tools and tests).
pub fn mint(request: &MintRequest<'_>) -> Result<String, jsonwebtoken::errors::Error> {
    let now = chrono::Utc::now().timestamp();
    let mut claims = Map::new();
    claims.insert("sub".into(), request.subject.into());
    claims.insert("iss".into(), request.issuer.into());
    claims.insert("iat".into(), now.into());
    claims.insert("exp".into(), (now + request.lifetime_secs).into());
    claims.insert("token_use".into(), "id".into());
    claims.insert(request.role_claim.into(), request.role.into());
    if let Some(audience) = request.audience {
        claims.insert("aud".into(), audience.into());
    }
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(request.key_id.to_owned());
    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_rsa_pem(request.private_key_pem)?)
}

#[cfg(test)]
#[path = "lib_tests.rs"]
mod tests;
