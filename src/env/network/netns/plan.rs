//! The addresses of one test's emulated network: a subnet slot unique among the tests this
//! panther runs at once, and for each service its IPv4 and IPv6 addresses and MAC, plus the
//! `ip` commands that configure a service's interface with them. Shared by the netns driver
//! and by docker_compose when it joins containers to panther's link.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Mutex;

use super::NetnsError;
use super::frame::Mac;

/// The most services a /24 numbered from host 2 holds.
pub const MAX_SERVICES: usize = 252;

static SLOTS: Mutex<BTreeSet<u8>> = Mutex::new(BTreeSet::new());

/// One service's addresses.
#[derive(Debug, Clone)]
pub struct Host {
    pub name: String,
    pub v4: Ipv4Addr,
    pub v6: Ipv6Addr,
    pub mac: Mac,
}

/// A test's addresses; dropping it frees the slot.
#[derive(Debug)]
pub struct Plan {
    pub slot: u8,
    pub hosts: Vec<Host>,
}

impl Plan {
    /// Addresses for `names`, in order: 10.213.S.2, .3, … and fd70:616e:0:S::2, …
    pub fn new<'a>(names: impl ExactSizeIterator<Item = &'a str>) -> Result<Plan, NetnsError> {
        if names.len() > MAX_SERVICES {
            return Err(NetnsError::TooManyServices {
                max: MAX_SERVICES,
                got: names.len(),
            });
        }
        let slot = take_slot()?;
        let hosts = names
            .enumerate()
            .map(|(i, name)| {
                let h = (i + 2) as u8;
                Host {
                    name: name.to_string(),
                    v4: Ipv4Addr::new(10, 213, slot, h),
                    v6: Ipv6Addr::new(0xfd70, 0x616e, 0, u16::from(slot), 0, 0, 0, u16::from(h)),
                    mac: [0x02, 0x70, 0x6e, slot, 0, h],
                }
            })
            .collect();
        Ok(Plan { slot, hosts })
    }

    pub fn host(&self, name: &str) -> Option<&Host> {
        self.hosts.iter().find(|h| h.name == name)
    }

    /// `(address, name)` for every service, v4 and v6: a hosts file's lines.
    pub fn names(&self) -> Vec<(String, String)> {
        self.hosts
            .iter()
            .flat_map(|h| {
                [
                    (h.v4.to_string(), h.name.clone()),
                    (h.v6.to_string(), h.name.clone()),
                ]
            })
            .collect()
    }

    /// `ip -batch` lines that configure host `i` on interface `iface` (renamed from `from`
    /// first, when given): loopback, MAC, addresses (IPv6 without duplicate address
    /// detection, so it is usable at once; none when `v6` is false, as in Docker's
    /// containers, which disable IPv6), and a static neighbour entry for every other host, so
    /// no ARP is needed. The interface goes up last: once it is up, it is ready.
    pub fn config(&self, i: usize, iface: &str, from: Option<&str>, v6: bool) -> Vec<String> {
        let me = &self.hosts[i];
        let mut c = vec!["link set lo up".to_string()];
        if let Some(old) = from {
            c.push(format!("link set {old} name {iface}"));
        }
        c.push(format!("link set {iface} address {}", mac_text(me.mac)));
        c.push(format!("addr add {}/24 dev {iface}", me.v4));
        if v6 {
            c.push(format!("addr add {}/64 dev {iface} nodad", me.v6));
        }
        for (j, o) in self.hosts.iter().enumerate() {
            if j == i {
                continue;
            }
            let m = mac_text(o.mac);
            c.push(format!(
                "neigh replace {} lladdr {m} dev {iface} nud permanent",
                o.v4
            ));
            if v6 {
                c.push(format!(
                    "neigh replace {} lladdr {m} dev {iface} nud permanent",
                    o.v6
                ));
            }
        }
        c.push(format!("link set {iface} up"));
        c
    }
}

impl Drop for Plan {
    fn drop(&mut self) {
        SLOTS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.slot);
    }
}

fn take_slot() -> Result<u8, NetnsError> {
    let mut slots = SLOTS.lock().unwrap_or_else(|e| e.into_inner());
    let free = (0..=255u8).find(|s| !slots.contains(s));
    match free {
        Some(s) => {
            slots.insert(s);
            Ok(s)
        }
        None => Err(NetnsError::PoolExhausted(slots.len())),
    }
}

pub fn mac_text(m: Mac) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_tests_get_distinct_subnets_and_freed_slots_return() {
        let a = Plan::new(["s", "c"].into_iter()).unwrap();
        let b = Plan::new(["s"].into_iter()).unwrap();
        assert_ne!(a.slot, b.slot);
        assert_eq!(a.hosts[1].v4, Ipv4Addr::new(10, 213, a.slot, 3));
        assert_eq!(a.host("c").unwrap().mac[5], 3);
        let slot = b.slot;
        drop(b);
        let c = Plan::new(["x"].into_iter()).unwrap();
        assert!(c.slot == slot || c.slot != a.slot);
    }

    #[test]
    fn configuration_brings_the_interface_up_last_with_static_neighbours() {
        let p = Plan::new(["s", "c"].into_iter()).unwrap();
        let cfg = p.config(0, "eth1", Some("pt1"), true);
        assert_eq!(cfg[1], "link set pt1 name eth1");
        assert!(
            cfg.iter()
                .any(|l| l.starts_with(&format!("neigh replace {}", p.hosts[1].v4)))
        );
        assert_eq!(cfg.last().unwrap(), "link set eth1 up");
    }

    #[test]
    fn a_test_larger_than_a_subnet_is_refused() {
        let names: Vec<String> = (0..300).map(|i| format!("s{i}")).collect();
        let e = Plan::new(names.iter().map(String::as_str)).unwrap_err();
        assert!(e.to_string().contains("at most 252"), "{e}");
    }
}
