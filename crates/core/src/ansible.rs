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

/// The `[OSEv3:vars]` lines for `credentials`. The installer tests a login
/// of `openshift_additional_registry_credentials` by pulling its
/// `test_image`; `test_image` gives one for a registry, or `None` — then
/// the login is not tested (`test_login: False`), since a guessed image the
/// account is not entitled to fails the installation.
pub fn inventory_vars(
    credentials: &[Credential],
    test_image: impl Fn(&str) -> Option<String>,
) -> String {
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
            let test = match test_image(&c.registry) {
                Some(image) => format!("'test_login':'True','test_image':{}", py(&image)),
                None => "'test_login':'False'".to_string(),
            };
            format!(
                "{{'host':{},'user':{},'password':{},{test},'tls_verify':'True'}}",
                py(&c.registry),
                py(&c.username),
                py(c.secret.expose_secret()),
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
        let vars = inventory_vars(&creds, |r| Some(format!("{r}/test/image:latest")));
        assert!(vars.starts_with("[OSEv3:vars]\n"));
        assert!(vars.contains("oreg_auth_user='1234567|sa'\n"));
        assert!(vars.contains("oreg_auth_password='tok\\'en'\n"));
        assert!(vars.contains("openshift_additional_registry_credentials=[{'host':'registry.connect.redhat.com','user':'bob','password':'pw','test_login':'True','test_image':'registry.connect.redhat.com/test/image:latest','tls_verify':'True'}]"));
    }

    #[test]
    fn without_a_test_image_the_login_is_not_tested() {
        let creds = vec![Credential::new("registry.connect.redhat.com", "bob", "pw")];
        let vars = inventory_vars(&creds, |_| None);
        assert!(
            vars.contains("'test_login':'False','tls_verify':'True'"),
            "{vars}"
        );
        assert!(!vars.contains("test_image"), "{vars}");
    }
}
