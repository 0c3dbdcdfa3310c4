//! Profiles configured in KubeSchedulerConfiguration's shape: start from a named
//! policy, disable and enable plugins per extension point, and pass plugin args.

use super::framework::Profile;
use super::plugins;
use std::collections::BTreeMap;

/// Enabled and disabled plugins of one extension point.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PluginSet {
    /// (name, weight); the weight matters for score plugins only.
    pub enabled: Vec<(String, Option<i64>)>,
    /// Names; `*` disables every plugin of the extension point.
    pub disabled: Vec<String>,
}

/// What a scenario changes on top of a profile's policy.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProfileOverride {
    pub multi_point: PluginSet,
    pub filter: PluginSet,
    pub score: PluginSet,
    pub post_filter: PluginSet,
    /// pluginConfig: plugin name → args (upstream JSON shape).
    pub args: BTreeMap<String, serde_json::Value>,
}

/// An error in a profile override, with the path of the offending entry relative
/// to the profile (`plugins.score.enabled[0].name`, `pluginConfig[1].args`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: String,
    pub message: String,
}

/// The PostFilter plugin, configured with `multiPoint` or `postFilter`.
pub const DEFAULT_PREEMPTION: &str = "DefaultPreemption";

fn known(name: &str) -> bool {
    plugins::FILTER_PLUGINS.contains(&name)
        || plugins::SCORE_PLUGINS.contains(&name)
        || name == DEFAULT_PREEMPTION
}

/// Apply `o` to `profile`, as upstream merges a profile's plugins with the defaults:
/// `disabled` removes (or `*` clears), `enabled` adds (or, for a score plugin already
/// there, sets its weight), `multiPoint` does both extension points, and
/// `pluginConfig` rebuilds each configured plugin with its args.
pub fn apply(profile: &mut Profile, o: &ProfileOverride) -> Result<(), ConfigError> {
    let err = |path: String, message: String| ConfigError { path, message };
    for (point, set) in [
        ("multiPoint", &o.multi_point),
        ("postFilter", &o.post_filter),
    ] {
        for name in &set.disabled {
            if name == "*" || name == DEFAULT_PREEMPTION {
                profile.preemption = false;
            }
        }
        if set.enabled.iter().any(|(n, _)| n == DEFAULT_PREEMPTION) {
            profile.preemption = true;
        }
        if point == "postFilter" {
            let names = set.enabled.iter().map(|(n, _)| n).chain(&set.disabled);
            for (i, name) in names.enumerate() {
                if name != DEFAULT_PREEMPTION && name != "*" {
                    return Err(err(
                        format!("plugins.postFilter[{i}].name"),
                        format!(
                            "{name:?} is not a PostFilter plugin; kubesim has DefaultPreemption"
                        ),
                    ));
                }
            }
        }
    }
    for (point, set) in [
        ("multiPoint", &o.multi_point),
        ("filter", &o.filter),
        ("score", &o.score),
    ] {
        for (i, name) in set.disabled.iter().enumerate() {
            if name == DEFAULT_PREEMPTION {
                continue;
            }
            if name != "*" && !known(name) {
                return Err(err(
                    format!("plugins.{point}.disabled[{i}].name"),
                    format!(
                        "unknown plugin {name:?}; known plugins: {}",
                        plugins::SCORE_PLUGINS_AND_FILTERS.join(", ")
                    ),
                ));
            }
            let all = name == "*";
            if point != "score" {
                profile.filters.retain(|f| !all && f.name() != name);
            }
            if point != "filter" {
                profile.scores.retain(|(s, _)| !all && s.name() != name);
            }
        }
        for (i, (name, weight)) in set.enabled.iter().enumerate() {
            if name == DEFAULT_PREEMPTION && point == "multiPoint" {
                continue;
            }
            if !known(name) {
                return Err(err(
                    format!("plugins.{point}.enabled[{i}].name"),
                    format!(
                        "unknown plugin {name:?}; known plugins: {}",
                        plugins::SCORE_PLUGINS_AND_FILTERS.join(", ")
                    ),
                ));
            }
            if let Some(w) = weight {
                if !(1..=100).contains(w) {
                    return Err(err(
                        format!("plugins.{point}.enabled[{i}].weight"),
                        format!("weight {w} of {name}: must be between 1 and 100"),
                    ));
                }
            }
            let args = o.args.get(name);
            let mut did = false;
            if point != "score" {
                if let Some(f) = plugins::filter_plugin_with_args(name, args)
                    .map_err(|m| err(format!("plugins.{point}.enabled[{i}]"), m))?
                {
                    if !profile.filters.iter().any(|x| x.name() == name) {
                        profile.filters.push(f);
                    }
                    did = true;
                }
            }
            if point != "filter" {
                if let Some(s) = plugins::score_plugin(name, args)
                    .map_err(|m| err(format!("plugins.{point}.enabled[{i}]"), m))?
                {
                    let w = weight
                        .or_else(|| plugins::default_weight(name))
                        .unwrap_or(1);
                    match profile.scores.iter_mut().find(|(x, _)| x.name() == name) {
                        Some(slot) => slot.1 = w,
                        None => profile.scores.push((s, w)),
                    }
                    did = true;
                }
            }
            if !did {
                return Err(err(
                    format!("plugins.{point}.enabled[{i}].name"),
                    format!("{name} has no {point} extension point"),
                ));
            }
        }
    }
    for (name, args) in &o.args {
        // rebuild the plugin where the profile has it, so its args take effect
        if let Some(pos) = profile.filters.iter().position(|f| f.name() == name) {
            if let Some(f) = plugins::filter_plugin_with_args(name, Some(args))
                .map_err(|m| err(format!("pluginConfig.{name}"), m))?
            {
                profile.filters[pos] = f;
            }
        }
        if let Some(pos) = profile.scores.iter().position(|(s, _)| s.name() == name) {
            if let Some(s) = plugins::score_plugin(name, Some(args))
                .map_err(|m| err(format!("pluginConfig.{name}"), m))?
            {
                profile.scores[pos].0 = s;
            }
        }
        // validate args even for plugins the profile does not run
        plugins::score_plugin(name, Some(args))
            .map_err(|m| err(format!("pluginConfig.{name}"), m))?;
        plugins::filter_plugin_with_args(name, Some(args))
            .map_err(|m| err(format!("pluginConfig.{name}"), m))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::policies::Registry;
    use serde_json::json;

    fn names(p: &Profile) -> (Vec<&str>, Vec<(&str, i64)>) {
        (
            p.filters.iter().map(|f| f.name()).collect(),
            p.scores.iter().map(|(s, w)| (s.name(), *w)).collect(),
        )
    }

    #[test]
    fn disable_all_scores_then_enable_one_with_a_weight() {
        let mut p = Registry::builtin().build("default", "x").unwrap();
        let o = ProfileOverride {
            score: PluginSet {
                enabled: vec![("NodeResourcesFit".into(), Some(5))],
                disabled: vec!["*".into()],
            },
            args: [(
                "NodeResourcesFit".to_string(),
                json!({"scoringStrategy": {"type": "MostAllocated", "resources": [{"name": "cpu", "weight": 1}]}}),
            )]
            .into_iter()
            .collect(),
            ..Default::default()
        };
        apply(&mut p, &o).unwrap();
        let (filters, scores) = names(&p);
        assert_eq!(scores, vec![("NodeResourcesFit", 5)]);
        assert!(
            filters.contains(&"NodeResourcesFit"),
            "filters stay: {filters:?}"
        );
    }

    #[test]
    fn unknown_plugins_and_bad_weights_name_their_path() {
        let mut p = Registry::builtin().build("default", "x").unwrap();
        let o = ProfileOverride {
            score: PluginSet {
                enabled: vec![("NodeResourceFit".into(), None)],
                disabled: vec![],
            },
            ..Default::default()
        };
        let e = apply(&mut p, &o).unwrap_err();
        assert_eq!(e.path, "plugins.score.enabled[0].name");
        let o = ProfileOverride {
            score: PluginSet {
                enabled: vec![("ImageLocality".into(), Some(0))],
                disabled: vec![],
            },
            ..Default::default()
        };
        assert_eq!(
            apply(&mut p, &o).unwrap_err().path,
            "plugins.score.enabled[0].weight"
        );
    }

    #[test]
    fn multipoint_disable_removes_filter_and_score() {
        let mut p = Registry::builtin().build("default", "x").unwrap();
        let o = ProfileOverride {
            multi_point: PluginSet {
                enabled: vec![],
                disabled: vec!["TaintToleration".into()],
            },
            ..Default::default()
        };
        apply(&mut p, &o).unwrap();
        let (filters, scores) = names(&p);
        assert!(!filters.contains(&"TaintToleration"));
        assert!(scores.iter().all(|(n, _)| *n != "TaintToleration"));
    }
}
