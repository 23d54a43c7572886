//! A TAP device created inside a network namespace, its file descriptor held by panther.
//! The device is not persistent: it disappears when the descriptor closes, so a panther that
//! is killed (even by SIGKILL) takes its devices with it.

use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use nix::fcntl::{OFlag, open};
use nix::sched::{CloneFlags, setns};
use nix::sys::stat::Mode;

use super::NetnsError;

const IFF_TAP: libc_short = 0x0002;
const IFF_NO_PI: libc_short = 0x1000;
#[allow(non_camel_case_types)]
type libc_short = nix::libc::c_short;

nix::ioctl_write_ptr_bad!(tunsetiff, 0x4004_54ca, nix::libc::ifreq);

/// Creates TAP device `ifname` inside the namespace at `ns` and returns its descriptor
/// (non-blocking, close-on-exec). The namespace switch happens on a short-lived thread, since
/// `setns` changes only the calling thread's namespace and that thread must not go back to
/// running other work.
pub fn create_in(ns: &Path, ifname: &str) -> Result<OwnedFd, NetnsError> {
    let ns_file = File::open(ns).map_err(|e| NetnsError::Io(ns.display().to_string(), e))?;
    let ifname = ifname.to_string();
    std::thread::scope(|s| {
        s.spawn(|| -> Result<OwnedFd, NetnsError> {
            setns(ns_file.as_fd(), CloneFlags::CLONE_NEWNET)
                .map_err(|e| NetnsError::Sys("setns", e))?;
            open_tap(&ifname)
        })
        .join()
        .unwrap_or_else(|_| Err(NetnsError::Tool("TAP thread panicked".into())))
    })
}

fn open_tap(ifname: &str) -> Result<OwnedFd, NetnsError> {
    let fd = open(
        "/dev/net/tun",
        OFlag::O_RDWR | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| NetnsError::Sys("open /dev/net/tun", e))?;
    // SAFETY: ifreq is plain old data; all-zero is a valid value.
    let mut req: nix::libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, b) in req.ifr_name.iter_mut().zip(ifname.bytes().take(15)) {
        *dst = b as nix::libc::c_char;
    }
    req.ifr_ifru.ifru_flags = IFF_TAP | IFF_NO_PI;
    // SAFETY: TUNSETIFF reads an ifreq from the pointer, which outlives the call.
    unsafe { tunsetiff(std::os::fd::AsRawFd::as_raw_fd(&fd), &req) }
        .map_err(|e| NetnsError::Sys("TUNSETIFF", e))?;
    Ok(fd)
}

/// Creates TAP device `ifname` in panther's own namespace (to be moved into another one with
/// `ip link set IFNAME netns NS`; the descriptor keeps working across the move).
pub fn create_here(ifname: &str) -> Result<OwnedFd, NetnsError> {
    open_tap(ifname)
}
