//! The Worker's side of the Room Durable Object (`crate::room_object`): each call is one
//! `fetch` to the room's object, carrying who and what in an `x-room-ctx` header.

use serde::{Deserialize, Serialize};
use worker::{Env, Headers, Method, Request, RequestInit, Response, Result, Url};

/// What the room object needs to know about a call: the room, its tenant and plan (for
/// quotas), the user (author of the change) and the request's time.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoomCtx {
    pub tenant: String,
    pub room: String,
    pub plan: String,
    pub user: String,
    pub now: i64,
    /// The commit message for a change to the room's files (`X-Commit-Message`).
    #[serde(default)]
    pub message: Option<String>,
}

/// A request body for the room object: a stream of known length, or bytes.
pub enum Payload {
    None,
    Bytes(Vec<u8>),
    Stream(worker::web_sys::ReadableStream, u64),
    /// A stream of unknown length (git sends large pushes chunked); the object bounds it.
    Chunked(worker::web_sys::ReadableStream),
}

pub struct Call<'a> {
    pub method: Method,
    pub op: &'a str,
    pub args: &'a [(&'a str, &'a str)],
    pub headers: &'a [(&'a str, String)],
    pub payload: Payload,
}

impl<'a> Call<'a> {
    pub fn new(method: Method, op: &'a str) -> Self {
        Self {
            method,
            op,
            args: &[],
            headers: &[],
            payload: Payload::None,
        }
    }
}

/// Sends one call to the room's object and returns its answer as is.
pub async fn call(env: &Env, ctx: &RoomCtx, call: Call<'_>) -> Result<Response> {
    let mut url = Url::parse(&format!("https://room/{}", call.op))?;
    for (name, value) in call.args {
        url.query_pairs_mut().append_pair(name, value);
    }
    let headers = Headers::new();
    headers.set("x-room-ctx", &serde_json::to_string(ctx)?)?;
    for (name, value) in call.headers {
        headers.set(name, value)?;
    }
    let mut init = RequestInit::new();
    init.with_method(call.method);
    match call.payload {
        Payload::None => {}
        Payload::Bytes(bytes) => {
            headers.set("x-size", &bytes.len().to_string())?;
            let array = worker::js_sys::Uint8Array::from(bytes.as_slice());
            init.with_body(Some(array.into()));
        }
        Payload::Stream(stream, size) => {
            headers.set("x-size", &size.to_string())?;
            headers.set("content-length", &size.to_string())?;
            init.with_body(Some(stream.into()));
        }
        Payload::Chunked(stream) => {
            init.with_body(Some(stream.into()));
        }
    }
    init.with_headers(headers);
    let stub = env
        .durable_object("ROOM")?
        .id_from_name(&ctx.room)?
        .get_stub()?;
    stub.fetch_with_request(Request::new_with_init(url.as_str(), &init)?)
        .await
}
