//! A large file's blob, streamed from its live copy in R2 into a pack of its own:
//! stored (uncompressed) deflate blocks make the pack's length known before the
//! bytes are read, which R2 needs, and nothing is held in memory.

use super::{NewPack, Repo};
use crate::domain::envelope::Opener;
use crate::domain::git::stored_pack::{blob_pack_len, BlobPackStream};
use crate::domain::git::{Kind, ObjectId};
use crate::store::sealed;
use futures_util::{stream, StreamExt};
use std::cell::RefCell;
use std::rc::Rc;
use worker::{Data, FixedLengthStream, HttpMetadata, Result};

type Finished = Rc<RefCell<Option<std::result::Result<(ObjectId, u64), String>>>>;

pub(super) async fn blob_pack(
    repo: &Repo<'_>,
    key: &str,
    size: u64,
) -> Result<(ObjectId, NewPack)> {
    let env = &repo.room.env;
    let (object, sealing) = repo.live_file(key).await?;
    let body = object
        .body()
        .ok_or_else(|| worker::Error::RustError(format!("{key} has no body")))?
        .stream()?;
    let data_key = super::super::privacy::sealing_key(repo.room, repo.ctx).await?;
    let plain: std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<Vec<u8>>>>> =
        match (sealing, &data_key) {
            (Some((header, plain_len)), Some(data_key)) => Box::pin(sealed::opening_stream(
                body,
                Opener::new(data_key, &header, plain_len, 0),
                0,
                plain_len,
            )),
            (None, _) => Box::pin(body),
            (Some(_), None) => {
                return Err(worker::Error::RustError(format!(
                    "{key} is sealed but the room is public"
                )))
            }
        };
    let (writer, head) = BlobPackStream::new(size);
    let finished: Finished = Rc::new(RefCell::new(None));
    let done = finished.clone();
    let packed = stream::once(async move { Ok(head) }).chain(stream::unfold(
        (Some(writer), plain, done),
        |(writer, mut plain, done)| async move {
            let mut writer = writer?;
            match plain.next().await {
                Some(Ok(chunk)) => {
                    let out = writer.push(&chunk);
                    Some((Ok(out), (Some(writer), plain, done)))
                }
                Some(Err(error)) => Some((Err(error), (None, plain, done))),
                None => match writer.finish() {
                    Ok((tail, id, entry_len)) => {
                        *done.borrow_mut() = Some(Ok((id, entry_len)));
                        Some((Ok(tail), (None, plain, done)))
                    }
                    Err(error) => {
                        *done.borrow_mut() = Some(Err(error.to_string()));
                        Some((
                            Err(worker::Error::RustError(error.to_string())),
                            (None, plain, done),
                        ))
                    }
                },
            }
        },
    ));
    let pack_len = blob_pack_len(size);
    // Named by a random id: its checksum is only known at the end.
    let name = format!("pack-{}.pack", crate::domain::crypto::random_token());
    let pack_key = repo.key_of(&name);
    let content_type = "application/x-git-packed-objects";
    match &data_key {
        Some(data_key) => {
            sealed::put_stream(
                env,
                &pack_key,
                packed,
                pack_len,
                content_type,
                data_key,
                Default::default(),
            )
            .await?;
        }
        None => {
            let body = FixedLengthStream::wrap(packed, pack_len);
            let metadata = HttpMetadata {
                content_type: Some(content_type.into()),
                ..Default::default()
            };
            env.bucket("FILES")?
                .put(&pack_key, Data::Stream(body))
                .http_metadata(metadata)
                .execute()
                .await?;
        }
    }
    let (id, entry_len) = finished
        .borrow_mut()
        .take()
        .ok_or_else(|| worker::Error::RustError("the blob stream did not finish".into()))?
        .map_err(worker::Error::RustError)?;
    let pack = NewPack {
        name,
        bytes: pack_len,
        entries: vec![(id, Kind::Blob, size, 12, entry_len, None)],
    };
    Ok((id, pack))
}
