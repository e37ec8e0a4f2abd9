//! Passwords and mailboxes: checking a password under the throttles, replacing one,
//! and proving an email address.

use super::ctx::Ctx;
use super::error::{ApiError, ApiResult};
use crate::domain::audit::AuditAction;
use crate::domain::clock::DAY;
use crate::domain::mails::{self, Letter};
use crate::domain::{crypto, password, throttle, token};
use crate::store::throttle as counters;
use crate::store::tokens::Purpose;
use crate::store::{db, messages, session_cache, sessions, tokens, users};
use worker::{D1Database, D1PreparedStatement};

/// The sign-in throttle counter of a (case-folded) login.
pub fn login_counter(login: &str) -> String {
    format!("login:{}", crypto::sha256_hex(login.as_bytes()))
}

/// Checks a password under two throttles: `counter` (`login_counter` for
/// sign-in, `reauth:<user id>` for re-checks by a signed-in user) and the client IP.
/// Each attempt is counted as a failure *before* the (slow) check, so parallel guesses
/// cannot all pass on one stale counter; a success takes it back. A throttled caller
/// gets 429 before any password is checked.
pub async fn check_password(
    ctx: &Ctx,
    counter: &str,
    candidate: &str,
    stored: Option<&str>,
) -> ApiResult<bool> {
    let db = ctx.db()?;
    let ip_counter = format!("ip:{}", ctx.client_ip);
    reserve_attempt(
        &db,
        [
            (counter, &throttle::PER_ACCOUNT),
            (&ip_counter, &throttle::PER_IP),
        ],
        ctx.now,
    )
    .await?;
    // Unknown accounts cost one argon2id verification too, so timing tells nothing.
    let ok =
        password::verify(candidate, stored.unwrap_or(password::DUMMY_HASH)) && stored.is_some();
    if ok {
        db::batch(
            &db,
            vec![
                counters::clear(&db, counter)?,
                counters::take_back(&db, &ip_counter)?,
            ],
        )
        .await?;
    }
    Ok(ok)
}

/// Counts a failure on every counter, each by compare-and-swap: one read and one batch
/// per round, retrying only the counters another request changed in between.
pub async fn reserve_attempt(
    db: &D1Database,
    counters: [(&str, &throttle::Policy); 2],
    now: i64,
) -> ApiResult<()> {
    let mut pending: Vec<(&str, &throttle::Policy)> = counters.to_vec();
    for _ in 0..8 {
        let keys: Vec<&str> = pending.iter().map(|(key, _)| *key).collect();
        let seen = counters::load(db, &keys).await?;
        let mut swaps = Vec::with_capacity(pending.len());
        for ((key, policy), seen) in pending.iter().zip(&seen) {
            if let Some(wait_ms) = policy.wait_ms(seen, now) {
                return Err(ApiError::rate_limited(throttle::retry_after_secs(wait_ms)));
            }
            swaps.push(counters::swap(
                db,
                key,
                seen,
                &policy.record_failure(*seen, now),
            )?);
        }
        let results = db::batch_results(db, swaps).await?;
        let swapped = |i: usize| {
            results
                .get(i)
                .and_then(|r| r.meta().ok().flatten())
                .and_then(|m| m.changes)
                == Some(1)
        };
        pending = pending
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !swapped(*i))
            .map(|(_, c)| c)
            .collect();
        if pending.is_empty() {
            return Ok(());
        }
    }
    // Heavy contention on one counter is itself a sign of an attack.
    Err(ApiError::rate_limited(1))
}

/// A fresh verification token for `email`: the statement that stores its digest, and
/// the mail that carries it.
pub fn verification(
    ctx: &Ctx,
    user_id: &str,
    username: &str,
    email: &str,
) -> ApiResult<(D1PreparedStatement, Letter)> {
    let (secret, digest) = token::new_opaque();
    let statement = tokens::insert_email_token(
        &ctx.db()?,
        &digest,
        user_id,
        Purpose::Verify,
        email,
        ctx.now,
        ctx.now + DAY,
    )?;
    Ok((
        statement,
        mails::verify_email(username, &ctx.app_link("/verify-email", &secret)),
    ))
}

/// Stores a new password hash with a note in the inbox and ends every session of the
/// user but `keep` (ASVS 7.4.3), in one transaction; account recovery (`revoke_tokens`)
/// also revokes every personal access token.
pub async fn replace_password(
    ctx: &Ctx,
    user_id: &str,
    hash: &str,
    note: &str,
    keep: Option<&str>,
    revoke_tokens: bool,
) -> ApiResult<()> {
    let db = ctx.db()?;
    let mut statements = vec![
        sessions::delete_all_statement(&db, user_id, keep)?,
        users::set_password(&db, user_id, hash)?,
        messages::insert(
            &db,
            user_id,
            "password_changed",
            "Password changed",
            note,
            ctx.now,
        )?,
    ];
    if revoke_tokens {
        statements.push(tokens::delete_all_pats_statement(&db, user_id)?);
    }
    let action = if revoke_tokens {
        AuditAction::PasswordReset
    } else {
        AuditAction::PasswordChanged
    };
    statements.push(super::audit::account_event(
        ctx,
        user_id,
        action,
        serde_json::json!({}),
    )?);
    let results = db::batch_results(&db, statements).await?;
    let ended = results.first().map_or(Ok(vec![]), sessions::ended_ids)?;
    session_cache::forget(&ctx.env, &ended).await?;
    Ok(())
}
