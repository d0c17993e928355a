//! Where a request goes: URL parsing into discovery or a resource
//! [`Target`], the RBAC verb of a request, its query parameters, and the
//! discovery answers.

use axum::http::{Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::super::resources::{self, Resource};
use super::super::selectors::{FieldSelector, LabelSelector};
use super::super::status::ApiError;

/// What a request addresses.
#[derive(Debug, Clone)]
pub struct Target {
    pub resource: &'static Resource,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub subresource: Option<String>,
    /// What follows the subresource (`configz` of `nodes/N/proxy/configz`).
    pub rest: Option<String>,
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
        ["openapi", "v3"] => return Route::OpenApi(Some(super::super::openapi::index(serves))),
        ["openapi", "v3", rest @ ..] => {
            return Route::OpenApi(super::super::openapi::group_version(
                serves,
                &rest.join("/"),
            ));
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
                rest: (tail.len() > 2).then(|| tail[2..].join("/")),
            }
        }
        [plural, tail @ ..] if find(plural).is_some() => Target {
            resource: find(plural).expect("checked"),
            namespace: None,
            name: tail.first().map(|s| (*s).to_string()),
            subresource: tail.get(1).map(|s| (*s).to_string()),
            rest: (tail.len() > 2).then(|| tail[2..].join("/")),
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

pub(super) fn json_response(code: StatusCode, v: &Value) -> Response {
    (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        v.to_string(),
    )
        .into_response()
}

pub fn version(flavour: resources::Flavour) -> Response {
    // OKD 3.11 runs Kubernetes 1.11.
    let (minor, git) = match flavour {
        resources::Flavour::OpenShift3 => ("11", "v1.11.0+d4cacc0"),
        resources::Flavour::OpenShift4 | resources::Flavour::Hosted => ("32", "v1.32.4+openshift"),
        resources::Flavour::Kubernetes => ("32", "v1.32.4"),
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
        Route::Version => Some(version(serves.flavour)),
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
                super::super::openapi::v2_protobuf(),
            )
                .into_response(),
        ),
        _ => None,
    }
}

/// The request's label and field selectors, parsed for its resource.
pub fn selectors(t: &Target, q: &Query) -> Result<(LabelSelector, FieldSelector), ApiError> {
    let labels = LabelSelector::parse(q.label_selector.as_deref().unwrap_or_default())
        .map_err(ApiError::bad_request)?;
    let fields = FieldSelector::parse(
        q.field_selector.as_deref().unwrap_or_default(),
        t.resource.kind,
    )
    .map_err(ApiError::bad_request)?;
    Ok((labels, fields))
}
