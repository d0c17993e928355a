//! API errors as real `Status` objects, with the messages the real API
//! server writes (kubectl and kube-rs show and match on them).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::resources::Resource;

/// An API error ready to send.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    pub details: Value,
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: String, details: Value) -> Self {
        Self {
            code,
            reason,
            message,
            details,
        }
    }

    fn details(r: &Resource, name: &str) -> Value {
        json!({"name": name, "group": r.group, "kind": r.plural})
    }

    pub fn not_found(r: &Resource, name: &str) -> Self {
        let gr = group_resource(r);
        Self::new(
            404,
            "NotFound",
            format!("{gr} \"{name}\" not found"),
            Self::details(r, name),
        )
    }

    pub fn already_exists(r: &Resource, name: &str) -> Self {
        let gr = group_resource(r);
        Self::new(
            409,
            "AlreadyExists",
            format!("{gr} \"{name}\" already exists"),
            Self::details(r, name),
        )
    }

    pub fn conflict(r: &Resource, name: &str) -> Self {
        let gr = group_resource(r);
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {gr} \"{name}\": the object has been modified; please apply your changes to the latest version and try again"
            ),
            Self::details(r, name),
        )
    }

    /// 422 with one or more field causes.
    pub fn invalid(r: &Resource, name: &str, causes: Vec<(String, String)>) -> Self {
        let text: Vec<String> = causes.iter().map(|(f, m)| format!("{f}: {m}")).collect();
        let mut details = Self::details(r, name);
        details["kind"] = json!(r.kind);
        details["causes"] = json!(
            causes
                .iter()
                .map(|(f, m)| json!({"reason": "FieldValueInvalid", "message": m, "field": f}))
                .collect::<Vec<_>>()
        );
        Self::new(
            422,
            "Invalid",
            format!("{} \"{name}\" is invalid: {}", r.kind, text.join(", ")),
            details,
        )
    }

    pub fn forbidden(
        user: &str,
        verb: &str,
        r: &Resource,
        namespace: Option<&str>,
        name: Option<&str>,
    ) -> Self {
        let gr = group_resource(r);
        let mut msg = match name {
            Some(n) => format!(
                "{gr} \"{n}\" is forbidden: User \"{user}\" cannot {verb} resource \"{}\" in API group \"{}\"",
                r.plural, r.group
            ),
            None => format!(
                "{gr} is forbidden: User \"{user}\" cannot {verb} resource \"{}\" in API group \"{}\"",
                r.plural, r.group
            ),
        };
        match namespace {
            Some(ns) => msg.push_str(&format!(" in the namespace \"{ns}\"")),
            None => msg.push_str(" at the cluster scope"),
        }
        Self::new(
            403,
            "Forbidden",
            msg,
            Self::details(r, name.unwrap_or_default()),
        )
    }

    /// 403 from an admission plugin, with its own message.
    pub fn forbidden_message(r: &Resource, name: &str, message: String) -> Self {
        Self::new(
            403,
            "Forbidden",
            format!("{} \"{name}\" is forbidden: {message}", group_resource(r)),
            Self::details(r, name),
        )
    }

    /// An injected fault's status.
    pub fn injected(code: u16) -> Self {
        let reason = match code {
            429 => "TooManyRequests",
            500 => "InternalError",
            503 => "ServiceUnavailable",
            504 => "Timeout",
            409 => "Conflict",
            422 => "Invalid",
            _ => "Unknown",
        };
        Self::new(code, reason, format!("injected fault: {reason}"), json!({}))
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message.into(), json!({}))
    }

    pub fn unauthorized() -> Self {
        Self::new(401, "Unauthorized", "Unauthorized".into(), json!({}))
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource".into(),
            json!({}),
        )
    }

    pub fn path_not_found() -> Self {
        Self::new(
            404,
            "NotFound",
            "the server could not find the requested resource".into(),
            json!({}),
        )
    }

    pub fn unsupported_media(content_type: &str) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got {content_type})"
            ),
            json!({}),
        )
    }

    pub fn gone(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message.into(), json!({}))
    }

    pub fn status_body(&self) -> Value {
        json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {},
            "status": "Failure", "message": self.message, "reason": self.reason,
            "details": self.details, "code": self.code,
        })
    }
}

fn group_resource(r: &Resource) -> String {
    if r.group.is_empty() {
        r.plural.to_string()
    } else {
        format!("{}.{}", r.plural, r.group)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (code, axum::Json(self.status_body())).into_response()
    }
}

/// `{"kind":"Status","status":"Success"}` for deletes.
pub fn success(r: &Resource, name: &str, uid: &str) -> Value {
    json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
        "details": {"name": name, "group": r.group, "kind": r.plural, "uid": uid},
    })
}
