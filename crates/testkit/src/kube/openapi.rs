//! Just enough of `/openapi/v3` for kubectl: the index of group-versions,
//! and per group-version the PATCH operations tagged with their
//! GroupVersionKind and the `fieldValidation` parameter. kubectl reads them
//! to learn that the server validates fields itself (server-side
//! validation), so `kubectl create -f` needs no client-side schema.

use serde_json::{Map, Value, json};

use super::resources::{Flavor, Resource, served};

fn gv_path(r: &Resource) -> String {
    if r.group.is_empty() {
        format!("api/{}", r.version)
    } else {
        format!("apis/{}/{}", r.group, r.version)
    }
}

/// `GET /openapi/v3`.
pub fn index(flavor: Flavor) -> Value {
    let mut paths = Map::new();
    for r in served(flavor) {
        let p = gv_path(r);
        paths.insert(
            p.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{p}?hash=rhpull")}),
        );
    }
    json!({"paths": paths})
}

/// `GET /openapi/v3/api/v1` and `/openapi/v3/apis/GROUP/VERSION`.
pub fn group_version(flavor: Flavor, path: &str) -> Option<Value> {
    let mut paths = Map::new();
    for r in served(flavor).filter(|r| gv_path(r) == path && !r.create_only) {
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
