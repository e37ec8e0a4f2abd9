//! Answering with an R2 object: `ETag`, `If-None-Match` → 304, `Range` → 206/416,
//! `HEAD` without reading bytes, and the caching the caller picks. Used by tenant hosts
//! and by the API's file, media and temporary-file downloads.

use super::error::ApiResult;
use super::sealed_content;
use crate::domain::envelope::DataKey;
use crate::domain::etag::{bare, none_match_names};
use crate::domain::range::{self, RangeRequest};
use crate::store::sealed;
use worker::{Bucket, Env, Headers, Method, Object, Range, Request, Response};

pub struct Serve<'a> {
    pub key: &'a str,
    pub cache_control: &'a str,
    /// Answer `Range` requests (media, room files).
    pub ranges: bool,
    /// `Access-Control-Allow-Origin: *` (public module files, so other tenants' rooms
    /// may load them with Subresource Integrity).
    pub cors: bool,
    /// Refuse objects whose `expires_at` custom metadata (unix ms) is at or before this.
    pub expired_at: Option<i64>,
    /// The room's data key, for sealed objects (private rooms). Without it a sealed
    /// object is not there at all: ciphertext is never served.
    pub data_key: Option<&'a DataKey>,
}

fn expired(object: &Object, now: Option<i64>) -> bool {
    let Some(now) = now else { return false };
    let at = object
        .custom_metadata()
        .ok()
        .and_then(|m| m.get("expires_at").and_then(|v| v.parse::<i64>().ok()));
    at.is_some_and(|at| at <= now)
}

pub(super) fn headers_for(object: &Object, spec: &Serve) -> ApiResult<Headers> {
    let headers = Headers::new();
    headers.set("etag", &object.http_etag())?;
    headers.set("cache-control", spec.cache_control)?;
    let content_type = object
        .http_metadata()
        .content_type
        .unwrap_or_else(|| "application/octet-stream".into());
    headers.set("content-type", &content_type)?;
    if spec.ranges {
        headers.set("accept-ranges", "bytes")?;
    }
    if spec.cors {
        headers.set("access-control-allow-origin", "*")?;
    }
    Ok(headers)
}

/// Serves the object at `spec.key`, or `None` when there is none (the caller picks the
/// 404). `status` lets a tenant's `404.html` go out as a 404.
pub async fn object(
    req: &Request,
    env: &Env,
    spec: &Serve<'_>,
    status: u16,
) -> ApiResult<Option<Response>> {
    let bucket = env.bucket("FILES")?;
    let if_none_match = req.headers().get("if-none-match")?;
    let range_header = req
        .headers()
        .get("range")?
        .filter(|_| spec.ranges && status == 200);
    // `If-None-Match` may list several tags, weak ones or `*`, which R2's single-etag
    // condition cannot express: compare them against the object's head here instead.
    let conditional = if_none_match.is_some() && status == 200;
    if req.method() == Method::Head || range_header.is_some() || conditional {
        return by_head(req, &bucket, spec, status, if_none_match, range_header).await;
    }
    let Some(object) = bucket.get(spec.key).execute().await? else {
        return Ok(None);
    };
    if expired(&object, spec.expired_at) {
        return Ok(None);
    }
    if let Some(sealing) = sealed::sealing(&object)? {
        return sealed_content::whole(object, sealing, spec, status).await;
    }
    let headers = headers_for(&object, spec)?;
    let Some(body) = object.body() else {
        return Ok(None);
    };
    Ok(Some(
        Response::from_body(body.response_body()?)?
            .with_status(status)
            .with_headers(headers),
    ))
}

/// `HEAD`, and `GET` with `Range` or `If-None-Match`: look at the object's size and etag
/// first.
async fn by_head(
    req: &Request,
    bucket: &Bucket,
    spec: &Serve<'_>,
    status: u16,
    if_none_match: Option<String>,
    range_header: Option<String>,
) -> ApiResult<Option<Response>> {
    let Some(meta) = bucket.head(spec.key).await? else {
        return Ok(None);
    };
    if expired(&meta, spec.expired_at) {
        return Ok(None);
    }
    let sealing = sealed::sealing(&meta)?;
    if sealing.is_some() && spec.data_key.is_none() {
        return Ok(None);
    }
    let headers = headers_for(&meta, spec)?;
    let size = sealing.as_ref().map_or(meta.size(), |(_, size)| *size);
    if status == 200
        && if_none_match
            .as_deref()
            .is_some_and(|h| none_match_names(h, &meta.etag()))
    {
        return Ok(Some(
            Response::empty()?.with_status(304).with_headers(headers),
        ));
    }
    // `If-Range` with another validator means "the whole thing, it changed".
    let if_range = req.headers().get("if-range")?;
    let range_applies = if_range.as_deref().is_none_or(|t| bare(t) == meta.etag());
    let wanted = if range_applies {
        range::parse(range_header.as_deref(), size)
    } else {
        RangeRequest::Full
    };
    let head_only = req.method() == Method::Head;
    match wanted {
        RangeRequest::Unsatisfiable => {
            headers.set("content-range", &format!("bytes */{size}"))?;
            Ok(Some(
                Response::empty()?.with_status(416).with_headers(headers),
            ))
        }
        RangeRequest::Partial {
            start,
            end_inclusive,
        } if !head_only && sealing.is_some() => {
            let (header, size) = sealing.expect("checked");
            let range = (start, end_inclusive);
            sealed_content::part(bucket, spec, headers, header, size, range).await
        }
        RangeRequest::Partial {
            start,
            end_inclusive,
        } if !head_only => {
            let length = end_inclusive - start + 1;
            let part = bucket
                .get(spec.key)
                .range(Range::OffsetWithLength {
                    offset: start,
                    length,
                })
                .execute()
                .await?;
            let Some(body) = part.as_ref().and_then(|o| o.body()) else {
                return Ok(None);
            };
            headers.set(
                "content-range",
                &format!("bytes {start}-{end_inclusive}/{size}"),
            )?;
            headers.set("content-length", &length.to_string())?;
            Ok(Some(
                Response::from_body(body.response_body()?)?
                    .with_status(206)
                    .with_headers(headers),
            ))
        }
        _ if head_only => {
            headers.set("content-length", &size.to_string())?;
            Ok(Some(
                Response::empty()?.with_status(status).with_headers(headers),
            ))
        }
        _ => {
            let Some(object) = bucket.get(spec.key).execute().await? else {
                return Ok(None);
            };
            if let Some(sealing) = sealed::sealing(&object)? {
                return sealed_content::whole(object, sealing, spec, status).await;
            }
            let Some(body) = object.body() else {
                return Ok(None);
            };
            Ok(Some(
                Response::from_body(body.response_body()?)?
                    .with_status(status)
                    .with_headers(headers),
            ))
        }
    }
}

/// An API download (`files`, `tmp`, `media`): the bytes with `ETag` and `Range`, never
/// cached by others; 404 when there is nothing (or it expired at `expired_at`).
pub async fn download(
    req: &Request,
    env: &Env,
    key: &str,
    expired_at: Option<i64>,
    data_key: Option<&DataKey>,
) -> ApiResult<Response> {
    let spec = Serve {
        key,
        cache_control: "private, no-cache",
        ranges: true,
        cors: false,
        expired_at,
        data_key,
    };
    object(req, env, &spec, 200)
        .await?
        .ok_or_else(super::error::ApiError::not_found)
}
