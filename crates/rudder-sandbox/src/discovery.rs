//! Discovery documents: legacy (`APIVersions`, `APIGroupList`, `APIResourceList`) and aggregated
//! (`APIGroupDiscoveryList`, v2 and v2beta1), chosen by the request's Accept header.

use serde_json::{json, Value};

use super::resources::{api_resource_list, subresource_kind, subresource_verbs, Catalog};

/// Which discovery format the client accepts first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Legacy,
    AggregatedV2,
    AggregatedV2Beta1,
}

impl Format {
    /// Picks the first acceptable format from an Accept header, in the client's order.
    pub fn negotiate(accept: &str) -> Format {
        for part in accept.split(',') {
            let params: Vec<&str> = part.split(';').map(str::trim).collect();
            let media = params.first().copied().unwrap_or("");
            let has = |p: &str| params.iter().skip(1).any(|x| x.replace(' ', "") == p);
            if (media == "application/json" || media == "*/*")
                && has("g=apidiscovery.k8s.io")
                && has("as=APIGroupDiscoveryList")
            {
                if has("v=v2") {
                    return Format::AggregatedV2;
                }
                if has("v=v2beta1") {
                    return Format::AggregatedV2Beta1;
                }
                continue;
            }
            if media == "application/json" || media == "*/*" || media.is_empty() {
                return Format::Legacy;
            }
        }
        Format::Legacy
    }

    /// The response Content-Type.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Legacy => "application/json",
            Format::AggregatedV2 => {
                "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
            }
            Format::AggregatedV2Beta1 => {
                "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
            }
        }
    }
}

/// `GET /api`.
pub fn core_root(catalog: &Catalog, format: Format, server_address: &str) -> Value {
    match format {
        Format::Legacy => json!({
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
        }),
        _ => aggregated(catalog, format, true),
    }
}

/// `GET /apis`.
pub fn groups_root(catalog: &Catalog, format: Format) -> Value {
    match format {
        Format::Legacy => {
            let groups: Vec<Value> = catalog
                .groups()
                .into_iter()
                .filter(|(g, _)| !g.is_empty())
                .map(|(g, versions)| group_entry(&g, &versions))
                .collect();
            json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
        }
        _ => aggregated(catalog, format, false),
    }
}

/// `GET /apis/GROUP`, if served.
pub fn group(catalog: &Catalog, name: &str) -> Option<Value> {
    let (g, versions) = catalog.groups().into_iter().find(|(g, _)| g == name)?;
    let mut entry = group_entry(&g, &versions);
    entry["kind"] = json!("APIGroup");
    entry["apiVersion"] = json!("v1");
    Some(entry)
}

fn group_entry(group: &str, versions: &[String]) -> Value {
    let vs: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
        .collect();
    let preferred = vs.first().cloned().unwrap_or(Value::Null);
    json!({"name": group, "versions": vs, "preferredVersion": preferred})
}

/// `GET /api/v1` or `GET /apis/GROUP/VERSION`, if served.
pub fn resource_list(catalog: &Catalog, group: &str, version: &str) -> Option<Value> {
    let types = catalog.in_group_version(group, version);
    if types.is_empty() {
        return None;
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(api_resource_list(&gv, &types))
}

fn aggregated(catalog: &Catalog, format: Format, core: bool) -> Value {
    let api_version = match format {
        Format::AggregatedV2Beta1 => "apidiscovery.k8s.io/v2beta1",
        _ => "apidiscovery.k8s.io/v2",
    };
    let mut items = Vec::new();
    for (group, versions) in catalog.groups() {
        if group.is_empty() != core {
            continue;
        }
        let mut vs = Vec::new();
        for version in &versions {
            let mut resources = Vec::new();
            for t in catalog.in_group_version(&group, version) {
                let mut r = json!({
                    "resource": t.plural,
                    "responseKind": {"group": group, "version": version, "kind": t.gvk.kind},
                    "scope": if t.namespaced { "Namespaced" } else { "Cluster" },
                    "singularResource": t.singular,
                    "verbs": t.verbs,
                });
                if !t.short_names.is_empty() {
                    r["shortNames"] = json!(t.short_names);
                }
                if !t.categories.is_empty() {
                    r["categories"] = json!(t.categories);
                }
                let subs: Vec<Value> = t
                    .subresources
                    .iter()
                    .map(|s| {
                        let (kind, g, v) = subresource_kind(&t, s);
                        json!({
                            "subresource": s,
                            "responseKind": {"group": g.unwrap_or_else(|| group.clone()), "version": v, "kind": kind},
                            "verbs": subresource_verbs(s),
                        })
                    })
                    .collect();
                if !subs.is_empty() {
                    r["subresources"] = json!(subs);
                }
                resources.push(r);
            }
            vs.push(json!({"version": version, "resources": resources, "freshness": "Current"}));
        }
        items.push(json!({
            "metadata": {"name": group, "creationTimestamp": null},
            "versions": vs,
        }));
    }
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": api_version,
        "metadata": {},
        "items": items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_header_order_decides_the_format() {
        let client_go = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert_eq!(Format::negotiate(client_go), Format::AggregatedV2);
        let beta = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert_eq!(Format::negotiate(beta), Format::AggregatedV2Beta1);
        assert_eq!(Format::negotiate("application/json, */*"), Format::Legacy);
        assert_eq!(Format::negotiate(""), Format::Legacy);
    }

    #[test]
    fn aggregated_core_has_only_the_core_group() {
        let c = Catalog::builtin();
        let doc = core_root(&c, Format::AggregatedV2, "127.0.0.1:1");
        let items = doc["items"].as_array().unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0]["metadata"]["name"], "");
        let apis = groups_root(&c, Format::AggregatedV2);
        assert!(apis["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["metadata"]["name"] == "apps"));
    }
}
