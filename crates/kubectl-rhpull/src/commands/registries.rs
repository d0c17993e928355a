//! `rhpull registries`: the Red Hat registries, whether each needs a login,
//! who the user is logged in as there (from podman's auth files, or docker's
//! with `--docker`), and what each serves; then every other registry the
//! user has a login for, so one look shows all of them.

use rhpull_core::authfile::{AuthEnv, CredentialSource, Credentials, Resolved, View};
use rhpull_core::registries::{Access, RED_HAT_REGISTRIES};

use crate::cli::RegistriesArgs;
use crate::error::CliError;
use crate::i18n::text;
use crate::render::{self, Block, Report};

/// One registry as shown; `-o json` prints these (never a secret).
#[derive(Debug, serde::Serialize)]
struct Row {
    host: String,
    /// `null` for a registry outside the Red Hat catalogue.
    access: Option<Access>,
    username: Option<String>,
    source: Option<CredentialSource>,
    /// Catalogue key of what it serves (text in English for JSON).
    #[serde(skip)]
    serves_key: Option<&'static str>,
    serves: Option<String>,
}

fn row(
    host: &str,
    access: Option<Access>,
    serves_key: Option<&'static str>,
    found: Option<Resolved>,
) -> Row {
    Row {
        host: host.to_string(),
        access,
        username: found.as_ref().map(|f| f.credential.username.clone()),
        source: found.map(|f| f.source),
        serves_key,
        // Machine output stays English whatever the locale.
        serves: serves_key.map(|k| rust_i18n::t!(k, locale = "en").into_owned()),
    }
}

pub fn run(args: &RegistriesArgs) -> Result<(), CliError> {
    let view = if args.docker {
        View::Docker
    } else {
        View::Podman
    };
    let credentials = Credentials::load(&AuthEnv::from_process(), view)?;
    let mut rows = Vec::new();
    for registry in RED_HAT_REGISTRIES {
        let found = credentials.resolve(registry.host)?;
        rows.push(row(
            registry.host,
            Some(registry.access),
            Some(registry.serves_key),
            found,
        ));
    }
    for other in credentials.all_inline()? {
        if !rows.iter().any(|r| r.host == other.credential.registry) {
            rows.push(row(
                &other.credential.registry.clone(),
                None,
                None,
                Some(other),
            ));
        }
    }
    render::print(&Rows(rows), args.output.into())
}

#[derive(Debug)]
struct Rows(Vec<Row>);

impl Report for Rows {
    fn document(&self) -> serde_json::Value {
        crate::render::json(&self.0)
    }

    fn names(&self) -> Vec<String> {
        self.0.iter().map(|r| r.host.clone()).collect()
    }

    fn human(&self) -> Vec<Block> {
        vec![table(&self.0)]
    }
}

fn table(rows: &[Row]) -> Block {
    let none = text("registries.login.none", &[]);
    let table_rows = rows
        .iter()
        .map(|row| {
            let access = match row.access {
                Some(Access::Anonymous) => text("registries.access.anonymous", &[]),
                Some(Access::Authenticated) => text("registries.access.authenticated", &[]),
                None => text("registries.access.other", &[]),
            };
            let source = row
                .source
                .as_ref()
                .map_or_else(|| none.clone(), crate::creds::source_text);
            vec![
                row.host.clone(),
                access,
                row.username.clone().unwrap_or_else(|| none.clone()),
                source,
                row.serves_key
                    .map_or_else(|| none.clone(), |k| text(k, &[])),
            ]
        })
        .collect();
    render::table(
        &[
            "registries.col.registry",
            "registries.col.access",
            "registries.col.login",
            "registries.col.source",
            "registries.col.serves",
        ],
        table_rows,
    )
}
