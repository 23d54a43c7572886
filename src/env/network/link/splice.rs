//! Zero-copy forwarding for TCP links without delay or rate (Linux): each chunk goes from one
//! socket to the other through a pipe with `splice(2)` and never through user space, so the
//! relay costs little more than the sockets themselves. For its message event the relay peeks
//! at the first [`PEEK`] bytes of each chunk (`recv(MSG_PEEK)`), which is what the summary
//! and hex need.
//!
//! Readiness comes from tokio (`readable`/`writable` + `try_io`): a pipe is only ever filled
//! when empty and drained completely before the next fill, so `EAGAIN` always means the
//! socket, never the pipe.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::ptr;
use std::time::Instant;

use nix::libc;
use tokio::io::Interest;
use tokio::net::TcpStream;

use super::{Ctx, Dir};

/// Bytes at the start of each chunk the relay reads for its event (an HTTP request line and
/// the hex prefix fit).
const PEEK: usize = 512;
/// The pipe size asked for (the largest chunk); the kernel may grant less.
const PIPE_SIZE: usize = 1 << 20;

/// A non-blocking pipe.
pub(super) struct Pipe {
    r: OwnedFd,
    w: OwnedFd,
    cap: usize,
}

impl Pipe {
    pub(super) fn new() -> io::Result<Pipe> {
        let mut fds: [libc::c_int; 2] = [-1, -1];
        // SAFETY: `fds` is an array of two ints for pipe2 to fill.
        let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: pipe2 succeeded: both are open descriptors that nothing else owns.
        let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        // SAFETY: fcntl on a descriptor we own; failure leaves the default size.
        let size =
            unsafe { libc::fcntl(w.as_raw_fd(), libc::F_SETPIPE_SZ, PIPE_SIZE as libc::c_int) };
        let cap = if size > 0 {
            size as usize
        } else {
            // SAFETY: as above.
            let size = unsafe { libc::fcntl(w.as_raw_fd(), libc::F_GETPIPE_SZ) };
            if size > 0 { size as usize } else { 4096 }
        };
        Ok(Pipe { r, w, cap })
    }
}

fn splice(from: RawFd, to: RawFd, len: usize) -> io::Result<usize> {
    // SAFETY: both descriptors are open for the duration of the call (the caller holds the
    // sockets and the pipe); sockets and pipes take no offsets, hence the null pointers.
    let n = unsafe {
        libc::splice(
            from,
            ptr::null_mut(),
            to,
            ptr::null_mut(),
            len,
            libc::SPLICE_F_MOVE | libc::SPLICE_F_NONBLOCK,
        )
    };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

fn peek(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for `buf.len()` writable bytes; `fd` is an open socket.
    let n = unsafe {
        libc::recv(
            fd,
            buf.as_mut_ptr().cast(),
            buf.len(),
            libc::MSG_PEEK | libc::MSG_DONTWAIT,
        )
    };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

fn shutdown_write(fd: RawFd) {
    // SAFETY: `fd` is an open socket; shutting down its sending side touches no memory.
    unsafe {
        libc::shutdown(fd, libc::SHUT_WR);
    }
}

/// Forwards one direction until end of stream, then passes the half-close on.
pub(super) async fn forward(ctx: &Ctx, dir: Dir, src: &TcpStream, dst: &TcpStream, pipe: Pipe) {
    let mut head = [0u8; PEEK];
    loop {
        let (seen, n) = match fill(src, &pipe, &mut head).await {
            Ok(Some(r)) => r,
            Ok(None) | Err(_) => break,
        };
        let now = Instant::now();
        ctx.received(dir, n);
        let f = ctx.sent_head(dir, &head[..seen.min(n)], n, now, None, None);
        if drain(dst, &pipe, n).await.is_err() {
            ctx.send_error(dir);
            return;
        }
        ctx.delivered(dir, f, false);
    }
    shutdown_write(dst.as_raw_fd());
}

/// Waits for data, peeks at its start and moves as much as fits into the (empty) pipe:
/// `(bytes peeked, bytes moved)`, or `None` at end of stream.
async fn fill(src: &TcpStream, pipe: &Pipe, head: &mut [u8]) -> io::Result<Option<(usize, usize)>> {
    let fd = src.as_raw_fd();
    loop {
        src.readable().await?;
        let r = src.try_io(Interest::READABLE, || {
            let seen = peek(fd, head)?;
            if seen == 0 {
                return Ok(None);
            }
            // Data is there and the pipe is empty, so this moves something; should it not,
            // report 0 (retry) rather than `WouldBlock`, which would clear the readiness.
            match splice(fd, pipe.w.as_raw_fd(), pipe.cap) {
                Ok(n) => Ok(Some((seen, n))),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(Some((seen, 0))),
                Err(e) => Err(e),
            }
        });
        match r {
            Ok(Some((_, 0))) => tokio::task::yield_now().await,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            r => return r,
        }
    }
}

/// Moves `left` bytes from the pipe to `dst`.
async fn drain(dst: &TcpStream, pipe: &Pipe, mut left: usize) -> io::Result<()> {
    let fd = dst.as_raw_fd();
    while left > 0 {
        dst.writable().await?;
        match dst.try_io(Interest::WRITABLE, || splice(pipe.r.as_raw_fd(), fd, left)) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(m) => left -= m.min(left),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
