//! Multipart uploads of large media (`/tenants/{t}/media/{path}/uploads…`): start, send
//! parts (each streamed to R2; every part but the last at least 5 MiB), complete or
//! abort. Parts are recorded in D1, so `complete` needs no body.

use super::ctx::Ctx;
use super::error::{ApiError, ApiResult};
use super::files::{declared_size, path_param};
use super::media::{commit, delta_over, new_row, quota_exceeded};
use super::respond;
use super::tenancy::{access, Access};
use crate::domain::access::Action;
use crate::domain::{content_type, crypto, tree};
use crate::store::db;
use crate::store::media::{self, PartRow, UploadRow};
use crate::store::usage;
use serde_json::json;
use worker::{Data, Response, UploadedPart};

pub const MIN_PART_BYTES: u64 = 5 * 1024 * 1024;
const MAX_PARTS: u16 = 10_000;
const MAX_OPEN_UPLOADS: i64 = 20;

async fn upload(ctx: &Ctx, a: &Access) -> ApiResult<UploadRow> {
    let path = path_param(ctx, 1)?;
    media::upload(&ctx.db()?, &a.tenant.id, path.as_str(), ctx.param(2))
        .await?
        .ok_or_else(|| ApiError::new(404, "NOT_FOUND", "No such upload"))
}

pub async fn start(ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::Write).await?;
    a.tenant_wide()?;
    let path = path_param(&ctx, 1)?;
    let media_id = crypto::uuid_v7(ctx.now as u64);
    let key = tree::media_key(&a.tenant.id, &media_id);
    let bucket = ctx.env.bucket("FILES")?;
    let metadata = worker::HttpMetadata {
        content_type: Some(content_type::for_path(path.as_str()).into()),
        ..Default::default()
    };
    let r2 = bucket
        .create_multipart_upload(&key)
        .http_metadata(metadata)
        .execute()
        .await?;
    let row = UploadRow {
        id: crypto::uuid_v7(ctx.now as u64),
        tenant_id: a.tenant.id.clone(),
        path: path.as_str().to_string(),
        media_id,
        r2_upload: r2.upload_id().await,
        created_at: ctx.now,
    };
    if !media::insert_upload(&ctx.db()?, &row, MAX_OPEN_UPLOADS).await? {
        r2.abort().await?;
        return Err(ApiError::new(
            429,
            "TOO_MANY_UPLOADS",
            "Complete or abort some of your open uploads first",
        )
        .with_retry_after(60));
    }
    respond::json(
        201,
        &json!({"id": row.id, "path": row.path, "min_part_bytes": MIN_PART_BYTES, "max_parts": MAX_PARTS}),
    )
}

pub async fn part(ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::Write).await?;
    a.tenant_wide()?;
    let up = upload(&ctx, &a).await?;
    let number = ctx
        .param(3)
        .parse::<u16>()
        .ok()
        .filter(|n| (1..=MAX_PARTS).contains(n))
        .ok_or_else(|| {
            ApiError::new(
                422,
                "VALIDATION_FAILED",
                "part must be a number from 1 to 10000",
            )
            .with_field("part", "must be a number from 1 to 10000")
        })?;
    let size = declared_size(&ctx)?;
    let db = ctx.db()?;
    let others: u64 = media::parts(&db, &up.id)
        .await?
        .iter()
        .filter(|p| p.part != i64::from(number))
        .map(|p| p.size as u64)
        .sum();
    if others + size > a.plan.file_bytes {
        return Err(ApiError::new(
            413,
            "FILE_TOO_LARGE",
            format!(
                "One file may be at most {} bytes on your plan",
                a.plan.file_bytes
            ),
        ));
    }
    if a.plan
        .check_usage(
            a.tenant.used_bytes as u64 + others + size,
            a.tenant.used_files as u64,
        )
        .is_err()
    {
        return Err(quota_exceeded());
    }
    let body = match ctx.req.inner().body() {
        Some(stream) if size > 0 => Data::ReadableStream(stream),
        _ => Data::Bytes(Vec::new()),
    };
    let bucket = ctx.env.bucket("FILES")?;
    let r2 = bucket
        .resume_multipart_upload(tree::media_key(&a.tenant.id, &up.media_id), &up.r2_upload)?;
    let uploaded = r2.upload_part(number, body).await?;
    let row = PartRow {
        part: i64::from(number),
        etag: uploaded.etag(),
        size: size as i64,
    };
    media::record_part(&db, &up.id, &row).await?;
    respond::json(
        200,
        &json!({"part": number, "etag": row.etag, "size": row.size}),
    )
}

pub async fn complete(ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::Write).await?;
    a.tenant_wide()?;
    let up = upload(&ctx, &a).await?;
    let db = ctx.db()?;
    let parts = media::parts(&db, &up.id).await?;
    if parts.is_empty() {
        return Err(
            ApiError::new(422, "VALIDATION_FAILED", "Upload at least one part first")
                .with_field("parts", "none uploaded yet"),
        );
    }
    let undersized = parts[..parts.len() - 1]
        .iter()
        .any(|p| (p.size as u64) < MIN_PART_BYTES);
    if undersized {
        return Err(ApiError::new(
            422,
            "VALIDATION_FAILED",
            "Every part but the last must be at least 5 MiB",
        )
        .with_field("parts", "every part but the last must be at least 5 MiB"));
    }
    let size: i64 = parts.iter().map(|p| p.size).sum();
    let seen = media::by_path(&db, &a.tenant.id, &up.path).await?;
    let delta = delta_over(size, seen.as_ref());
    if !usage::reserve(&db, &a.tenant.id, delta, &a.plan).await? {
        return Err(quota_exceeded());
    }
    let key = tree::media_key(&a.tenant.id, &up.media_id);
    let bucket = ctx.env.bucket("FILES")?;
    let r2 = bucket.resume_multipart_upload(&key, &up.r2_upload)?;
    let uploaded: Vec<UploadedPart> = parts
        .iter()
        .map(|p| UploadedPart::new(p.part as u16, p.etag.clone()))
        .collect();
    let object = match r2.complete(uploaded).await {
        Ok(object) => object,
        Err(error) => {
            db::batch(&db, vec![usage::adjust(&db, &a.tenant.id, delta.negate())?]).await?;
            return Err(ApiError::new(
                422,
                "UPLOAD_REJECTED",
                "The storage refused these parts; parts but the last must all be the same size",
            )
            .with_internal(error.to_string()));
        }
    };
    media::delete_upload(&db, &up.id).await?;
    let path = path_param(&ctx, 1)?;
    let kind = content_type::for_path(path.as_str());
    let row = new_row(
        &a,
        &up.media_id,
        &path,
        object.size() as i64,
        kind,
        object.etag(),
        ctx.now,
    );
    commit(&ctx, &a, row, seen.as_ref()).await
}

pub async fn abort(ctx: Ctx) -> ApiResult<Response> {
    let a = access(&ctx, Action::Write).await?;
    a.tenant_wide()?;
    let up = upload(&ctx, &a).await?;
    let bucket = ctx.env.bucket("FILES")?;
    bucket
        .resume_multipart_upload(tree::media_key(&a.tenant.id, &up.media_id), &up.r2_upload)?
        .abort()
        .await?;
    media::delete_upload(&ctx.db()?, &up.id).await?;
    respond::no_content()
}
