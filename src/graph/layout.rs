//! A layered layout: one column band per stage, and inside a stage one column per depth of
//! explicit needs (a job sits right of the jobs of its stage it needs). Every job has a row of
//! its own in its column, so boxes never overlap; box widths come from their longest text.

use std::collections::HashMap;

use crate::plan::Plan;

pub const BOX_HEIGHT: f64 = 46.0;
pub const ROW_GAP: f64 = 18.0;
pub const COLUMN_GAP: f64 = 56.0;
pub const STAGE_PADDING: f64 = 18.0;
pub const STAGE_TITLE: f64 = 30.0;
/// Width of one character of the 13 px monospace font the SVG uses.
pub const CHAR_WIDTH: f64 = 7.9;

#[derive(Debug, Clone, PartialEq)]
pub struct Placed {
    pub x: f64,
    pub y: f64,
    pub width: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StageBand {
    pub name: String,
    pub x: f64,
    pub width: f64,
}

#[derive(Debug, Clone)]
pub struct Layout {
    /// Job id → its box.
    pub boxes: HashMap<String, Placed>,
    pub stages: Vec<StageBand>,
    pub width: f64,
    pub height: f64,
}

pub fn layout(plan: &Plan) -> Layout {
    let index: HashMap<&str, usize> = plan
        .jobs
        .iter()
        .enumerate()
        .map(|(i, j)| (j.id.as_str(), i))
        .collect();
    // Depth inside the stage: 1 + the deepest same-stage need (jobs are in topological order).
    let mut depth = vec![0usize; plan.jobs.len()];
    for (i, job) in plan.jobs.iter().enumerate() {
        depth[i] = job
            .needs
            .iter()
            .filter_map(|n| index.get(n.as_str()))
            .filter(|n| plan.jobs[**n].stage == job.stage)
            .map(|n| depth[*n] + 1)
            .max()
            .unwrap_or(0);
    }
    let mut boxes = HashMap::new();
    let mut stages = Vec::new();
    let mut x = 0.0;
    let mut height: f64 = 0.0;
    for stage in &plan.stages {
        let members: Vec<usize> = stage
            .jobs
            .iter()
            .filter_map(|id| index.get(id.as_str()).copied())
            .collect();
        let columns = members.iter().map(|i| depth[*i]).max().map_or(1, |d| d + 1);
        let mut column_width = vec![0.0f64; columns];
        for i in &members {
            let job = &plan.jobs[*i];
            let text = super::label(job)
                .chars()
                .count()
                .max(super::form(job).chars().count());
            column_width[depth[*i]] = column_width[depth[*i]].max(text as f64 * CHAR_WIDTH + 28.0);
        }
        let title_width = stage.name.chars().count() as f64 * CHAR_WIDTH + 2.0 * STAGE_PADDING;
        let inner: f64 =
            column_width.iter().sum::<f64>() + COLUMN_GAP * (columns.saturating_sub(1)) as f64;
        let band_width = (inner + 2.0 * STAGE_PADDING).max(title_width).max(120.0);
        let mut rows = vec![0usize; columns];
        for i in &members {
            let d = depth[*i];
            let column_x =
                x + STAGE_PADDING + column_width[..d].iter().sum::<f64>() + COLUMN_GAP * d as f64;
            let y = STAGE_TITLE + rows[d] as f64 * (BOX_HEIGHT + ROW_GAP);
            rows[d] += 1;
            height = height.max(y + BOX_HEIGHT + STAGE_PADDING);
            boxes.insert(
                plan.jobs[*i].id.clone(),
                Placed {
                    x: column_x,
                    y,
                    width: column_width[d],
                },
            );
        }
        stages.push(StageBand {
            name: stage.name.clone(),
            x,
            width: band_width,
        });
        x += band_width + COLUMN_GAP;
    }
    Layout {
        boxes,
        stages,
        width: (x - COLUMN_GAP).max(0.0),
        height: height.max(STAGE_TITLE + BOX_HEIGHT + STAGE_PADDING),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_of_the_examples_never_overlap() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        for entry in std::fs::read_dir(root).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "cdl") {
                continue;
            }
            let compilation = crate::compile::compile_path(&path).unwrap();
            let plan = crate::plan::build(&compilation).unwrap();
            let layout = layout(&plan);
            let boxes: Vec<&Placed> = layout.boxes.values().collect();
            assert_eq!(boxes.len(), plan.jobs.len());
            for (i, a) in boxes.iter().enumerate() {
                assert!(a.x + a.width <= layout.width + 0.1 && a.y + BOX_HEIGHT <= layout.height);
                for b in &boxes[i + 1..] {
                    let apart = a.x + a.width <= b.x
                        || b.x + b.width <= a.x
                        || a.y + BOX_HEIGHT <= b.y
                        || b.y + BOX_HEIGHT <= a.y;
                    assert!(apart, "{}: {a:?} overlaps {b:?}", path.display());
                }
            }
        }
    }
}
