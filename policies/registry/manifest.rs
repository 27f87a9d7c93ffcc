//! The little of Cargo.toml the registry's build script reads; a file of
//! its own so the library's tests run it too.

/// The package names of `[dependencies]` in a Cargo.toml.
pub fn dependencies(manifest: &str) -> Vec<String> {
    let mut in_deps = false;
    let mut names = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
        } else if in_deps
            && !line.starts_with('#')
            && let Some((name, _)) = line.split_once('=')
        {
            names.push(name.trim().to_string());
        }
    }
    names
}

/// The `name` of a Cargo.toml's `[package]`.
pub fn package_name(manifest: &str) -> Option<String> {
    let mut in_package = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package
            && let Some(value) = line
                .strip_prefix("name")
                .map(str::trim)
                .and_then(|l| l.strip_prefix('='))
        {
            return Some(value.trim().trim_matches('"').to_string());
        }
    }
    None
}

/// The policies of the registry's manifest (its dependencies but `pager`),
/// or why a crate under `policies/` (`(directory, its Cargo.toml)`) is
/// missing from it: it would build and never be found.
pub fn policies(registry: &str, siblings: &[(String, String)]) -> Result<Vec<String>, String> {
    let policies: Vec<String> = dependencies(registry).into_iter().filter(|n| n != "pager").collect();
    for (dir, manifest) in siblings {
        if let Some(name) = package_name(manifest)
            && name != "pager-policies"
            && !policies.contains(&name)
        {
            return Err(format!(
                "policies/{dir} (crate {name}) is not registered: add `{name} = {{ path = \"../{dir}\" }}` \
                 to [dependencies] in policies/registry/Cargo.toml"
            ));
        }
    }
    Ok(policies)
}
