//! Daily usage metrics: runs, sessions and users by kind, token totals and per-model counts for each UTC day, computed from the stored runs.

use serde::{Deserialize, Serialize};

use super::{RunRecord, RunStatus, Session, SessionType};

/// Seconds in a day.
pub const DAY_SECONDS: i64 = 86_400;

/// Token totals over a day's runs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenTotals {
    /// Uncached input tokens.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// All input and output tokens.
    pub total_tokens: u64,
    /// Input tokens read from the cache.
    pub cache_read_tokens: u64,
    /// Input tokens written to the cache.
    pub cache_write_tokens: u64,
}

/// How many of a day's runs one model answered.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelCount {
    /// The model id.
    pub model_id: String,
    /// Its provider.
    pub model_provider: String,
    /// Runs whose last turn it answered.
    pub count: u64,
}

/// The metrics of one UTC day, from the runs created that day (a session
/// counts on every day it has a run; member runs of a team count with it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayMetrics {
    /// The day's midnight, unix seconds (UTC).
    pub day: i64,
    /// Agent runs.
    pub agent_runs: u64,
    /// Agent sessions with a run that day.
    pub agent_sessions: u64,
    /// Team runs.
    pub team_runs: u64,
    /// Team sessions with a run that day.
    pub team_sessions: u64,
    /// Workflow runs.
    pub workflow_runs: u64,
    /// Workflow sessions with a run that day.
    pub workflow_sessions: u64,
    /// Distinct users with a run that day.
    pub users: u64,
    /// Tokens of the day's runs.
    pub tokens: TokenTotals,
    /// Runs per model, most used first (ties by id).
    pub models: Vec<ModelCount>,
}

/// Which days a metrics query covers: midnights from `from` to `to`, both
/// included, unix seconds; unbounded where `None`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DayRange {
    /// The first day.
    pub from: Option<i64>,
    /// The last day.
    pub to: Option<i64>,
}

impl DayRange {
    /// Whether the day starting at `day` is in the range.
    pub fn contains(&self, day: i64) -> bool {
        self.from.is_none_or(|from| day >= from) && self.to.is_none_or(|to| day <= to)
    }
}

/// The midnight (UTC) of the day `seconds` falls in.
pub fn day_of(seconds: i64) -> i64 {
    seconds.div_euclid(DAY_SECONDS) * DAY_SECONDS
}

/// Aggregates runs by day: the reference computation the SQL stores match.
/// Running runs are left out (they have no final tokens yet); member runs
/// (with a parent) count as their session's kind, tokens included once in
/// their parent's totals, so they are not counted again.
pub fn aggregate<'a>(runs: impl IntoIterator<Item = (&'a Session, &'a RunRecord)>, range: DayRange) -> Vec<DayMetrics> {
    use std::collections::{BTreeMap, BTreeSet};
    #[derive(Default)]
    struct Day {
        metrics: DayMetrics,
        sessions: BTreeSet<(&'static str, String)>,
        users: BTreeSet<String>,
        models: BTreeMap<(String, String), u64>,
    }
    let mut days: BTreeMap<i64, Day> = BTreeMap::new();
    for (session, run) in runs {
        let day = day_of(run.created_at);
        if run.parent_run_id.is_some() || run.status == RunStatus::Running || !range.contains(day) {
            continue;
        }
        let entry = days.entry(day).or_default();
        let metrics = &mut entry.metrics;
        match session.session_type {
            SessionType::Agent => metrics.agent_runs += 1,
            SessionType::Team => metrics.team_runs += 1,
            SessionType::Workflow => metrics.workflow_runs += 1,
        }
        let count = |key: &str| run.metrics.get(key).and_then(serde_json::Value::as_u64).unwrap_or(0);
        metrics.tokens.input_tokens += count("input_tokens");
        metrics.tokens.output_tokens += count("output_tokens");
        metrics.tokens.total_tokens += count("total_tokens");
        metrics.tokens.cache_read_tokens += count("cache_read_tokens");
        metrics.tokens.cache_write_tokens += count("cache_write_tokens");
        entry.sessions.insert((session.session_type.as_str(), session.session_id.clone()));
        if let Some(user) = &run.user_id {
            entry.users.insert(user.clone());
        }
        if let Some(model) = &run.model {
            let provider = run.model_provider.clone().unwrap_or_default();
            *entry.models.entry((model.clone(), provider)).or_default() += 1;
        }
    }
    days.into_iter()
        .map(|(day, entry)| {
            let mut metrics = entry.metrics;
            metrics.day = day;
            for (kind, _) in &entry.sessions {
                match SessionType::parse(kind) {
                    Some(SessionType::Agent) => metrics.agent_sessions += 1,
                    Some(SessionType::Team) => metrics.team_sessions += 1,
                    Some(SessionType::Workflow) => metrics.workflow_sessions += 1,
                    None => {}
                }
            }
            metrics.users = entry.users.len() as u64;
            metrics.models = entry
                .models
                .into_iter()
                .map(|((model_id, model_provider), count)| ModelCount { model_id, model_provider, count })
                .collect();
            sort_models(&mut metrics.models);
            metrics
        })
        .collect()
}

/// Orders a day's model counts: most used first, then by id and provider.
pub fn sort_models(models: &mut [ModelCount]) {
    models.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.model_id.cmp(&b.model_id))
            .then_with(|| a.model_provider.cmp(&b.model_provider))
    });
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn run(session: &str, id: &str, at: i64, user: &str, model: &str, tokens: u64) -> RunRecord {
        RunRecord {
            run_id: id.into(),
            session_id: session.into(),
            user_id: Some(user.into()),
            status: RunStatus::Completed,
            metrics: json!({"input_tokens": tokens, "output_tokens": 1, "total_tokens": tokens + 1}),
            model: Some(model.into()),
            model_provider: Some("anthropic".into()),
            created_at: at,
            ..RunRecord::default()
        }
    }

    #[test]
    fn runs_are_counted_per_day_kind_session_user_and_model() {
        let agent = Session::new("s1", SessionType::Agent);
        let team = Session::new("s2", SessionType::Team);
        let day = 20 * DAY_SECONDS;
        let runs = [
            (&agent, run("s1", "r1", day + 10, "ana", "opus", 10)),
            (&agent, run("s1", "r2", day + 20, "bob", "sonnet", 5)),
            (&team, run("s2", "r3", day + 30, "ana", "opus", 7)),
            (&team, RunRecord { parent_run_id: Some("r3".into()), ..run("s2", "m1", day + 31, "ana", "opus", 99) }),
            (&agent, RunRecord { status: RunStatus::Running, ..run("s1", "r4", day + 40, "cy", "opus", 1) }),
            (&agent, run("s1", "r5", day + DAY_SECONDS, "ana", "opus", 1)),
        ];
        let days = aggregate(runs.iter().map(|(s, r)| (*s, r)), DayRange::default());
        assert_eq!(days.len(), 2);
        let first = &days[0];
        assert_eq!(
            (first.day, first.agent_runs, first.agent_sessions, first.team_runs, first.team_sessions),
            (day, 2, 1, 1, 1)
        );
        assert_eq!(first.users, 2);
        assert_eq!(first.tokens.input_tokens, 22);
        assert_eq!(
            first.models[0],
            ModelCount { model_id: "opus".into(), model_provider: "anthropic".into(), count: 2 }
        );
        let later = aggregate(runs.iter().map(|(s, r)| (*s, r)), DayRange { from: Some(day + DAY_SECONDS), to: None });
        assert_eq!(later.len(), 1);
        assert_eq!(day_of(day + 86_399), day);
        assert_eq!(day_of(-1), -DAY_SECONDS);
    }
}
