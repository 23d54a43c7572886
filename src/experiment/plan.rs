//! Start order: a service starts after its `target` and its `depends_on` are ready (PANTHER's
//! `get_execution_order`); ties keep the order of the file. Teardown is the reverse.
//!
//! A server whose `target` is a client (PANTHER's Ivy servers name the client they test)
//! does not wait for it: a server listens first and the client comes to it, so that edge is
//! left out and the server starts first. PANTHER's depth-first sort tolerates that loop
//! silently; here only loops of `depends_on` and client targets are errors.

use super::model::Test;
use crate::plugin::Role;

/// The services of `t` in start order, or the services of one cycle (first repeated at the end).
pub fn start_order(t: &Test) -> Result<Vec<String>, Vec<String>> {
    let names: Vec<&str> = t.services.keys().map(String::as_str).collect();
    let idx = |n: &str| names.iter().position(|x| *x == n);
    // deps[i]: indices service i waits for.
    let deps: Vec<Vec<usize>> = t
        .services
        .iter()
        .map(|(name, s)| {
            let mut d: Vec<usize> = s
                .protocol
                .target
                .iter()
                .filter(|target| {
                    !(s.protocol.role == Role::Server
                        && t.services
                            .get(target.as_str())
                            .is_some_and(|ts| ts.protocol.role == Role::Client))
                })
                .chain(s.depends_on.iter())
                .filter(|x| *x != name)
                .filter_map(|x| idx(x))
                .collect();
            d.sort_unstable();
            d.dedup();
            d
        })
        .collect();
    let n = names.len();
    let mut done = vec![false; n];
    let mut order = Vec::with_capacity(n);
    while order.len() < n {
        // First not-yet-started service whose dependencies have all started: O(n²), and n is
        // the handful of services of one test.
        match (0..n).find(|&i| !done[i] && deps[i].iter().all(|&d| done[d])) {
            Some(i) => {
                done[i] = true;
                order.push(names[i].to_string());
            }
            None => return Err(find_cycle(&deps, &done, &names)),
        }
    }
    Ok(order)
}

fn find_cycle(deps: &[Vec<usize>], done: &[bool], names: &[&str]) -> Vec<String> {
    // Every remaining node has a remaining dependency: walk until a node repeats.
    let start = (0..deps.len()).find(|&i| !done[i]).expect("a node remains");
    let mut path = vec![start];
    let mut cur = start;
    loop {
        cur = *deps[cur]
            .iter()
            .find(|&&d| !done[d])
            .expect("remaining node has a remaining dependency");
        if let Some(pos) = path.iter().position(|&p| p == cur) {
            let mut cycle: Vec<String> =
                path[pos..].iter().map(|&i| names[i].to_string()).collect();
            cycle.push(names[cur].to_string());
            return cycle;
        }
        path.push(cur);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::model::Experiment;
    use crate::yaml::{Limits, from_node, parse};

    fn test_of(src: &str) -> Test {
        let root = parse(src, Limits::default()).unwrap();
        let mut e: Experiment = from_node(&root).unwrap();
        e.tests.remove(0)
    }

    #[test]
    fn clients_start_after_their_targets() {
        let t = test_of(
            "tests:\n- name: t\n  network_environment: {type: localhost}\n  services:\n    c: {implementation: {name: x, type: tester}, protocol: {name: minip, role: client, target: s}}\n    s: {implementation: {name: y, type: iut}, protocol: {name: minip, role: server}}\n",
        );
        assert_eq!(start_order(&t).unwrap(), ["s", "c"]);
    }

    #[test]
    fn a_server_targeting_its_client_starts_first() {
        let t = test_of(
            "tests:\n- name: t\n  network_environment: {type: localhost}\n  services:\n    c: {implementation: {name: x, type: iut}, protocol: {name: quic, role: client, target: ivy}}\n    ivy: {implementation: {name: y, type: tester}, protocol: {name: quic, role: server, target: c}}\n",
        );
        assert_eq!(start_order(&t).unwrap(), ["ivy", "c"]);
    }

    #[test]
    fn cycles_are_named() {
        let t = test_of(
            "tests:\n- name: t\n  network_environment: {type: localhost}\n  services:\n    a: {implementation: {name: x, type: tester}, protocol: {name: minip, role: client, target: b}}\n    b: {implementation: {name: y, type: iut}, protocol: {name: minip, role: client, target: a}}\n",
        );
        assert_eq!(start_order(&t).unwrap_err(), ["a", "b", "a"]);
    }
}
