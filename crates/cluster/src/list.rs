//! Lists read page by page (`limit` + `continue`, as kubectl reads them),
//! so large lists never come in one answer.

use kube::api::{Api, ListParams};
use serde::de::DeserializeOwned;

/// Lists `api` page by page: 500 at a time, as kubectl does, unless the
/// caller's params carry a limit of their own.
pub async fn list_all<K>(api: &Api<K>, params: ListParams) -> Result<Vec<K>, kube::Error>
where
    K: kube::Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    let mut out = Vec::new();
    let mut params = if params.limit.is_some() {
        params
    } else {
        params.limit(500)
    };
    loop {
        let page = api.list(&params).await?;
        out.extend(page.items);
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(out),
        }
    }
}
