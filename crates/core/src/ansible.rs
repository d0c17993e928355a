//! OKD / OpenShift 3.11 installer inventory variables for registry
//! credentials: `oreg_auth_user` / `oreg_auth_password` for
//! registry.redhat.io (the installer's `oreg_url`), and
//! `openshift_additional_registry_credentials` for every other registry,
//! as `openshift-ansible` reads them in `[OSEv3:vars]`.

use secrecy::ExposeSecret as _;

use crate::Credential;

/// The registry `oreg_auth_*` are for.
pub const OREG_REGISTRY: &str = "registry.redhat.io";

/// Quotes a value for an Ansible INI inventory and a Python-literal list.
fn py(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// The `[OSEv3:vars]` lines for `credentials`; `test_image` per registry.
pub fn inventory_vars(credentials: &[Credential], test_image: impl Fn(&str) -> String) -> String {
    let mut out = String::from("[OSEv3:vars]\n");
    if let Some(c) = credentials.iter().find(|c| c.registry == OREG_REGISTRY) {
        out.push_str(&format!(
            "oreg_url={OREG_REGISTRY}/openshift3/ose-${{component}}:${{version}}\n"
        ));
        out.push_str(&format!("oreg_auth_user={}\n", py(&c.username)));
        out.push_str(&format!(
            "oreg_auth_password={}\n",
            py(c.secret.expose_secret())
        ));
    }
    let others: Vec<String> = credentials
        .iter()
        .filter(|c| c.registry != OREG_REGISTRY)
        .map(|c| {
            format!(
                "{{'host':{},'user':{},'password':{},'test_login':'True','test_image':{},'tls_verify':'True'}}",
                py(&c.registry),
                py(&c.username),
                py(c.secret.expose_secret()),
                py(&test_image(&c.registry))
            )
        })
        .collect();
    if !others.is_empty() {
        out.push_str(&format!(
            "openshift_additional_registry_credentials=[{}]\n",
            others.join(",")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oreg_and_additional_credentials() {
        let creds = vec![
            Credential::new("registry.redhat.io", "1234567|sa", "tok'en"),
            Credential::new("registry.connect.redhat.com", "bob", "pw"),
        ];
        let vars = inventory_vars(&creds, |r| format!("{r}/test/image:latest"));
        assert!(vars.starts_with("[OSEv3:vars]\n"));
        assert!(vars.contains("oreg_auth_user='1234567|sa'\n"));
        assert!(vars.contains("oreg_auth_password='tok\\'en'\n"));
        assert!(vars.contains("openshift_additional_registry_credentials=[{'host':'registry.connect.redhat.com','user':'bob','password':'pw','test_login':'True','test_image':'registry.connect.redhat.com/test/image:latest','tls_verify':'True'}]"));
    }
}
