//! The REST API: routing a request to discovery or to a resource, then get,
//! list (selectors, paging), watch, create, update, patch and delete with
//! the real semantics (resourceVersion conflicts, AlreadyExists, 422
//! validation, dryRun, no-op writes that change nothing).

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Value, json};

use super::authz::User;
use super::resources::{self, Resource};
use super::selectors::{FieldSelector, LabelSelector};
use super::state::Shared;
use super::status::{ApiError, success};
use super::store::{Event, random_suffix};
use super::{admission, patch, validate};

/// What a request addresses.
#[derive(Debug, Clone)]
pub struct Target {
    pub resource: &'static Resource,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub subresource: Option<String>,
}

#[derive(Debug)]
pub enum Route {
    Version,
    ApiVersions,
    GroupList,
    ResourceList(Value),
    OpenApi(Option<Value>),
    /// `/openapi/v2`, which kubectl reads as protobuf only.
    OpenApiV2,
    Resource(Target),
    NotFound,
}

/// Parses `/api/v1/...` and `/apis/GROUP/VERSION/...`.
pub fn route(serves: resources::Serves, path: &str) -> Route {
    let segs: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    match segs.as_slice() {
        ["version"] => return Route::Version,
        ["api"] => return Route::ApiVersions,
        ["apis"] => return Route::GroupList,
        ["openapi", "v2"] => return Route::OpenApiV2,
        ["openapi", "v3"] => return Route::OpenApi(Some(super::openapi::index(serves))),
        ["openapi", "v3", rest @ ..] => {
            return Route::OpenApi(super::openapi::group_version(serves, &rest.join("/")));
        }
        _ => {}
    }
    let (group, version, rest) = match segs.as_slice() {
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return Route::NotFound,
    };
    if rest.is_empty() {
        return resources::resource_list(serves, group, version)
            .map_or(Route::NotFound, Route::ResourceList);
    }
    let find = |plural: &str| resources::find(serves, group, version, plural);
    let target = match rest {
        ["namespaces", ns, plural, tail @ ..] if find(plural).is_some_and(|r| r.namespaced) => {
            Target {
                resource: find(plural).expect("checked"),
                namespace: Some((*ns).to_string()),
                name: tail.first().map(|s| (*s).to_string()),
                subresource: tail.get(1).map(|s| (*s).to_string()),
            }
        }
        [plural, tail @ ..] if find(plural).is_some() => Target {
            resource: find(plural).expect("checked"),
            namespace: None,
            name: tail.first().map(|s| (*s).to_string()),
            subresource: tail.get(1).map(|s| (*s).to_string()),
        },
        _ => return Route::NotFound,
    };
    Route::Resource(target)
}

/// The verb of a resource request, as RBAC names it.
pub fn verb(method: &Method, target: &Target, query: &Query) -> &'static str {
    match (method.as_str(), target.name.is_some()) {
        ("GET", true) => "get",
        ("GET", false) if query.watch => "watch",
        ("GET", false) => "list",
        ("POST", _) => "create",
        ("PUT", _) => "update",
        ("PATCH", _) => "patch",
        ("DELETE", true) => "delete",
        ("DELETE", false) => "deletecollection",
        _ => "unknown",
    }
}

#[derive(Debug, Default)]
pub struct Query {
    pub watch: bool,
    pub label_selector: Option<String>,
    pub field_selector: Option<String>,
    pub limit: Option<usize>,
    pub continue_token: Option<String>,
    pub resource_version: Option<String>,
    pub timeout_seconds: Option<u64>,
    pub dry_run: bool,
    pub allow_bookmarks: bool,
    /// `fieldValidation=Strict` (kubectl's default): unknown fields are an
    /// error rather than dropped.
    pub strict: bool,
}

impl Query {
    pub fn parse(uri: &Uri) -> Self {
        let mut q = Self::default();
        for pair in uri.query().unwrap_or_default().split('&') {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let v = percent_decode(v);
            match k {
                "watch" => q.watch = v == "1" || v == "true",
                "labelSelector" => q.label_selector = Some(v),
                "fieldSelector" => q.field_selector = Some(v),
                "limit" => q.limit = v.parse().ok().filter(|n| *n > 0),
                "continue" => q.continue_token = Some(v).filter(|s| !s.is_empty()),
                "resourceVersion" => q.resource_version = Some(v).filter(|s| !s.is_empty()),
                "timeoutSeconds" => q.timeout_seconds = v.parse().ok(),
                "dryRun" => q.dry_run = v == "All",
                "allowWatchBookmarks" => q.allow_bookmarks = v == "true",
                "fieldValidation" => q.strict = v == "Strict",
                _ => {}
            }
        }
        q
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match u8::from_str_radix(&s[i + 1..i + 3], 16) {
                Ok(b) => {
                    out.push(b);
                    i += 2;
                }
                Err(_) => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn json_response(code: StatusCode, v: &Value) -> Response {
    (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        v.to_string(),
    )
        .into_response()
}

pub fn version(flavor: resources::Flavor) -> Response {
    // OKD 3.11 runs Kubernetes 1.11.
    let (minor, git) = match flavor {
        resources::Flavor::OpenShift3 => ("11", "v1.11.0+d4cacc0"),
        resources::Flavor::OpenShift4 => ("32", "v1.32.4+openshift"),
        resources::Flavor::Kubernetes => ("32", "v1.32.4"),
    };
    json_response(
        StatusCode::OK,
        &json!({
            "major": "1", "minor": minor, "gitVersion": git, "gitCommit": "rhpull-emulator",
            "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.23.0",
            "compiler": "gc", "platform": "linux/amd64",
        }),
    )
}

pub fn discovery(route: &Route, serves: resources::Serves) -> Option<Response> {
    match route {
        Route::Version => Some(version(serves.flavor)),
        Route::ApiVersions => Some(json_response(StatusCode::OK, &resources::api_versions())),
        Route::GroupList => Some(json_response(
            StatusCode::OK,
            &resources::api_group_list(serves),
        )),
        Route::ResourceList(v) => Some(json_response(StatusCode::OK, v)),
        Route::OpenApi(Some(v)) => Some(json_response(StatusCode::OK, v)),
        Route::OpenApi(None) => Some(ApiError::path_not_found().into_response()),
        Route::OpenApiV2 => Some(
            (
                StatusCode::OK,
                [(
                    header::CONTENT_TYPE,
                    "application/com.github.proto-openapi.spec.v2.v1.0+protobuf",
                )],
                super::openapi::v2_protobuf(),
            )
                .into_response(),
        ),
        _ => None,
    }
}

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
    let result = match (method.as_str(), &t.name) {
        ("GET", Some(name)) => get(shared, t, name),
        ("GET", None) if q.watch => return watch(shared, t, q),
        ("GET", None) => list(shared, t, q),
        ("POST", None) if t.resource.create_only => review(user, &body),
        ("POST", None) => create(shared, t, q, &body),
        ("PUT", Some(name)) => update(shared, t, name, q, &body),
        ("PATCH", Some(name)) => patch_object(shared, t, name, q, headers, &body),
        ("DELETE", Some(name)) => delete(shared, t, name, q),
        _ => Err(ApiError::method_not_allowed()),
    };
    match result {
        Ok((code, v)) => json_response(code, &v),
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

fn selectors(t: &Target, q: &Query) -> Result<(LabelSelector, FieldSelector), ApiError> {
    let labels = LabelSelector::parse(q.label_selector.as_deref().unwrap_or_default())
        .map_err(ApiError::bad_request)?;
    let fields = FieldSelector::parse(
        q.field_selector.as_deref().unwrap_or_default(),
        t.resource.kind,
    )
    .map_err(ApiError::bad_request)?;
    Ok((labels, fields))
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

fn require_namespace(state: &super::state::State, t: &Target) -> Result<(), ApiError> {
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
    let name_err = if r.kind == "Namespace" {
        validate::dns1123_label(&name)
    } else {
        validate::dns1123_subdomain(&name)
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
    if let Some(schema) = r.hub.then(|| super::crds::schema(r.kind)).flatten() {
        let problems = super::schema::check(schema, obj);
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
    if t.resource.kind == "Pod" {
        admission::pod(&state, ns_of(t), &mut obj)
            .map_err(|m| ApiError::forbidden_message(t.resource, &name, m))?;
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

/// SelfSubjectAccessReview: the same rules as request authorisation.
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

fn watch_matches(e: &Event, t: &Target, labels: &LabelSelector, fields: &FieldSelector) -> bool {
    (e.resource.group, e.resource.plural) == (t.resource.group, t.resource.plural)
        && (!t.resource.namespaced
            || t.namespace.is_none()
            || e.object
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                == t.namespace.as_deref())
        && labels.matches(&e.object)
        && fields.matches(&e.object)
}

fn watch_line(kind: &str, object: &Value) -> Bytes {
    let mut s = json!({"type": kind, "object": object}).to_string();
    s.push('\n');
    Bytes::from(s)
}

/// A watch: past events (or the current objects as ADDED), then live ones,
/// as a stream of JSON lines, until `timeoutSeconds` or the server stops.
fn watch(shared: &Shared, t: &Target, q: &Query) -> Response {
    let (labels, fields) = match selectors(t, q) {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let state = shared.lock();
    let mut rx = shared.subscribe();
    let mut backlog: Vec<Bytes> = Vec::new();
    let since = q
        .resource_version
        .as_deref()
        .and_then(|rv| rv.parse::<u64>().ok())
        .filter(|rv| *rv > 0);
    let start_rv = state.store.resource_version();

    match since {
        None => {
            let ns = if t.resource.namespaced {
                t.namespace.as_deref()
            } else {
                None
            };
            for (_, v) in state.store.list(t.resource, ns) {
                if labels.matches(v) && fields.matches(v) {
                    backlog.push(watch_line("ADDED", v));
                }
            }
        }
        Some(rv) => match state.store.events_since(rv) {
            Some(events) => {
                for e in events
                    .iter()
                    .filter(|e| watch_matches(e, t, &labels, &fields))
                {
                    backlog.push(watch_line(e.kind, &e.object));
                }
            }
            None => {
                let gone = ApiError::gone(format!(
                    "too old resource version: {rv} ({})",
                    state.store.oldest_event_rv()
                ));
                backlog.push(watch_line("ERROR", &gone.status_body()));
                drop(state);
                return stream_response(futures_lite(backlog, None));
            }
        },
    }
    drop(state);
    let t = t.clone();
    let timeout = q.timeout_seconds.map(std::time::Duration::from_secs);
    let live = async_stream(move |tx: tokio::sync::mpsc::Sender<Bytes>| async move {
        let deadline = timeout.map(|d| tokio::time::Instant::now() + d);
        loop {
            let next = async {
                loop {
                    match rx.recv().await {
                        Ok(e) if e.rv > start_rv && watch_matches(&e, &t, &labels, &fields) => {
                            return Some(e);
                        }
                        Ok(_) => continue,
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(_) => return None,
                    }
                }
            };
            let event = match deadline {
                Some(d) => tokio::time::timeout_at(d, next).await.unwrap_or_default(),
                None => next.await,
            };
            let Some(e) = event else { break };
            if tx.send(watch_line(e.kind, &e.object)).await.is_err() {
                break;
            }
        }
    });
    stream_response(futures_lite(backlog, Some(live)))
}

fn stream_response(rx: tokio::sync::mpsc::Receiver<Bytes>) -> Response {
    let stream = tokio_stream_from(rx);
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::TRANSFER_ENCODING, "chunked")
        .body(Body::from_stream(stream))
        .expect("watch response")
}

/// Runs `f` with a channel's sender on the runtime; returns the receiver.
fn async_stream<F, Fut>(f: F) -> tokio::sync::mpsc::Receiver<Bytes>
where
    F: FnOnce(tokio::sync::mpsc::Sender<Bytes>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(256);
    tokio::spawn(f(tx));
    rx
}

/// The backlog first, then whatever `live` yields.
fn futures_lite(
    backlog: Vec<Bytes>,
    live: Option<tokio::sync::mpsc::Receiver<Bytes>>,
) -> tokio::sync::mpsc::Receiver<Bytes> {
    async_stream(move |tx| async move {
        for b in backlog {
            if tx.send(b).await.is_err() {
                return;
            }
        }
        if let Some(mut live) = live {
            while let Some(b) = live.recv().await {
                if tx.send(b).await.is_err() {
                    return;
                }
            }
        }
    })
}

fn tokio_stream_from(
    mut rx: tokio::sync::mpsc::Receiver<Bytes>,
) -> impl futures_core::Stream<Item = Result<Bytes, std::io::Error>> + Send {
    futures_util_unfold(move |cx| rx.poll_recv(cx).map(|o| o.map(Ok)))
}

/// `poll_fn` as a stream, without pulling in a stream-utilities crate.
fn futures_util_unfold<F>(f: F) -> PollFnStream<F>
where
    F: FnMut(&mut std::task::Context<'_>) -> std::task::Poll<Option<Result<Bytes, std::io::Error>>>,
{
    PollFnStream(f)
}

pub struct PollFnStream<F>(F);

impl<F> std::fmt::Debug for PollFnStream<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PollFnStream")
    }
}

impl<F> futures_core::Stream for PollFnStream<F>
where
    F: FnMut(&mut std::task::Context<'_>) -> std::task::Poll<Option<Result<Bytes, std::io::Error>>>
        + Unpin,
{
    type Item = Result<Bytes, std::io::Error>;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        (self.0)(cx)
    }
}

/// Answers for a watch or a request that the fault injector drops: the
/// body fails mid-stream, so the client sees the connection cut.
pub fn dropped() -> Response {
    let stream = PollFnStream(|_cx: &mut std::task::Context<'_>| {
        std::task::Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "dropped by fault injection",
        ))))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(stream))
        .expect("dropped response")
}
