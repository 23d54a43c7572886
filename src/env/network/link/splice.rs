//! Zero-copy forwarding for TCP links without delay or rate (Linux): each chunk goes from one
//! socket to the other through a pipe with `splice(2)` and never through user space, so the
//! relay costs little more than the sockets themselves. For its message event the relay peeks
//! at the first [`PEEK`] bytes of each chunk (`recv(MSG_PEEK)`), which is what the summary
//! and hex need.
//!
//! Readiness comes from tokio (`readable`/`writable` + `try_io`). The filler peeks before it
//! splices, so an `EAGAIN` after a successful peek means the pipe (out of slots), never the
//! socket, and the socket's readiness is kept; the drainer only asks for bytes it knows are in
//! the pipe, so its `EAGAIN` always means the socket.

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use nix::fcntl::{FcntlArg, OFlag, SpliceFFlags, fcntl, splice as fcntl_splice};
use nix::sys::socket::{MsgFlags, Shutdown, recv, shutdown};
use nix::unistd::pipe2;
use tokio::io::Interest;
use tokio::net::TcpStream;
use tokio::sync::{Notify, mpsc};

use super::{Ctx, Dir, InFlight, Tasks};

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
        let (r, w) = pipe2(OFlag::O_NONBLOCK | OFlag::O_CLOEXEC)?;
        // Failure to grow leaves the default size, which is then asked for.
        let cap = fcntl(&w, FcntlArg::F_SETPIPE_SZ(PIPE_SIZE as i32))
            .or_else(|_| fcntl(&w, FcntlArg::F_GETPIPE_SZ))
            .ok()
            .filter(|&n| n > 0)
            .map_or(4096, |n| n as usize);
        Ok(Pipe { r, w, cap })
    }
}

/// Sockets and pipes take no offsets.
fn splice(from: BorrowedFd<'_>, to: BorrowedFd<'_>, len: usize) -> io::Result<usize> {
    let flags = SpliceFFlags::SPLICE_F_MOVE | SpliceFFlags::SPLICE_F_NONBLOCK;
    Ok(fcntl_splice(from, None, to, None, len, flags)?)
}

fn peek(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    let flags = MsgFlags::MSG_PEEK | MsgFlags::MSG_DONTWAIT;
    Ok(recv(fd.as_raw_fd(), buf, flags)?)
}

fn shutdown_write(fd: BorrowedFd<'_>) {
    let _ = shutdown(fd.as_raw_fd(), Shutdown::Write);
}

/// One direction's pipe, shared by the task that fills it and the task that drains it.
struct Shared {
    pipe: Pipe,
    /// Bytes in the pipe (added by the filler before it announces a chunk).
    queued: AtomicUsize,
    /// Signalled by the drainer when it made room, and when it gave up.
    room: Notify,
    /// The drainer gave up (the receiver failed): the filler stops too.
    closed: AtomicBool,
}

/// Forwards one direction until end of stream, then passes the half-close on. Two tasks: one
/// moves chunks from `src` into the pipe, the other from the pipe to `dst`, so reading and
/// writing proceed in parallel (on two CPUs when the runtime has them), as they do between
/// two directly connected endpoints.
pub(super) fn forward(
    ctx: &Arc<Ctx>,
    tasks: &Tasks,
    dir: Dir,
    src: Arc<TcpStream>,
    dst: Arc<TcpStream>,
    pipe: Pipe,
) {
    let shared = Arc::new(Shared {
        pipe,
        queued: AtomicUsize::new(0),
        room: Notify::new(),
        closed: AtomicBool::new(false),
    });
    let (tx, rx) = mpsc::unbounded_channel();
    tasks.spawn(filler(ctx.clone(), dir, src, shared.clone(), tx));
    tasks.spawn(drainer(ctx.clone(), dir, dst, shared, rx));
}

/// Moves each chunk from `src` into the pipe, emits its "sent" event and hands its record to
/// the drainer; ends at end of stream (closing the channel tells the drainer).
async fn filler(
    ctx: Arc<Ctx>,
    dir: Dir,
    src: Arc<TcpStream>,
    sh: Arc<Shared>,
    tx: mpsc::UnboundedSender<(usize, InFlight)>,
) {
    let mut head = [0u8; PEEK];
    let fd = src.as_fd();
    loop {
        // Wait for room in the pipe.
        loop {
            if sh.closed.load(Ordering::Acquire) {
                return;
            }
            if sh.queued.load(Ordering::Acquire) < sh.pipe.cap {
                break;
            }
            sh.room.notified().await;
        }
        if src.readable().await.is_err() {
            return;
        }
        let room = sh.pipe.cap - sh.queued.load(Ordering::Acquire);
        let r = src.try_io(Interest::READABLE, || {
            let seen = peek(fd, &mut head)?;
            if seen == 0 {
                return Ok(None);
            }
            // Data is there, so `WouldBlock` here means the pipe is out of slots, not the
            // socket out of data: report 0 rather than clear the socket's readiness.
            match splice(fd, sh.pipe.w.as_fd(), room) {
                Ok(n) => Ok(Some((seen, n))),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(Some((seen, 0))),
                Err(e) => Err(e),
            }
        });
        let (seen, n) = match r {
            Ok(Some(r)) => r,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Ok(None) | Err(_) => return, // end of stream or error: dropping `tx` says so
        };
        if n == 0 {
            // The pipe is full of small pieces: wait until the drainer takes some.
            if sh.queued.load(Ordering::Acquire) > 0 {
                sh.room.notified().await;
            } else {
                tokio::task::yield_now().await;
            }
            continue;
        }
        let now = Instant::now();
        ctx.received(dir, n);
        let f = ctx.sent_head(dir, &head[..seen.min(n)], n, now, None, None);
        sh.queued.fetch_add(n, Ordering::AcqRel);
        if tx.send((n, f)).is_err() {
            return;
        }
    }
}

/// Moves the announced chunks from the pipe to `dst`, emitting each one's "delivered" event
/// once all its bytes are out; passes the half-close on after the last one.
async fn drainer(
    ctx: Arc<Ctx>,
    dir: Dir,
    dst: Arc<TcpStream>,
    sh: Arc<Shared>,
    mut rx: mpsc::UnboundedReceiver<(usize, InFlight)>,
) {
    let fd = dst.as_fd();
    let mut pending: VecDeque<(usize, InFlight)> = VecDeque::new();
    let mut owed = 0usize; // bytes announced and not yet written
    let give_up = |sh: &Shared| {
        sh.closed.store(true, Ordering::Release);
        sh.room.notify_one();
    };
    loop {
        if pending.is_empty() {
            match rx.recv().await {
                Some(c) => {
                    owed += c.0;
                    pending.push_back(c);
                }
                None => break,
            }
        }
        while let Ok(c) = rx.try_recv() {
            owed += c.0;
            pending.push_back(c);
        }
        if dst.writable().await.is_err() {
            ctx.send_error(dir);
            return give_up(&sh);
        }
        let m = match dst.try_io(Interest::WRITABLE, || splice(sh.pipe.r.as_fd(), fd, owed)) {
            Ok(0) => {
                ctx.send_error(dir);
                return give_up(&sh);
            }
            Ok(m) => m.min(owed),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(_) => {
                ctx.send_error(dir);
                return give_up(&sh);
            }
        };
        owed -= m;
        sh.queued.fetch_sub(m, Ordering::AcqRel);
        sh.room.notify_one();
        let mut left = m;
        while left > 0 {
            let front = pending
                .front_mut()
                .expect("bytes written belong to a chunk");
            if front.0 > left {
                front.0 -= left;
                break;
            }
            left -= front.0;
            let (_, f) = pending.pop_front().expect("checked");
            ctx.delivered(dir, f, false);
        }
    }
    shutdown_write(fd);
}
