//! Serving sealed objects (private rooms' files): the plaintext streams out segment by
//! segment, each authenticated before any of its bytes leave; `Range` reads fetch only
//! the segments that cover the range. The first segment is opened before the status
//! line goes out, so a tampered or foreign object is an error response, not a 200.

use super::content::{headers_for, Serve};
use super::error::{ApiError, ApiResult};
use crate::domain::envelope::{self, Header, Opener};
use crate::store::sealed;
use futures_util::{stream, StreamExt};
use worker::{Bucket, Headers, Object, Range, Response};

fn broken(what: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        500,
        "STORAGE_INTEGRITY",
        "This file could not be read intact",
    )
    .with_internal(what.to_string())
}

/// Streams `plain` out, after checking its first chunk opened cleanly.
async fn respond(
    plain: impl futures_util::Stream<Item = worker::Result<Vec<u8>>> + 'static,
    headers: Headers,
    status: u16,
) -> ApiResult<Option<Response>> {
    let mut plain = Box::pin(plain);
    let first = match plain.next().await {
        Some(Ok(chunk)) => chunk,
        Some(Err(error)) => return Err(broken(error)),
        None => Vec::new(),
    };
    let body = stream::once(async move { Ok(first) }).chain(plain);
    Ok(Some(
        Response::from_stream(body)?
            .with_status(status)
            .with_headers(headers),
    ))
}

/// The whole object.
pub async fn whole(
    object: Object,
    (header, size): (Header, u64),
    spec: &Serve<'_>,
    status: u16,
) -> ApiResult<Option<Response>> {
    let Some(key) = spec.data_key else {
        return Ok(None);
    };
    let headers = headers_for(&object, spec)?;
    let Some(body) = object.body() else {
        return Ok(None);
    };
    let opener = Opener::new(key, &header, size, 0);
    respond(
        sealed::opening_stream(body.stream()?, opener, 0, size),
        headers,
        status,
    )
    .await
}

/// Bytes `start..=end` of the plaintext, as a 206.
pub async fn part(
    bucket: &Bucket,
    spec: &Serve<'_>,
    headers: Headers,
    header: Header,
    size: u64,
    (start, end): (u64, u64),
) -> ApiResult<Option<Response>> {
    let Some(key) = spec.data_key else {
        return Ok(None);
    };
    let range = envelope::sealed_range(size, start, end);
    let part = bucket
        .get(spec.key)
        .range(Range::OffsetWithLength {
            offset: range.offset,
            length: range.length,
        })
        .execute()
        .await?;
    let Some(body) = part.as_ref().and_then(|o| o.body()) else {
        return Ok(None);
    };
    headers.set("content-range", &format!("bytes {start}-{end}/{size}"))?;
    let opener = Opener::new(key, &header, size, range.first_segment);
    let plain = sealed::opening_stream(body.stream()?, opener, range.skip, range.take);
    respond(plain, headers, 206).await
}
