//! Reading the protobuf request bodies kubectl's typed clients send
//! (`application/vnd.kubernetes.protobuf`): the `k8s\0` envelope around a
//! `runtime.Unknown`, and the messages of the kinds kubectl creates, turned
//! into the JSON the rest of the emulator works on. Field numbers are those
//! of `k8s.io/api` `generated.proto`; unknown fields are skipped.

use base64::Engine as _;
use serde_json::{Map, Value, json};

#[derive(Clone, Copy)]
enum Kind {
    Str,
    Bool,
    /// int32 / int64 as a varint.
    Int,
    /// `intstr.IntOrString`, written as JSON writes it.
    IntOrStr,
    Msg(&'static [Field]),
    RepStr,
    RepMsg(&'static [Field]),
    MapStr,
    MapBytes,
}

#[derive(Clone, Copy)]
struct Field(u32, &'static str, Kind);

const OWNER_REF: &[Field] = &[
    Field(1, "kind", Kind::Str),
    Field(3, "name", Kind::Str),
    Field(4, "uid", Kind::Str),
    Field(5, "apiVersion", Kind::Str),
    Field(6, "controller", Kind::Bool),
    Field(7, "blockOwnerDeletion", Kind::Bool),
];
const META: &[Field] = &[
    Field(1, "name", Kind::Str),
    Field(2, "generateName", Kind::Str),
    Field(3, "namespace", Kind::Str),
    Field(5, "uid", Kind::Str),
    Field(6, "resourceVersion", Kind::Str),
    Field(11, "labels", Kind::MapStr),
    Field(12, "annotations", Kind::MapStr),
    Field(13, "ownerReferences", Kind::RepMsg(OWNER_REF)),
    Field(14, "finalizers", Kind::RepStr),
];
const OBJECT_REF: &[Field] = &[
    Field(1, "kind", Kind::Str),
    Field(2, "namespace", Kind::Str),
    Field(3, "name", Kind::Str),
    Field(4, "uid", Kind::Str),
    Field(5, "apiVersion", Kind::Str),
    Field(6, "resourceVersion", Kind::Str),
    Field(7, "fieldPath", Kind::Str),
];
const LOCAL_REF: &[Field] = &[Field(1, "name", Kind::Str)];
const SECRET: &[Field] = &[
    Field(1, "metadata", Kind::Msg(META)),
    Field(2, "data", Kind::MapBytes),
    Field(3, "type", Kind::Str),
    Field(4, "stringData", Kind::MapStr),
    Field(5, "immutable", Kind::Bool),
];
const SERVICE_ACCOUNT: &[Field] = &[
    Field(1, "metadata", Kind::Msg(META)),
    Field(2, "secrets", Kind::RepMsg(OBJECT_REF)),
    Field(3, "imagePullSecrets", Kind::RepMsg(LOCAL_REF)),
    Field(4, "automountServiceAccountToken", Kind::Bool),
];
const NAMESPACE_SPEC: &[Field] = &[Field(1, "finalizers", Kind::RepStr)];
const NAMESPACE: &[Field] = &[
    Field(1, "metadata", Kind::Msg(META)),
    Field(2, "spec", Kind::Msg(NAMESPACE_SPEC)),
];
const RESOURCE_ATTRS: &[Field] = &[
    Field(1, "namespace", Kind::Str),
    Field(2, "verb", Kind::Str),
    Field(3, "group", Kind::Str),
    Field(4, "version", Kind::Str),
    Field(5, "resource", Kind::Str),
    Field(6, "subresource", Kind::Str),
    Field(7, "name", Kind::Str),
];
const NON_RESOURCE_ATTRS: &[Field] = &[Field(1, "path", Kind::Str), Field(2, "verb", Kind::Str)];
const SSAR_SPEC: &[Field] = &[
    Field(1, "resourceAttributes", Kind::Msg(RESOURCE_ATTRS)),
    Field(2, "nonResourceAttributes", Kind::Msg(NON_RESOURCE_ATTRS)),
];
const SSAR: &[Field] = &[
    Field(1, "metadata", Kind::Msg(META)),
    Field(2, "spec", Kind::Msg(SSAR_SPEC)),
];
const SUBJECT: &[Field] = &[
    Field(1, "kind", Kind::Str),
    Field(2, "apiGroup", Kind::Str),
    Field(3, "name", Kind::Str),
    Field(4, "namespace", Kind::Str),
];
const ROLE_REF: &[Field] = &[
    Field(1, "apiGroup", Kind::Str),
    Field(2, "kind", Kind::Str),
    Field(3, "name", Kind::Str),
];
const BINDING: &[Field] = &[
    Field(1, "metadata", Kind::Msg(META)),
    Field(2, "subjects", Kind::RepMsg(SUBJECT)),
    Field(3, "roleRef", Kind::Msg(ROLE_REF)),
];
const POLICY_RULE: &[Field] = &[
    Field(1, "verbs", Kind::RepStr),
    Field(2, "apiGroups", Kind::RepStr),
    Field(3, "resources", Kind::RepStr),
    Field(4, "resourceNames", Kind::RepStr),
    Field(5, "nonResourceURLs", Kind::RepStr),
];
const ROLE: &[Field] = &[
    Field(1, "metadata", Kind::Msg(META)),
    Field(2, "rules", Kind::RepMsg(POLICY_RULE)),
];
const CONFIG_MAP: &[Field] = &[
    Field(1, "metadata", Kind::Msg(META)),
    Field(2, "data", Kind::MapStr),
    Field(3, "binaryData", Kind::MapBytes),
    Field(4, "immutable", Kind::Bool),
];

// apps/v1 Deployment, as `kubectl create deployment` sends it, with the
// parts of core/v1 PodSpec the world reads.
const INT_OR_STRING: &[Field] = &[Field(2, "intVal", Kind::Int), Field(3, "strVal", Kind::Str)];
const SELECTOR_REQUIREMENT: &[Field] = &[
    Field(1, "key", Kind::Str),
    Field(2, "operator", Kind::Str),
    Field(3, "values", Kind::RepStr),
];
const LABEL_SELECTOR: &[Field] = &[
    Field(1, "matchLabels", Kind::MapStr),
    Field(2, "matchExpressions", Kind::RepMsg(SELECTOR_REQUIREMENT)),
];
const CONTAINER: &[Field] = &[
    Field(1, "name", Kind::Str),
    Field(2, "image", Kind::Str),
    Field(3, "command", Kind::RepStr),
    Field(4, "args", Kind::RepStr),
    Field(5, "workingDir", Kind::Str),
    Field(8, "resources", Kind::Msg(&[])),
    Field(13, "terminationMessagePath", Kind::Str),
    Field(14, "imagePullPolicy", Kind::Str),
    Field(20, "terminationMessagePolicy", Kind::Str),
];
const TOLERATION: &[Field] = &[
    Field(1, "key", Kind::Str),
    Field(2, "operator", Kind::Str),
    Field(3, "value", Kind::Str),
    Field(4, "effect", Kind::Str),
    Field(5, "tolerationSeconds", Kind::Int),
];
const POD_SPEC: &[Field] = &[
    Field(2, "containers", Kind::RepMsg(CONTAINER)),
    Field(3, "restartPolicy", Kind::Str),
    Field(4, "terminationGracePeriodSeconds", Kind::Int),
    Field(6, "dnsPolicy", Kind::Str),
    Field(7, "nodeSelector", Kind::MapStr),
    Field(8, "serviceAccountName", Kind::Str),
    Field(10, "nodeName", Kind::Str),
    Field(15, "imagePullSecrets", Kind::RepMsg(LOCAL_REF)),
    Field(16, "hostname", Kind::Str),
    Field(19, "schedulerName", Kind::Str),
    Field(20, "initContainers", Kind::RepMsg(CONTAINER)),
    Field(22, "tolerations", Kind::RepMsg(TOLERATION)),
];
const POD_TEMPLATE: &[Field] = &[
    Field(1, "metadata", Kind::Msg(META)),
    Field(2, "spec", Kind::Msg(POD_SPEC)),
];
const ROLLING_UPDATE: &[Field] = &[
    Field(1, "maxUnavailable", Kind::IntOrStr),
    Field(2, "maxSurge", Kind::IntOrStr),
];
const STRATEGY: &[Field] = &[
    Field(1, "type", Kind::Str),
    Field(2, "rollingUpdate", Kind::Msg(ROLLING_UPDATE)),
];
const DEPLOYMENT_SPEC: &[Field] = &[
    Field(1, "replicas", Kind::Int),
    Field(2, "selector", Kind::Msg(LABEL_SELECTOR)),
    Field(3, "template", Kind::Msg(POD_TEMPLATE)),
    Field(4, "strategy", Kind::Msg(STRATEGY)),
    Field(5, "minReadySeconds", Kind::Int),
    Field(6, "revisionHistoryLimit", Kind::Int),
    Field(7, "paused", Kind::Bool),
    Field(9, "progressDeadlineSeconds", Kind::Int),
];
const DEPLOYMENT: &[Field] = &[
    Field(1, "metadata", Kind::Msg(META)),
    Field(2, "spec", Kind::Msg(DEPLOYMENT_SPEC)),
];
const POD: &[Field] = &[
    Field(1, "metadata", Kind::Msg(META)),
    Field(2, "spec", Kind::Msg(POD_SPEC)),
];

fn schema(kind: &str) -> Option<&'static [Field]> {
    Some(match kind {
        "Secret" => SECRET,
        "ServiceAccount" => SERVICE_ACCOUNT,
        "Namespace" => NAMESPACE,
        "SelfSubjectAccessReview" => SSAR,
        "RoleBinding" | "ClusterRoleBinding" => BINDING,
        "Role" | "ClusterRole" => ROLE,
        "ConfigMap" => CONFIG_MAP,
        "Deployment" => DEPLOYMENT,
        "Pod" => POD,
        _ => return None,
    })
}

struct Reader<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Result<u64, String> {
        let mut out = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *self.b.get(self.i).ok_or("truncated varint")?;
            self.i += 1;
            out |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(out);
            }
        }
        Err("varint too long".into())
    }

    fn bytes(&mut self) -> Result<&'a [u8], String> {
        let len = usize::try_from(self.varint()?).map_err(|_| "length overflow")?;
        let end = self
            .i
            .checked_add(len)
            .filter(|e| *e <= self.b.len())
            .ok_or("truncated field")?;
        let out = &self.b[self.i..end];
        self.i = end;
        Ok(out)
    }

    fn skip(&mut self, wire: u64) -> Result<(), String> {
        match wire {
            0 => self.varint().map(|_| ()),
            1 => {
                self.i += 8;
                Ok(())
            }
            2 => self.bytes().map(|_| ()),
            5 => {
                self.i += 4;
                Ok(())
            }
            w => Err(format!("unsupported wire type {w}")),
        }
    }

    fn done(&self) -> bool {
        self.i >= self.b.len()
    }
}

fn utf8(b: &[u8]) -> Result<String, String> {
    String::from_utf8(b.to_vec()).map_err(|_| "invalid UTF-8 in a string field".to_string())
}

/// `(key, value)` of a map entry message.
fn map_entry(b: &[u8]) -> Result<(String, Vec<u8>), String> {
    let mut r = Reader { b, i: 0 };
    let (mut k, mut v) = (String::new(), Vec::new());
    while !r.done() {
        let tag = r.varint()?;
        match (tag >> 3, tag & 7) {
            (1, 2) => k = utf8(r.bytes()?)?,
            (2, 2) => v = r.bytes()?.to_vec(),
            (_, w) => r.skip(w)?,
        }
    }
    Ok((k, v))
}

fn message(b: &[u8], fields: &[Field]) -> Result<Value, String> {
    let mut r = Reader { b, i: 0 };
    let mut out = Map::new();
    while !r.done() {
        let tag = r.varint()?;
        let (num, wire) = (
            u32::try_from(tag >> 3).map_err(|_| "bad field number")?,
            tag & 7,
        );
        let Some(Field(_, name, kind)) = fields.iter().find(|f| f.0 == num).copied() else {
            r.skip(wire)?;
            continue;
        };
        let name = name.to_string();
        match kind {
            Kind::Str => {
                // Generated Go code writes every string, set or not; JSON
                // omits the empty ones (`omitempty`), and so does this.
                let v = utf8(r.bytes()?)?;
                if !v.is_empty() {
                    out.insert(name, json!(v));
                }
            }
            Kind::Bool => {
                out.insert(name, json!(r.varint()? != 0));
            }
            Kind::Int => {
                // Two's complement in 64 bits, as protobuf writes negatives.
                out.insert(name, json!(r.varint()?.cast_signed()));
            }
            Kind::IntOrStr => {
                let v = message(r.bytes()?, INT_OR_STRING)?;
                out.insert(
                    name,
                    v.get("strVal")
                        .or_else(|| v.get("intVal"))
                        .cloned()
                        .unwrap_or(json!(0)),
                );
            }
            Kind::Msg(sub) => {
                out.insert(name, message(r.bytes()?, sub)?);
            }
            Kind::RepStr => {
                let v = json!(utf8(r.bytes()?)?);
                out.entry(name)
                    .or_insert_with(|| json!([]))
                    .as_array_mut()
                    .expect("array")
                    .push(v);
            }
            Kind::RepMsg(sub) => {
                let v = message(r.bytes()?, sub)?;
                out.entry(name)
                    .or_insert_with(|| json!([]))
                    .as_array_mut()
                    .expect("array")
                    .push(v);
            }
            Kind::MapStr | Kind::MapBytes => {
                let (k, v) = map_entry(r.bytes()?)?;
                let value = if matches!(kind, Kind::MapStr) {
                    json!(utf8(&v)?)
                } else {
                    json!(base64::engine::general_purpose::STANDARD.encode(v))
                };
                out.entry(name)
                    .or_insert_with(|| json!({}))
                    .as_object_mut()
                    .expect("object")
                    .insert(k, value);
            }
        }
    }
    Ok(Value::Object(out))
}

/// Decodes a protobuf request body into the object's JSON.
pub fn decode(body: &[u8]) -> Result<Value, String> {
    let unknown = body
        .strip_prefix(b"k8s\x00")
        .ok_or("missing the k8s protobuf envelope")?;
    let mut r = Reader { b: unknown, i: 0 };
    let (mut api_version, mut kind, mut raw) = (String::new(), String::new(), Vec::new());
    while !r.done() {
        let tag = r.varint()?;
        match (tag >> 3, tag & 7) {
            (1, 2) => {
                let tm = message(
                    r.bytes()?,
                    &[
                        Field(1, "apiVersion", Kind::Str),
                        Field(2, "kind", Kind::Str),
                    ],
                )?;
                api_version = tm["apiVersion"].as_str().unwrap_or_default().to_string();
                kind = tm["kind"].as_str().unwrap_or_default().to_string();
            }
            (2, 2) => raw = r.bytes()?.to_vec(),
            (_, w) => r.skip(w)?,
        }
    }
    let fields = schema(&kind).ok_or_else(|| format!("no protobuf support for kind {kind:?}"))?;
    let mut obj = message(&raw, fields)?;
    obj["apiVersion"] = json!(api_version);
    obj["kind"] = json!(kind);
    Ok(obj)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(num: u32, wire: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![u8::try_from((num << 3) | u32::from(wire)).unwrap()];
        if wire == 2 {
            out.push(u8::try_from(payload.len()).unwrap());
        }
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn decodes_a_service_account_in_its_envelope() {
        let meta = [field(1, 2, b"bot"), field(3, 2, b"ns1")].concat();
        let ips = field(1, 2, b"pull");
        let sa = [field(1, 2, &meta), field(3, 2, &ips), field(4, 0, &[1])].concat();
        let type_meta = [field(1, 2, b"v1"), field(2, 2, b"ServiceAccount")].concat();
        let unknown = [field(1, 2, &type_meta), field(2, 2, &sa)].concat();
        let body = [b"k8s\x00".as_slice(), &unknown].concat();
        let v = decode(&body).unwrap();
        assert_eq!(v["kind"], "ServiceAccount");
        assert_eq!(v["metadata"]["name"], "bot");
        assert_eq!(v["imagePullSecrets"], json!([{"name": "pull"}]));
        assert_eq!(v["automountServiceAccountToken"], true);
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(decode(b"nope").is_err());
        assert!(decode(b"k8s\x00\x0a\xff").is_err());
    }
}
