//! The jobs of one cdl stage as declarative stages: a sequence of layers, each layer a
//! `parallel` of chains, each chain a sequence of jobs. That is as deep as declarative
//! Pipeline nests (a `parallel` cannot hold another), so a stage whose `after` graph is not
//! of that shape is laid out with more ordering than cdl asks for. In Jenkins a failure
//! stops every stage after it; [`Layout::stopped_without_need`] lists where that stops a
//! job that does not need the failed one.

use std::collections::{HashMap, HashSet};

use crate::plan::Job;

/// One cdl stage: layers run one after another.
#[derive(Debug)]
pub struct Layout<'p> {
    pub layers: Vec<Layer<'p>>,
}

/// Chains that run in parallel.
#[derive(Debug)]
pub struct Layer<'p> {
    pub chains: Vec<Vec<&'p Job>>,
}

impl<'p> Layout<'p> {
    /// Lays out the jobs of a stage, given in plan order (needs first).
    pub fn of(jobs: &[&'p Job]) -> Layout<'p> {
        let ancestors = ancestors(jobs);
        let mut remaining: Vec<&'p Job> = jobs.to_vec();
        let mut layers = Vec::new();
        while !remaining.is_empty() {
            let left: HashSet<&str> = remaining.iter().map(|j| j.id.as_str()).collect();
            let mut chains = Vec::new();
            let mut taken: HashSet<&str> = HashSet::new();
            for component in components(&remaining) {
                if is_chain(&component, &ancestors) {
                    taken.extend(component.iter().map(|j| j.id.as_str()));
                    chains.push(component);
                    continue;
                }
                // The jobs of the component that need none of the others go first.
                for job in component {
                    if job.needs.iter().all(|n| !left.contains(n.as_str())) {
                        taken.insert(job.id.as_str());
                        chains.push(vec![job]);
                    }
                }
            }
            remaining.retain(|j| !taken.contains(j.id.as_str()));
            layers.push(Layer { chains });
        }
        Layout { layers }
    }

    /// Each job that a failure of a job it does not need stops, with those jobs: a job
    /// laid out after another that can fail (one without `allow_failure`), in an earlier
    /// layer or earlier in its chain, without needing it.
    pub fn stopped_without_need(&self) -> Vec<(&'p Job, Vec<&'p Job>)> {
        let all: Vec<&'p Job> = self
            .layers
            .iter()
            .flat_map(|l| l.chains.iter().flatten().copied())
            .collect();
        let ancestors = ancestors(&all);
        let mut before: Vec<&'p Job> = Vec::new();
        let mut result = Vec::new();
        for layer in &self.layers {
            for chain in &layer.chains {
                let mut in_chain: Vec<&'p Job> = Vec::new();
                for job in chain {
                    let stoppers: Vec<&'p Job> = before
                        .iter()
                        .chain(&in_chain)
                        .filter(|b| {
                            !b.allow_failure && !ancestors[job.id.as_str()].contains(b.id.as_str())
                        })
                        .copied()
                        .collect();
                    if !stoppers.is_empty() {
                        result.push((*job, stoppers));
                    }
                    in_chain.push(job);
                }
            }
            before.extend(layer.chains.iter().flatten().copied());
        }
        result
    }
}

/// Every job's needs, transitively, among the given jobs (in plan order).
fn ancestors<'p>(jobs: &[&'p Job]) -> HashMap<&'p str, HashSet<&'p str>> {
    let mut result: HashMap<&'p str, HashSet<&'p str>> = HashMap::new();
    for job in jobs {
        let mut all: HashSet<&'p str> = HashSet::new();
        for need in &job.needs {
            if let Some((id, more)) = result.get_key_value(need.as_str()) {
                all.insert(id);
                all.extend(more.iter().copied());
            }
        }
        result.insert(job.id.as_str(), all);
    }
    result
}

/// The weakly connected components of the jobs under their needs among them, each in plan
/// order, ordered by their first job. (Needs of earlier stages are done before the stage
/// starts.)
fn components<'p>(jobs: &[&'p Job]) -> Vec<Vec<&'p Job>> {
    let index: HashMap<&str, usize> = jobs
        .iter()
        .enumerate()
        .map(|(i, j)| (j.id.as_str(), i))
        .collect();
    let mut parent: Vec<usize> = (0..jobs.len()).collect();
    fn find(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for (i, job) in jobs.iter().enumerate() {
        for need in &job.needs {
            if let Some(&j) = index.get(need.as_str()) {
                let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                parent[a.max(b)] = a.min(b);
            }
        }
    }
    let mut groups: Vec<(usize, Vec<&'p Job>)> = Vec::new();
    for (i, job) in jobs.iter().enumerate() {
        let root = find(&mut parent, i);
        match groups.iter_mut().find(|(r, _)| *r == root) {
            Some((_, group)) => group.push(job),
            None => groups.push((root, vec![job])),
        }
    }
    groups.into_iter().map(|(_, group)| group).collect()
}

/// Whether each job of the component (in plan order) needs the one before it, so that
/// running them one after another adds no ordering.
fn is_chain(component: &[&Job], ancestors: &HashMap<&str, HashSet<&str>>) -> bool {
    component
        .windows(2)
        .all(|pair| ancestors[pair[1].id.as_str()].contains(pair[0].id.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(stage: &str) -> crate::plan::Plan {
        let text = format!("pipeline p {{ stage s {{ {stage} }} }}");
        let compilation = crate::compile::compile_text("p.cdl", None, text);
        crate::plan::build(&compilation).expect("plans")
    }

    fn shape(layout: &Layout) -> Vec<Vec<Vec<String>>> {
        layout
            .layers
            .iter()
            .map(|l| {
                l.chains
                    .iter()
                    .map(|c| c.iter().map(|j| j.id.clone()).collect())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn independent_chains_run_in_parallel() {
        let plan =
            plan("job a { run = \"x\" } job b { run = \"x\"; after = [a] } job c { run = \"x\" }");
        let jobs: Vec<&Job> = plan.jobs.iter().collect();
        let layout = Layout::of(&jobs);
        assert_eq!(shape(&layout), [[vec!["a", "b"], vec!["c"]]]);
        assert!(layout.stopped_without_need().is_empty());
    }

    #[test]
    fn a_fan_out_is_two_layers() {
        let plan = plan(
            "job a { run = \"x\" } job b { run = \"x\"; after = [a] } job c { run = \"x\"; after = [a] }",
        );
        let jobs: Vec<&Job> = plan.jobs.iter().collect();
        let layout = Layout::of(&jobs);
        assert_eq!(
            shape(&layout),
            [vec![vec!["a"]], vec![vec!["b"], vec!["c"]]]
        );
        assert!(layout.stopped_without_need().is_empty());
    }

    #[test]
    fn a_shape_declarative_cannot_nest_stops_more_and_says_which() {
        let plan = plan(
            "job a { run = \"x\" } job b { run = \"x\" } job c { run = \"x\"; after = [a] } job d { run = \"x\"; after = [a, b] }",
        );
        let jobs: Vec<&Job> = plan.jobs.iter().collect();
        let layout = Layout::of(&jobs);
        assert_eq!(
            shape(&layout),
            [vec![vec!["a"], vec!["b"]], vec![vec!["c"], vec!["d"]]]
        );
        let stopped: Vec<(String, Vec<String>)> = layout
            .stopped_without_need()
            .into_iter()
            .map(|(j, s)| (j.id.clone(), s.iter().map(|s| s.id.clone()).collect()))
            .collect();
        assert_eq!(stopped, [("c".to_string(), vec!["b".to_string()])]);
    }
}
