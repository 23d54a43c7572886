//! The tiny init every local service runs under, so that nothing a service starts can outlive
//! it: `panther __panther-init -- PROGRAM ARGS…`.
//!
//! Three processes: the **keeper** (what panther spawned, in panther's pid namespace, with
//! PR_SET_PDEATHSIG=SIGKILL), the **init** (pid 1 of a pid namespace of its own, with
//! PR_SET_PDEATHSIG=SIGKILL toward the keeper) and the service. The kernel kills every process
//! of a pid namespace when its pid 1 exits, so
//! - a daemon that forked, called `setsid` and forked again is still in the namespace and
//!   dies with it;
//! - panther killed with SIGKILL takes the keeper with it (PDEATHSIG), the keeper takes the
//!   init (PDEATHSIG), and the init takes the whole namespace, wrappers (`time`, `strace`) and
//!   their children included;
//! - when the service's main process ends, whatever it left running ends too.
//!
//! Signals sent to the keeper (SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2) go to the
//! init, which sends them to every process of the namespace (`kill(-1, sig)`). The keeper
//! exits the way the service's main process did (same code, or the same signal), so panther
//! reports the service, not the helper. Neither helper keeps the service's stdout or stderr
//! open: output pipes reach end-of-file when the namespace is gone.
//!
//! Without the privilege to make a pid namespace (not root), the keeper becomes a child
//! subreaper instead: orphans of the service are re-parented to it, get its signals, and are
//! SIGKILLed when the main process ends. That fallback does not survive a SIGKILL of panther
//! (nothing can stop the kernel re-parenting them to the system's init then); the startup
//! sweep covers it.

use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStrExt;

use nix::libc;

/// The argument that makes the panther binary this helper.
pub const ARG: &str = "__panther-init";

/// The signals the keeper forwards.
const FORWARDED: [libc::c_int; 6] = [
    libc::SIGINT,
    libc::SIGTERM,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
];

/// The command line that runs `argv` under the helper found at `exe`.
pub fn wrap(exe: &std::path::Path, argv: &[String]) -> Vec<OsString> {
    let mut v: Vec<OsString> = vec![exe.into(), ARG.into(), "--".into()];
    v.extend(argv.iter().map(OsString::from));
    v
}

/// Entry point: `args` is the whole command line (`panther __panther-init -- PROG ARGS…`).
/// Never returns.
pub fn main(args: Vec<OsString>) -> ! {
    let mut rest: Vec<OsString> = args.into_iter().skip(2).collect();
    if rest.first().is_some_and(|a| a == "--") {
        rest.remove(0);
    }
    if rest.is_empty() {
        eprintln!("panther {ARG}: no program given");
        exit(2);
    }
    let argv: Vec<CString> = match rest
        .iter()
        .map(|a| CString::new(a.as_bytes()))
        .collect::<Result<_, _>>()
    {
        Ok(v) => v,
        Err(_) => {
            eprintln!("panther {ARG}: an argument holds a NUL byte");
            exit(2);
        }
    };
    // SAFETY: a freshly exec'd, single-threaded process; every call below is a plain system
    // call on values owned here.
    unsafe { keeper(&argv) }
}

fn exit(code: i32) -> ! {
    // SAFETY: _exit has no preconditions.
    unsafe { libc::_exit(code) }
}

/// The forwarded signals plus SIGCHLD, blocked, and a signalfd that reads them.
///
/// # Safety
/// Call only in the helper's own single-threaded process (the mask is per thread).
unsafe fn block_signals() -> (libc::sigset_t, libc::c_int) {
    // SAFETY: the set is a zeroed sigset_t owned here, initialised by sigemptyset before use;
    // sigprocmask and signalfd only read it.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in FORWARDED {
            libc::sigaddset(&mut set, s);
        }
        libc::sigaddset(&mut set, libc::SIGCHLD);
        libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        let fd = libc::signalfd(-1, &set, libc::SFD_CLOEXEC);
        (set, fd)
    }
}

/// The next signal from a signalfd (0 when the read fails other than by EINTR).
///
/// # Safety
/// `fd` is a signalfd (or any descriptor: a failed read returns 0).
unsafe fn next_signal(fd: libc::c_int) -> libc::c_int {
    // SAFETY: read writes at most size_of::<signalfd_siginfo>() bytes into `info`, a plain-data
    // struct owned here; errno is read right after the failing call on this thread.
    unsafe {
        let mut info: libc::signalfd_siginfo = std::mem::zeroed();
        loop {
            let n = libc::read(
                fd,
                (&mut info as *mut libc::signalfd_siginfo).cast(),
                std::mem::size_of::<libc::signalfd_siginfo>(),
            );
            if n == std::mem::size_of::<libc::signalfd_siginfo>() as isize {
                return info.ssi_signo as libc::c_int;
            }
            if n < 0 && *libc::__errno_location() == libc::EINTR {
                continue;
            }
            return 0;
        }
    }
}

/// Points stdin, stdout and stderr at /dev/null, so a helper holds none of the service's pipes.
///
/// # Safety
/// Call only in a helper process whose descriptors 0-2 nothing else in it uses.
unsafe fn detach_stdio() {
    // SAFETY: open takes a NUL-terminated literal; dup2 and close act on descriptors only.
    unsafe {
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC);
        if null >= 0 {
            for fd in 0..3 {
                libc::dup2(null, fd);
            }
            libc::close(null);
        }
    }
}

/// In a forked child: unblock the signals, exec the service; 127 if that fails.
///
/// # Safety
/// Call only in a freshly forked child of the single-threaded helper (no lock can be held).
unsafe fn exec_service(argv: &[CString], set: &libc::sigset_t) -> ! {
    // SAFETY: `ptrs` points into `argv`, whose CStrings outlive the call, and ends with the
    // null pointer execvp requires; the child is single-threaded, so the allocation and the
    // eprintln after a failed exec cannot meet a lock held by another thread.
    unsafe {
        libc::sigprocmask(libc::SIG_UNBLOCK, set, std::ptr::null_mut());
        let mut ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
        ptrs.push(std::ptr::null());
        libc::execvp(ptrs[0], ptrs.as_ptr());
        let err = std::io::Error::last_os_error();
        eprintln!(
            "panther {ARG}: cannot run {}: {err}",
            argv[0].to_string_lossy()
        );
        libc::_exit(127)
    }
}

/// Ends this process the way a wait status says its service ended.
///
/// # Safety
/// Call only at the end of a helper process (it kills the calling process).
unsafe fn mirror(status: libc::c_int) -> ! {
    // SAFETY: the W* macros read an int; setrlimit reads a struct owned here; resetting the
    // disposition to SIG_DFL installs no Rust handler; the one-signal set is initialised by
    // sigemptyset before use.
    unsafe {
        if libc::WIFEXITED(status) {
            libc::_exit(libc::WEXITSTATUS(status));
        }
        let sig = if libc::WIFSIGNALED(status) {
            libc::WTERMSIG(status)
        } else {
            libc::SIGKILL
        };
        // Die of the same signal, without a core dump of the helper.
        let no_core = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        libc::setrlimit(libc::RLIMIT_CORE, &no_core);
        libc::signal(sig, libc::SIG_DFL);
        let mut one: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut one);
        libc::sigaddset(&mut one, sig);
        libc::sigprocmask(libc::SIG_UNBLOCK, &one, std::ptr::null_mut());
        libc::kill(libc::getpid(), sig);
        libc::_exit(128 + sig)
    }
}

/// The process panther spawned: makes the pid namespace and its init, forwards signals to
/// it and ends the way the service did.
///
/// # Safety
/// Call only as the whole of a freshly exec'd, single-threaded helper process: it forks, and
/// between fork and exec a child may only rely on what this process holds.
unsafe fn keeper(argv: &[CString]) -> ! {
    // SAFETY: single-threaded, so fork copies no lock in a held state; the pipe arrays are
    // two ints each for pipe2 to fill; every descriptor closed is one this process opened;
    // `raw` is four bytes and the read asks for four.
    unsafe {
        let (set, sfd) = block_signals();
        if libc::unshare(libc::CLONE_NEWPID) != 0 {
            subreaper(argv, &set, sfd);
        }
        // status: the init tells the keeper how the service ended. life: its write end is the
        // keeper's; the init sees end-of-file on the read end if the keeper is gone.
        let mut status = [0; 2];
        let mut life = [0; 2];
        if libc::pipe2(status.as_mut_ptr(), libc::O_CLOEXEC) != 0
            || libc::pipe2(life.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) != 0
        {
            eprintln!("panther {ARG}: pipe: {}", std::io::Error::last_os_error());
            libc::_exit(126);
        }
        let init = libc::fork();
        if init < 0 {
            eprintln!("panther {ARG}: fork: {}", std::io::Error::last_os_error());
            libc::_exit(126);
        }
        if init == 0 {
            libc::close(status[0]);
            libc::close(life[1]);
            pid1(argv, &set, sfd, status[1], life[0]);
        }
        libc::close(status[1]);
        libc::close(life[0]);
        detach_stdio();
        loop {
            let sig = next_signal(sfd);
            if sig == libc::SIGCHLD || sig == 0 {
                let mut st = 0;
                let r = libc::waitpid(init, &mut st, libc::WNOHANG);
                if r == init || (r < 0 && sig == 0) {
                    let mut raw = [0u8; 4];
                    let n = libc::read(status[0], raw.as_mut_ptr().cast(), 4);
                    if n == 4 {
                        mirror(i32::from_ne_bytes(raw));
                    }
                    // The init died without word (killed): the service was killed too.
                    mirror(libc::SIGKILL);
                }
                if sig == 0 {
                    libc::_exit(126);
                }
            } else {
                libc::kill(init, sig);
            }
        }
    }
}

/// Pid 1 of the service's namespace.
///
/// # Safety
/// Call only in the forked init child of [`keeper`] (single-threaded), with the descriptors
/// it created.
unsafe fn pid1(
    argv: &[CString],
    set: &libc::sigset_t,
    sfd: libc::c_int,
    status_w: libc::c_int,
    life_r: libc::c_int,
) -> ! {
    // SAFETY: single-threaded (a forked child of a single-threaded process), so fork is sound;
    // the buffers handed to read and write are owned here and sized as asked; kill(-1) from
    // pid 1 of a pid namespace reaches only that namespace.
    unsafe {
        libc::prctl(
            libc::PR_SET_PDEATHSIG,
            libc::SIGKILL as libc::c_ulong,
            0,
            0,
            0,
        );
        // The keeper may have died before the line above: then the pipe is at end-of-file.
        let mut b = 0u8;
        if libc::read(life_r, (&mut b as *mut u8).cast(), 1) == 0 {
            libc::_exit(1);
        }
        let service = libc::fork();
        if service < 0 {
            libc::_exit(126);
        }
        if service == 0 {
            libc::close(status_w);
            libc::close(life_r);
            libc::close(sfd);
            exec_service(argv, set);
        }
        detach_stdio();
        loop {
            let sig = next_signal(sfd);
            if sig == libc::SIGCHLD || sig == 0 {
                // Reap everything: the service and any orphan re-parented here.
                loop {
                    let mut st = 0;
                    let r = libc::waitpid(-1, &mut st, libc::WNOHANG);
                    if r == service {
                        libc::write(status_w, st.to_ne_bytes().as_ptr().cast(), 4);
                        // Exiting kills every other process of the namespace.
                        libc::_exit(0);
                    }
                    if r <= 0 {
                        break;
                    }
                }
                if sig == 0 {
                    libc::_exit(126);
                }
            } else {
                // Every process of the namespace but this one.
                libc::kill(-1, sig);
            }
        }
    }
}

/// Without a pid namespace: the keeper adopts every orphan of the service, forwards signals
/// to all its descendants and kills what is left when the main process ends.
///
/// # Safety
/// Call only from [`keeper`] (single-threaded), with its blocked set and signalfd.
unsafe fn subreaper(argv: &[CString], set: &libc::sigset_t, sfd: libc::c_int) -> ! {
    // SAFETY: single-threaded, so fork is sound; waitpid writes to an int owned here; kill
    // targets only processes found below this one in /proc (its own descendants).
    unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        let service = libc::fork();
        if service < 0 {
            libc::_exit(126);
        }
        if service == 0 {
            libc::close(sfd);
            exec_service(argv, set);
        }
        detach_stdio();
        let me = libc::getpid() as u32;
        let mut main_status: Option<libc::c_int> = None;
        loop {
            if let Some(st) = main_status {
                for p in descendants(me) {
                    libc::kill(p as i32, libc::SIGKILL);
                }
                loop {
                    let mut x = 0;
                    if libc::waitpid(-1, &mut x, 0) < 0 {
                        break;
                    }
                }
                mirror(st);
            }
            let sig = next_signal(sfd);
            if sig == libc::SIGCHLD || sig == 0 {
                loop {
                    let mut st = 0;
                    let r = libc::waitpid(-1, &mut st, libc::WNOHANG);
                    if r == service {
                        main_status = Some(st);
                    }
                    if r <= 0 {
                        break;
                    }
                }
                if sig == 0 && main_status.is_none() {
                    main_status = Some(libc::SIGKILL);
                }
            } else {
                for p in descendants(me) {
                    libc::kill(p as i32, sig);
                }
            }
        }
    }
}

/// Every process whose chain of parents reaches `root` (from /proc).
pub fn descendants(root: u32) -> Vec<u32> {
    let mut parent = std::collections::HashMap::new();
    if let Ok(rd) = std::fs::read_dir("/proc") {
        for e in rd.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            if let Some(pp) = ppid(pid) {
                parent.insert(pid, pp);
            }
        }
    }
    let mut out = Vec::new();
    for &pid in parent.keys() {
        let mut p = pid;
        let mut hops = 0;
        while let Some(&pp) = parent.get(&p) {
            if pp == root {
                out.push(pid);
                break;
            }
            p = pp;
            hops += 1;
            if pp <= 1 || hops > 4096 {
                break;
            }
        }
    }
    out
}

/// Field 4 of `/proc/PID/stat`.
pub fn ppid(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// The helper to run services under, if there is one: the panther executable set by
/// [`set_exe`] (panther's `main` names itself; an embedder's orchestrator names
/// `Options::panther_exe`), else `$PANTHER_EXE`. Without one, services run in a process group
/// only (what dies with panther then is what PDEATHSIG and the group reach).
pub fn exe() -> Option<std::path::PathBuf> {
    if let Some(p) = EXE.get() {
        return Some(p.clone());
    }
    std::env::var_os("PANTHER_EXE").map(Into::into)
}

static EXE: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();

/// Names the panther executable that holds the helper (first call wins).
pub fn set_exe(p: std::path::PathBuf) {
    let _ = EXE.set(p);
}
