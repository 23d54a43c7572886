//! Two matrices side by side: `diff` lists what changed (regressions first), `merge` joins
//! shards into the matrix an unsharded run would have written.

use super::{Cell, CellVerdict, Matrix};

/// One cell whose verdict changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub cell: Cell,
    pub old: Option<CellVerdict>,
    pub new: Option<CellVerdict>,
}

impl Change {
    /// A pass that is no longer one.
    pub fn is_regression(&self) -> bool {
        self.old == Some(CellVerdict::Pass) && self.new != Some(CellVerdict::Pass)
    }

    pub fn is_fix(&self) -> bool {
        self.new == Some(CellVerdict::Pass) && self.old != Some(CellVerdict::Pass)
    }
}

/// Every cell whose verdict differs between `old` and `new` (one side missing counts):
/// regressions first, then fixes, then the rest, each in cell order.
pub fn diff(old: &Matrix, new: &Matrix) -> Vec<Change> {
    let mut cells: Vec<Cell> = old.iter().chain(new.iter()).map(|(c, _)| c).collect();
    cells.sort();
    cells.dedup();
    let mut out: Vec<Change> = cells
        .into_iter()
        .filter_map(|cell| {
            let (o, n) = (
                old.get(&cell).map(|r| r.verdict),
                new.get(&cell).map(|r| r.verdict),
            );
            (o != n).then_some(Change {
                cell,
                old: o,
                new: n,
            })
        })
        .collect();
    out.sort_by_key(|c| (!c.is_regression(), !c.is_fix()));
    out
}

/// Joins shard results into one matrix. The shards must be of the same matrix (protocol,
/// environment, axes, repeat) and must not both hold a cell.
pub fn merge(parts: Vec<Matrix>) -> Result<Matrix, String> {
    let mut it = parts.into_iter();
    let mut m = it.next().ok_or("nothing to merge")?;
    m.shard = None;
    for p in it {
        let same = (
            &p.protocol,
            &p.network_environment,
            &p.servers,
            &p.clients,
            &p.cases,
            p.repeat,
        ) == (
            &m.protocol,
            &m.network_environment,
            &m.servers,
            &m.clients,
            &m.cases,
            m.repeat,
        );
        if !same {
            return Err(format!(
                "shard {} is of another matrix (protocol, environment, servers, clients, cases or repeat differ)",
                p.shard.as_deref().unwrap_or("?")
            ));
        }
        for (cell, r) in p.iter() {
            if m.get(&cell).is_some() {
                return Err(format!(
                    "two shards hold {} × {} × {}",
                    cell.server, cell.client, cell.case
                ));
            }
            m.insert(&cell, r.clone());
        }
        m.duration_ms = m.duration_ms.max(p.duration_ms);
        m.started_at = m.started_at.clone().min(p.started_at.clone());
    }
    Ok(m)
}
