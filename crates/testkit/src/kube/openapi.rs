//! Just enough of `/openapi/v3` for kubectl: the index of group-versions,
//! and per group-version the PATCH operations tagged with their
//! GroupVersionKind and the `fieldValidation` parameter. kubectl reads them
//! to learn that the server validates fields itself (server-side
//! validation), so `kubectl create -f` needs no client-side schema.

use serde_json::{Map, Value, json};

use super::resources::{Resource, Serves, served};

fn gv_path(r: &Resource) -> String {
    if r.group.is_empty() {
        format!("api/{}", r.version)
    } else {
        format!("apis/{}/{}", r.group, r.version)
    }
}

/// `GET /openapi/v2`: a document with no definitions, in the protobuf
/// kubectl asks for (gnostic's `openapi_v2.Document`: `swagger` = 1,
/// `info` = 2 with `title` = 1 and `version` = 2). kubectl reads it to
/// validate what v3 cannot describe — a `v1 List` given to `apply -f` —
/// and leaves a kind it finds no definition for to the server, which
/// checks every item itself.
pub fn v2_protobuf() -> Vec<u8> {
    fn field(number: u8, bytes: &[u8]) -> Vec<u8> {
        let mut out = vec![(number << 3) | 2, u8::try_from(bytes.len()).expect("short")];
        out.extend_from_slice(bytes);
        out
    }
    let info = [field(1, b"Kubernetes"), field(2, b"v1.32.4")].concat();
    [field(1, b"2.0"), field(2, &info)].concat()
}

/// `GET /openapi/v3`.
pub fn index(serves: Serves) -> Value {
    let mut paths = Map::new();
    for r in served(serves) {
        let p = gv_path(r);
        paths.insert(
            p.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{p}?hash=rhpull")}),
        );
    }
    json!({"paths": paths})
}

/// `GET /openapi/v3/api/v1` and `/openapi/v3/apis/GROUP/VERSION`.
pub fn group_version(serves: Serves, path: &str) -> Option<Value> {
    let mut paths = Map::new();
    for r in served(serves).filter(|r| gv_path(r) == path && !r.create_only) {
        let url = if r.namespaced {
            format!(
                "/{}/namespaces/{{namespace}}/{}/{{name}}",
                gv_path(r),
                r.plural
            )
        } else {
            format!("/{}/{}/{{name}}", gv_path(r), r.plural)
        };
        paths.insert(
            url,
            json!({"patch": {
                "operationId": format!("patch{}", r.kind),
                "x-kubernetes-action": "patch",
                "x-kubernetes-group-version-kind": {"group": r.group, "version": r.version, "kind": r.kind},
                "parameters": [
                    {"name": "dryRun", "in": "query", "schema": {"type": "string"}},
                    {"name": "fieldManager", "in": "query", "schema": {"type": "string"}},
                    {"name": "fieldValidation", "in": "query", "schema": {"type": "string"}},
                ],
                "responses": {"200": {"description": "OK"}},
            }}),
        );
    }
    if paths.is_empty() {
        return None;
    }
    Some(
        json!({"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.32.4"}, "paths": paths}),
    )
}
