//! Routing: label matchers (`name=value`, `!=`, `=~`, `!~`, as in Alertmanager) and the route
//! tree that sends each alert to its receivers with its grouping timings.

use std::collections::BTreeMap;

use regex::Regex;
use serde::{Deserialize, Deserializer};

use crate::base::{Duration, SettingsError};

/// A label matcher.
#[derive(Clone, Debug)]
pub struct Matcher {
    name: String,
    kind: MatchKind,
    text: String,
}

#[derive(Clone, Debug)]
enum MatchKind {
    Equal(String),
    NotEqual(String),
    Regex(Regex),
    NotRegex(Regex),
}

impl Matcher {
    /// Parses `name=value`, `name!=value`, `name=~regex` or `name!~regex` (regexes are anchored,
    /// as in Alertmanager; an absent label is the empty string).
    pub fn parse(text: &str) -> Result<Self, String> {
        let (name, op, value) = ["!=", "=~", "!~", "="]
            .iter()
            .find_map(|op| text.split_once(op).map(|(n, v)| (n.trim(), *op, v.trim())))
            .ok_or_else(|| format!("{text:?} is not a matcher (name=value, name!=value, name=~regex or name!~regex)"))?;
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("{text:?}: {name:?} is not a label name"));
        }
        let value = value.trim_matches('"').to_owned();
        let regex = || {
            Regex::new(&format!("^(?:{value})$")).map_err(|e| format!("{text:?}: bad regex: {e}"))
        };
        let kind = match op {
            "=" => MatchKind::Equal(value),
            "!=" => MatchKind::NotEqual(value),
            "=~" => MatchKind::Regex(regex()?),
            _ => MatchKind::NotRegex(regex()?),
        };
        Ok(Self {
            name: name.to_owned(),
            kind,
            text: text.to_owned(),
        })
    }

    /// Whether the labels satisfy the matcher.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let value = labels.get(&self.name).map_or("", String::as_str);
        match &self.kind {
            MatchKind::Equal(v) => value == v,
            MatchKind::NotEqual(v) => value != v,
            MatchKind::Regex(r) => r.is_match(value),
            MatchKind::NotRegex(r) => !r.is_match(value),
        }
    }

    /// The matcher as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl<'de> Deserialize<'de> for Matcher {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Matcher::parse(&String::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

/// A route: alerts matching all its matchers go to its receiver (and, unless `continue`, stop
/// there); unset timings are inherited from the parent.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Route {
    /// Matchers that must all hold (none: every alert).
    pub matchers: Vec<Matcher>,
    /// The receiver's name; inherited when unset.
    pub receiver: Option<String>,
    /// Labels to group by; inherited when unset.
    pub group_by: Option<Vec<String>>,
    /// Wait before the first notification of a new group; inherited when unset.
    pub group_wait: Option<Duration>,
    /// Wait between notifications of a changed group; inherited when unset.
    pub group_interval: Option<Duration>,
    /// Resend a firing group this often; inherited when unset.
    pub repeat_interval: Option<Duration>,
    /// Go on to the next sibling route after matching this one.
    #[serde(rename = "continue")]
    pub continue_matching: bool,
    /// Sub-routes, tried in order.
    pub routes: Vec<Route>,
}

/// Where one alert goes: a receiver and the grouping timings, with the route's identity.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct Destination {
    /// The route's position in the tree, e.g. `0.2`; part of the group key.
    pub route_id: String,
    /// The receiver.
    pub receiver: String,
    /// Labels to group by.
    pub group_by: Vec<String>,
    /// See [`Route::group_wait`].
    pub group_wait: jiff::SignedDuration,
    /// See [`Route::group_interval`].
    pub group_interval: jiff::SignedDuration,
    /// See [`Route::repeat_interval`].
    pub repeat_interval: jiff::SignedDuration,
}

impl Route {
    /// The destinations of an alert with these labels: the deepest matching routes (the root if
    /// none of its children match).
    pub fn destinations(
        &self,
        labels: &BTreeMap<String, String>,
        defaults: &Destination,
    ) -> Vec<Destination> {
        let mut out = Vec::new();
        self.walk(labels, defaults, "0", &mut out);
        out
    }

    fn walk(
        &self,
        labels: &BTreeMap<String, String>,
        parent: &Destination,
        id: &str,
        out: &mut Vec<Destination>,
    ) -> bool {
        if !self.matchers.iter().all(|m| m.matches(labels)) {
            return false;
        }
        let here = Destination {
            route_id: id.to_owned(),
            receiver: self
                .receiver
                .clone()
                .unwrap_or_else(|| parent.receiver.clone()),
            group_by: self
                .group_by
                .clone()
                .unwrap_or_else(|| parent.group_by.clone()),
            group_wait: self.group_wait.map_or(parent.group_wait, |d| d.0),
            group_interval: self.group_interval.map_or(parent.group_interval, |d| d.0),
            repeat_interval: self.repeat_interval.map_or(parent.repeat_interval, |d| d.0),
        };
        let mut matched_child = false;
        for (i, child) in self.routes.iter().enumerate() {
            if child.walk(labels, &here, &format!("{id}.{i}"), out) {
                matched_child = true;
                if !child.continue_matching {
                    break;
                }
            }
        }
        if !matched_child {
            out.push(here);
        }
        true
    }

    /// Checks the timings of this route and its children; the error names the key under `key`
    /// (`alerting.route.routes[1].group_interval`). `group_wait` may be zero (notify at once, as
    /// Alertmanager allows); `group_interval` and `repeat_interval` must be more than zero, or
    /// a changing group would be notified on every evaluation.
    pub fn validate(&self, key: &str) -> Result<(), SettingsError> {
        let timings = [
            ("group_wait", self.group_wait, true),
            ("group_interval", self.group_interval, false),
            ("repeat_interval", self.repeat_interval, false),
        ];
        for (name, value, zero_allowed) in timings {
            let Some(value) = value else { continue };
            if value.0.is_negative() || (!zero_allowed && value.0.is_zero()) {
                let reason = if zero_allowed {
                    "must not be negative"
                } else {
                    "must be more than zero"
                };
                return Err(SettingsError::invalid(format!("{key}.{name}"), reason));
            }
        }
        for (i, child) in self.routes.iter().enumerate() {
            child.validate(&format!("{key}.routes[{i}]"))?;
        }
        Ok(())
    }

    /// Every receiver named in the tree, with the key that names it (for validation).
    pub fn receivers(&self, key: &str, out: &mut Vec<(String, String)>) {
        if let Some(receiver) = &self.receiver {
            out.push((format!("{key}.receiver"), receiver.clone()));
        }
        for (i, child) in self.routes.iter().enumerate() {
            child.receivers(&format!("{key}.routes[{i}]"), out);
        }
    }
}

#[cfg(test)]
mod tests;
