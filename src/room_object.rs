//! The Room Durable Object: one per room, named by the room's id. It is the room's
//! single writer; for now it keeps the room's version counter and can be purged when
//! the room's tenant is deleted. Files, history and locks arrive with the rooms API.

use worker::{durable_object, DurableObject, Env, Method, Request, Response, Result, State};

#[durable_object]
pub struct Room {
    state: State,
}

impl DurableObject for Room {
    fn new(state: State, _env: Env) -> Self {
        Self { state }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        let storage = self.state.storage();
        match req.method() {
            Method::Get => {
                let version: u64 = storage.get("version").await.ok().flatten().unwrap_or(0);
                Response::from_json(&serde_json::json!({ "version": version }))
            }
            Method::Delete => {
                storage.delete_all().await?;
                Ok(Response::empty()?.with_status(204))
            }
            _ => Response::error("method not allowed", 405),
        }
    }
}
