//! R2 objects: put, conditional get, and purge by prefix.

use worker::{Bucket, Conditional, Data, Env, HttpMetadata, Object, Result};

fn bucket(env: &Env) -> Result<Bucket> {
    env.bucket("FILES")
}

pub async fn put(env: &Env, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<()> {
    put_data(env, key, bytes.into(), content_type, None).await?;
    Ok(())
}

/// Stores bytes and returns the object's (unquoted) etag.
pub async fn put_with_etag(
    env: &Env,
    key: &str,
    bytes: Vec<u8>,
    content_type: &str,
) -> Result<String> {
    put_data(env, key, bytes.into(), content_type, None).await
}

/// Streams a request body into R2 without holding it in memory; the stream must have a
/// known length (a request body with `Content-Length`).
pub async fn put_stream(
    env: &Env,
    key: &str,
    body: worker::web_sys::ReadableStream,
    content_type: &str,
) -> Result<String> {
    put_data(env, key, Data::ReadableStream(body), content_type, None).await
}

/// Like `put_stream`, with custom metadata (e.g. a temporary file's expiry).
pub async fn put_data(
    env: &Env,
    key: &str,
    data: Data,
    content_type: &str,
    custom: Option<std::collections::HashMap<String, String>>,
) -> Result<String> {
    let metadata = HttpMetadata {
        content_type: Some(content_type.into()),
        ..Default::default()
    };
    let bucket = bucket(env)?;
    let mut put = bucket.put(key, data).http_metadata(metadata);
    if let Some(custom) = custom {
        put = put.custom_metadata(custom);
    }
    let object = put.execute().await?;
    Ok(object.map(|o| o.etag()).unwrap_or_default())
}

pub async fn delete(env: &Env, key: &str) -> Result<()> {
    bucket(env)?.delete(key).await
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
