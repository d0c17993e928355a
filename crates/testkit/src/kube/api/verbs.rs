//! The verbs on a resource with the API server's semantics: get, list
//! (selectors, paging), create, update, patch and delete
//! (resourceVersion conflicts, AlreadyExists, 422 validation, `dryRun`,
//! writes that change nothing), and access reviews.

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Value, json};

use super::super::authz::User;
use super::super::resources::{self, Resource};
use super::super::state::Shared;
use super::super::status::{ApiError, success};
use super::super::store::random_suffix;
use super::super::{admission, patch, rbac, validate};
use super::route::{Query, Target, json_response, selectors};
use super::watch::watch;

/// Handles a resource request for an authorised user.
pub async fn handle(
    shared: &Shared,
    user: &User,
    method: &Method,
    t: &Target,
    q: &Query,
    headers: &HeaderMap,
    body: Bytes,
) -> Response {
    let table = super::super::table::wanted(headers);
    let result = match (method.as_str(), &t.name) {
        ("GET", Some(name)) => get(shared, t, name),
        ("GET", None) if q.watch => return watch(shared, t, q, table),
        ("GET", None) => list(shared, t, q),
        ("POST", None) if t.resource.plural == "subjectaccessreviews" => {
            subject_review(shared, user, &body)
        }
        ("POST", None) if t.resource.create_only => review(user, &body),
        ("POST", None) => create(shared, t, q, &body),
        ("PUT", Some(name)) => update(shared, t, name, q, &body),
        ("PATCH", Some(name)) => patch_object(shared, t, name, q, headers, &body),
        ("DELETE", Some(name)) => delete(shared, t, name, q),
        ("DELETE", None) if t.resource.kind != "Namespace" => delete_collection(shared, t, q),
        _ => Err(ApiError::method_not_allowed()),
    };
    // kubectl's `get` asks for a Table: its columns where the kind has them.
    let printed = |v: Value| match (method.as_str(), table) {
        ("GET", true) => super::super::table::of(t.resource.kind, &v).unwrap_or(v),
        _ => v,
    };
    match result {
        Ok((code, v)) => json_response(code, &printed(v)),
        Err(e) => e.into_response(),
    }
}

type ApiResult = Result<(StatusCode, Value), ApiError>;

fn ns_of(t: &Target) -> &str {
    if t.resource.namespaced {
        t.namespace.as_deref().unwrap_or_default()
    } else {
        ""
    }
}

fn get(shared: &Shared, t: &Target, name: &str) -> ApiResult {
    let state = shared.lock();
    state
        .store
        .get(t.resource, ns_of(t), name)
        .cloned()
        .map(|v| (StatusCode::OK, v))
        .ok_or_else(|| ApiError::not_found(t.resource, name))
}

fn list(shared: &Shared, t: &Target, q: &Query) -> ApiResult {
    let (labels, fields) = selectors(t, q)?;
    let state = shared.lock();
    let after: Option<(String, String)> = match &q.continue_token {
        Some(tok) => {
            let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(tok)
                .ok()
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                .ok_or_else(|| ApiError::bad_request("invalid continue token"))?;
            Some((
                raw["ns"].as_str().unwrap_or_default().to_string(),
                raw["name"].as_str().unwrap_or_default().to_string(),
            ))
        }
        None => None,
    };
    let ns = if t.resource.namespaced {
        t.namespace.as_deref()
    } else {
        None
    };
    let mut items = Vec::new();
    let mut more: Option<(String, String)> = None;
    let mut remaining = 0usize;
    for (k, v) in state.store.list(t.resource, ns) {
        if after
            .as_ref()
            .is_some_and(|(a_ns, a_name)| (&k.1, &k.2) <= (a_ns, a_name))
        {
            continue;
        }
        if !labels.matches(v) || !fields.matches(v) {
            continue;
        }
        if q.limit.is_some_and(|l| items.len() >= l) {
            if more.is_none() {
                let last: &Value = items.last().expect("limit > 0");
                more = Some((
                    last.pointer("/metadata/namespace")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    last.pointer("/metadata/name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                ));
            }
            remaining += 1;
            continue;
        }
        items.push(v.clone());
    }
    let mut meta = json!({"resourceVersion": state.store.resource_version().to_string()});
    if let Some((ns, name)) = more {
        let tok = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(json!({"ns": ns, "name": name}).to_string());
        meta["continue"] = json!(tok);
        meta["remainingItemCount"] = json!(remaining);
    }
    Ok((
        StatusCode::OK,
        json!({"apiVersion": t.resource.api_version(), "kind": format!("{}List", t.resource.kind), "metadata": meta, "items": items}),
    ))
}

fn parse_body(body: &Bytes) -> Result<Value, ApiError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("error decoding the request body: {e}")))?;
    if !v.is_object() {
        return Err(ApiError::bad_request(
            "the request body must be a JSON object",
        ));
    }
    Ok(v)
}

fn require_namespace(state: &super::super::state::State, t: &Target) -> Result<(), ApiError> {
    if t.resource.namespaced {
        let ns = ns_of(t);
        let ns_res = resources::by_kind("Namespace").expect("namespaces");
        if state.store.get(ns_res, "", ns).is_none() {
            return Err(ApiError::not_found(ns_res, ns));
        }
    }
    Ok(())
}

/// Kind-specific validation of an object about to be written.
fn validate_object(
    r: &'static Resource,
    obj: &mut Value,
    old: Option<&Value>,
    strict: bool,
) -> Result<(), ApiError> {
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let mut errs = Vec::new();
    let name_err = match r.kind {
        "Namespace" => validate::dns1123_label(&name),
        // RBAC names are path segments (`system:image-puller`).
        "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding" => {
            validate::path_segment(&name)
        }
        _ => validate::dns1123_subdomain(&name),
    };
    if let Some(e) = name_err {
        errs.push(("metadata.name".to_string(), e));
    }
    match r.kind {
        "Secret" => {
            // The API server defaults an empty type to Opaque.
            if obj
                .get("type")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                obj["type"] = json!("Opaque");
            }
            validate::fold_string_data(obj);
            errs.extend(validate::secret(obj, old));
        }
        "RoleBinding" | "ClusterRoleBinding" => errs.extend(validate::binding(obj, old)),
        _ => {}
    }
    let custom = r.hub || r.addon.is_some();
    if let Some(schema) = custom
        .then(|| super::super::crds::schema(r.kind, r.version))
        .flatten()
    {
        let problems = super::super::schema::check(schema, obj);
        if strict && !problems.unknown.is_empty() {
            let fields: Vec<String> = (problems.unknown.iter())
                .map(|f| format!("unknown field \"{f}\""))
                .collect();
            return Err(ApiError::bad_request(format!(
                "{} in version \"{}\" cannot be handled as a {}: strict decoding error: {}",
                r.kind,
                r.version,
                r.kind,
                fields.join(", ")
            )));
        }
        errs.extend(problems.invalid);
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(r, &name, errs))
    }
}

fn create(shared: &Shared, t: &Target, q: &Query, body: &Bytes) -> ApiResult {
    let mut obj = parse_body(body)?;
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj["metadata"] = json!({});
    }
    let generate = obj
        .pointer("/metadata/generateName")
        .and_then(Value::as_str)
        .map(str::to_string);
    if obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        match generate {
            Some(prefix) => {
                obj["metadata"]["name"] = json!(format!("{prefix}{}", random_suffix(5)))
            }
            None => {
                return Err(ApiError::invalid(
                    t.resource,
                    "",
                    vec![(
                        "metadata.name".into(),
                        "Required value: name or generateName is required".into(),
                    )],
                ));
            }
        }
    }
    let name = obj["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if let (Some(body_ns), Some(path_ns)) = (
        obj.pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty()),
        &t.namespace,
    ) && t.resource.namespaced
        && body_ns != path_ns
    {
        return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    validate_object(t.resource, &mut obj, None, q.strict)?;
    let mut state = shared.lock();
    require_namespace(&state, t)?;
    if state.store.get(t.resource, ns_of(t), &name).is_some() {
        return Err(ApiError::already_exists(t.resource, &name));
    }
    admission::defaults(t.resource.kind, &mut obj);
    if t.resource.kind == "Pod" {
        admission::pod(&state, ns_of(t), &mut obj)
            .map_err(|m| ApiError::forbidden_message(t.resource, &name, m))?;
    }
    if t.resource.kind == "ServiceAccount" {
        super::super::kyverno::admit(&state, ns_of(t), &mut obj);
    }
    let (out, event) = state.store.insert_new(t.resource, ns_of(t), obj, q.dry_run);
    drop(state);
    if let Some(e) = event {
        shared.publish(e);
    }
    Ok((StatusCode::CREATED, out))
}

fn check_rv(t: &Target, name: &str, current: &Value, sent: Option<&str>) -> Result<(), ApiError> {
    match sent {
        Some(rv)
            if !rv.is_empty()
                && current
                    .pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str)
                    != Some(rv) =>
        {
            Err(ApiError::conflict(t.resource, name))
        }
        _ => Ok(()),
    }
}

fn write(
    shared: &Shared,
    t: &Target,
    name: &str,
    q: &Query,
    current: Value,
    mut obj: Value,
) -> ApiResult {
    if obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .is_some_and(|n| n != name)
    {
        return Err(ApiError::bad_request(
            "the name of the object does not match the name on the URL",
        ));
    }
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj["metadata"] = json!({});
    }
    obj["metadata"]["name"] = json!(name);
    let mut obj = scoped_to_subresource(t, &current, obj)?;
    validate_object(t.resource, &mut obj, Some(&current), q.strict)?;
    let mut state = shared.lock();
    // Re-check under the lock: another writer may have won meanwhile.
    let latest = state
        .store
        .get(t.resource, ns_of(t), name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(t.resource, name))?;
    if latest["metadata"]["resourceVersion"] != current["metadata"]["resourceVersion"] {
        return Err(ApiError::conflict(t.resource, name));
    }
    if t.resource.kind == "ServiceAccount" {
        super::super::kyverno::admit(&state, ns_of(t), &mut obj);
    }
    let (out, event) = state
        .store
        .replace(t.resource, ns_of(t), &latest, obj, q.dry_run);
    drop(state);
    if let Some(e) = event {
        shared.publish(e);
    }
    Ok((StatusCode::OK, out))
}

/// What a write may change: through `/status` only the status (what the
/// kubelet or a controller writes); through the object itself of a kind
/// with a status subresource, all but the status (the real strategies keep
/// the old status on update).
fn scoped_to_subresource(t: &Target, current: &Value, obj: Value) -> Result<Value, ApiError> {
    match t.subresource.as_deref() {
        Some("status") => {
            let mut out = current.clone();
            out["status"] = obj.get("status").cloned().unwrap_or(json!({}));
            Ok(out)
        }
        Some(_) => Err(ApiError::path_not_found()),
        None if t.resource.status_subresource => {
            let mut out = obj;
            out["status"] = current.get("status").cloned().unwrap_or(json!({}));
            Ok(out)
        }
        None => Ok(obj),
    }
}

fn current(shared: &Shared, t: &Target, name: &str) -> Result<Value, ApiError> {
    shared
        .lock()
        .store
        .get(t.resource, ns_of(t), name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(t.resource, name))
}

fn update(shared: &Shared, t: &Target, name: &str, q: &Query, body: &Bytes) -> ApiResult {
    let obj = parse_body(body)?;
    let cur = current(shared, t, name)?;
    check_rv(
        t,
        name,
        &cur,
        obj.pointer("/metadata/resourceVersion")
            .and_then(Value::as_str),
    )?;
    write(shared, t, name, q, cur, obj)
}

fn patch_object(
    shared: &Shared,
    t: &Target,
    name: &str,
    q: &Query,
    headers: &HeaderMap,
    body: &Bytes,
) -> ApiResult {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let content_type = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    let patch_doc: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
    let cur = current(shared, t, name)?;
    let patched = match content_type.as_str() {
        "application/json-patch+json" => patch::json_patch(&cur, &patch_doc),
        "application/merge-patch+json" => Ok(patch::merge_patch(&cur, &patch_doc)),
        "application/strategic-merge-patch+json" => {
            patch::strategic_merge(t.resource.kind, &cur, &patch_doc)
        }
        other => return Err(ApiError::unsupported_media(other)),
    }
    .map_err(|e| ApiError::invalid(t.resource, name, vec![("patch".into(), e)]))?;
    // A resourceVersion in the patch is a precondition.
    let sent = patch_doc
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str);
    check_rv(t, name, &cur, sent)?;
    write(shared, t, name, q, cur, patched)
}

fn delete(shared: &Shared, t: &Target, name: &str, q: &Query) -> ApiResult {
    let mut state = shared.lock();
    let ns = ns_of(t).to_string();
    if state.store.get(t.resource, &ns, name).is_none() {
        return Err(ApiError::not_found(t.resource, name));
    }
    let mut events = Vec::new();
    if t.resource.kind == "Namespace" && !q.dry_run {
        // Everything in the namespace goes with it (the real server does it
        // asynchronously; here at once, in order).
        for k in state.store.keys_in_namespace(name) {
            let r = resources::RESOURCES
                .iter()
                .find(|r| format!("{}/{}", r.group, r.plural) == k.0)
                .expect("stored resource");
            if let Some((_, Some(e))) = state.store.remove(r, &k.1, &k.2, false) {
                events.push(e);
            }
        }
    }
    let (obj, event) = state
        .store
        .remove(t.resource, &ns, name, q.dry_run)
        .expect("present");
    events.extend(event);
    drop(state);
    for e in events {
        shared.publish(e);
    }
    if t.resource.kind == "Namespace" {
        let mut o = obj;
        o["status"] = json!({"phase": "Terminating"});
        return Ok((StatusCode::OK, o));
    }
    let uid = obj
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or_default();
    Ok((StatusCode::OK, success(t.resource, name, uid)))
}

/// `deletecollection`: every object of the namespace (or all) that the
/// selectors match, deleted, answered with their list, as the API server's
/// `DeleteCollection` answers.
fn delete_collection(shared: &Shared, t: &Target, q: &Query) -> ApiResult {
    let (labels, fields) = selectors(t, q)?;
    let mut state = shared.lock();
    let ns = t.resource.namespaced.then(|| ns_of(t).to_string());
    let ns = ns.filter(|n| !n.is_empty());
    let names: Vec<(String, String)> = (state.store.list(t.resource, ns.as_deref()))
        .filter(|(_, v)| labels.matches(v) && fields.matches(v))
        .map(|(k, _)| (k.1.clone(), k.2.clone()))
        .collect();
    let (mut items, mut events) = (Vec::new(), Vec::new());
    for (ns, name) in names {
        if let Some((obj, event)) = state.store.remove(t.resource, &ns, &name, q.dry_run) {
            items.push(obj);
            events.extend(event);
        }
    }
    let rv = state.store.resource_version().to_string();
    drop(state);
    for e in events {
        shared.publish(e);
    }
    Ok((
        StatusCode::OK,
        json!({"apiVersion": t.resource.api_version(), "kind": format!("{}List", t.resource.kind),
               "metadata": {"resourceVersion": rv}, "items": items}),
    ))
}

/// SelfSubjectAccessReview: the same rules as request authorisation.
/// A SubjectAccessReview: may this other subject do it? The caller must
/// be allowed to ask (`create subjectaccessreviews`); the subject's rights
/// come from the RBAC objects stored (a built-in user's from its rules).
fn subject_review(shared: &Shared, user: &User, body: &Bytes) -> ApiResult {
    let r = resources::by_kind("SubjectAccessReview").ok_or_else(ApiError::method_not_allowed)?;
    if !user.allows("create", r.group, r.plural, None) {
        return Err(ApiError::forbidden(&user.name, "create", r, None, None));
    }
    let mut obj = parse_body(body)?;
    let spec = obj.get("spec").cloned().unwrap_or(json!({}));
    let text = |v: &Value, k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let attrs = spec.get("resourceAttributes").cloned().unwrap_or(json!({}));
    let groups: Vec<String> = (spec.get("groups").and_then(Value::as_array).into_iter())
        .flatten()
        .filter_map(|g| g.as_str().map(str::to_string))
        .collect();
    // Exactly the user and groups the review names, as the API server
    // evaluates them (`pkg/registry/authorization/subjectaccessreview`,
    // `AuthorizationAttributesFrom`): a service account's groups count
    // only when the caller lists them.
    let subject = rbac::Subject {
        user: text(&spec, "user"),
        groups,
    };
    let a = rbac::Attributes {
        verb: text(&attrs, "verb"),
        group: text(&attrs, "group"),
        resource: text(&attrs, "resource"),
        subresource: text(&attrs, "subresource"),
        namespace: text(&attrs, "namespace"),
        name: text(&attrs, "name"),
    };
    let allowed = rbac::allows(&shared.lock().store, &subject, &a);
    obj["apiVersion"] = json!("authorization.k8s.io/v1");
    obj["kind"] = json!("SubjectAccessReview");
    obj["status"] = if allowed {
        json!({"allowed": true, "reason": "RBAC: allowed by a binding"})
    } else {
        json!({"allowed": false})
    };
    Ok((StatusCode::CREATED, obj))
}

fn review(user: &User, body: &Bytes) -> ApiResult {
    let mut obj = parse_body(body)?;
    let attrs = obj
        .pointer("/spec/resourceAttributes")
        .cloned()
        .unwrap_or(json!({}));
    let s = |k: &str| {
        attrs
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let ns = s("namespace");
    let allowed = user.allows(
        &s("verb"),
        &s("group"),
        &s("resource"),
        (!ns.is_empty()).then_some(ns.as_str()),
    );
    obj["apiVersion"] = json!("authorization.k8s.io/v1");
    obj["kind"] = json!("SelfSubjectAccessReview");
    obj["status"] = if allowed {
        json!({"allowed": true, "reason": "allowed by the emulator's rules"})
    } else {
        json!({"allowed": false})
    };
    Ok((StatusCode::CREATED, obj))
}
