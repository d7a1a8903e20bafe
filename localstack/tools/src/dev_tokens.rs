//! Development tokens: signed with the local key pair `localstack/setup.sh` makes, for the issuer,
//! audience and role claim of `.local/stack.env`. What `weelo-local token` prints and what the tests
//! and the benchmark sign in with.

use anyhow::Context;

/// A token for `sub` with `role`, valid for `lifetime_secs` (negative: already expired).
pub fn dev_token(sub: &str, role: &str, lifetime_secs: i64) -> anyhow::Result<String> {
    let key_path =
        std::env::var("JWT_DEV_PRIVATE_KEY").context("JWT_DEV_PRIVATE_KEY is not set (source .local/stack.env)")?;
    let pem = std::fs::read(&key_path).with_context(|| format!("reading {key_path}"))?;
    let issuer = std::env::var("JWT_ISSUER").context("JWT_ISSUER is not set")?;
    let audience = std::env::var("JWT_AUDIENCE").ok();
    let role_claim = std::env::var("JWT_ROLE_CLAIM").unwrap_or_else(|_| "custom:role".into());
    let key_id = std::env::var("JWT_DEV_KEY_ID").unwrap_or_else(|_| "weelo-local-1".into());
    Ok(weelo_auth::mint(&weelo_auth::MintRequest {
        private_key_pem: &pem,
        key_id: &key_id,
        issuer: &issuer,
        audience: audience.as_deref(),
        role_claim: &role_claim,
        subject: sub,
        role,
        lifetime_secs,
    })?)
}
