//! R2 objects: put, conditional get, and purge by prefix.

use worker::{Bucket, Conditional, Env, HttpMetadata, Object, Result};

fn bucket(env: &Env) -> Result<Bucket> {
    env.bucket("FILES")
}

pub async fn put(env: &Env, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<()> {
    let metadata = HttpMetadata {
        content_type: Some(content_type.into()),
        ..Default::default()
    };
    bucket(env)?
        .put(key, bytes)
        .http_metadata(metadata)
        .execute()
        .await?;
    Ok(())
}

/// Fetches an object. With `if_none_match`, a matching object comes back without a
/// body (the caller answers 304) and R2 does not read the bytes.
pub async fn get(env: &Env, key: &str, if_none_match: Option<&str>) -> Result<Option<Object>> {
    let bucket = bucket(env)?;
    let mut request = bucket.get(key);
    if let Some(etag) = if_none_match {
        let etag = etag
            .trim()
            .trim_start_matches("W/")
            .trim_matches('"')
            .to_string();
        request = request.only_if(Conditional {
            etag_does_not_match: Some(etag),
            ..Default::default()
        });
    }
    request.execute().await
}

/// Deletes every object under `prefix`, a page of up to 1,000 keys at a time.
pub async fn delete_prefix(env: &Env, prefix: &str) -> Result<usize> {
    let bucket = bucket(env)?;
    let mut deleted = 0;
    loop {
        let page = bucket.list().prefix(prefix).limit(1000).execute().await?;
        let keys: Vec<String> = page.objects().iter().map(Object::key).collect();
        if keys.is_empty() {
            return Ok(deleted);
        }
        deleted += keys.len();
        bucket.delete_multiple(keys).await?;
        if !page.truncated() {
            return Ok(deleted);
        }
    }
}
