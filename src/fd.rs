//! The fd table and cooperative waits for readiness: a green thread that would block reading
//! or writing a pipe, FIFO or socket parks until the hub's epoll says the fd is ready.
//!
//! Policy (DESIGN.md facts 4–6):
//! - O_NONBLOCK is never set on the program's fds (it lives on the open file description, shared
//!   with other processes). Sockets are tried with MSG_DONTWAIT, pipes with `preadv2`/`pwritev2`
//!   and RWF_NOWAIT (the same per-call "do not wait", which Linux takes on anonymous pipes).
//!   FIFOs and the other pipe-like fds that refuse it are polled with a zero timeout first and
//!   read/written only when ready, in chunks of at most PIPE_BUF for writes, so the call cannot
//!   block (a FIFO shared with another process's reader that drains it between the poll and the
//!   read can still block: documented). Green threads of this process take turns on each
//!   direction of a pipe: src/turn.rs.
//! - An fd the program made non-blocking itself, a regular file or anything epoll refuses takes
//!   the real call unchanged; a terminal too, except a read that waits for input (`Kind::Tty`).
//! - An fd is registered with epoll once (edge-triggered, both directions) and stays registered
//!   until close/dup2/dup3 replaces it; the kind of each fd is cached and forgotten on those calls
//!   and on fcntl(F_SETFL)/ioctl(FIONBIO)/setsockopt(SO_RCVTIMEO/SO_SNDTIMEO).
//! - SO_RCVTIMEO/SO_SNDTIMEO are honoured: a socket call that has to wait gives up with EAGAIN
//!   at the socket's timeout, as the kernel does (no timeouts are invented).
//!
//! No lost wake-ups (any number of carriers). A wait is: `arm` (snapshot), try (the call with
//! MSG_DONTWAIT, a zero-timeout poll, a drained check), then `wait` if the try said "not yet".
//! `ready` bumps a per-direction edge count in the fd's slot, then unparks under the park bucket
//! lock; `wait` parks only if, under that same lock, the count still equals the snapshot. An
//! edge that follows the failed try is either seen by that check (no park: the caller tries
//! again) or its unpark takes the bucket lock after the node is linked (and wakes it): if its
//! unpark came first, its bump happened-before our check, which would have seen it. Counts, not
//! bits, so another waiter on the same fd cannot consume our edge. `ready` unparks only a
//! direction whose WAITERS bit is set (a parker sets it in that same locked check, so an edge
//! that misses the bit is seen by the check instead: `park_io`). With one carrier nobody runs
//! `ready` between our try and park (the hub polls epoll only while no green thread runs), so
//! `arm` costs one relaxed load of `hub::multi()` and snapshots nothing; an unarmed wait that
//! finds `multi()` true under the lock (a hand-off began meanwhile) refuses to park and the
//! caller tries once more. `ready` bumps whatever `multi()` says: no syscall is added either way.
//!
//! The usual waiter, alone on its direction and without a deadline, parks in its fd's own word
//! instead (`Entry::parked`, park.rs `park_in_word`): it publishes itself there with a locked
//! exchange and then runs the same check; `ready` reads the word after its bump (also locked).
//! Each side's locked instruction orders its write before its read, so either the check sees
//! the edge or `ready` sees the waiter, as with the lock.

use core::sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize, Ordering};

use crate::park;
use crate::turn::{self, Turn};
use crate::sys;
use crate::task::ParkReason;

/// What the table knows of an fd.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Use the real call unchanged (user-non-blocking, unpollable, other character devices).
    Pass,
    /// Pipe or FIFO (also eventfd, timerfd, signalfd, inotify): the call with RWF_NOWAIT where
    /// the kernel takes it (anonymous pipes), else poll, then the real call.
    Pipe,
    /// Socket: the call with MSG_DONTWAIT.
    Socket,
    /// Regular file: page cache first, the offload pool when the call would wait for the
    /// device (src/file.rs).
    File,
    /// Terminal: a read that waits for input ([`tty_read_waits`]) polls, then makes the real
    /// call; every other call is the real one (a write waits only for flow control).
    Tty,
}

const UNKNOWN: u64 = 0;
const PASS: u64 = 1;
const PIPE: u64 = 2;
const SOCKET: u64 = 3;
const FILE: u64 = 4;
const TTY: u64 = 5;
const KIND_MASK: u64 = 7;
const REGISTERED: u64 = 8;
/// A socket with SO_RCVTIMEO or SO_SNDTIMEO set: its waits end with EAGAIN at the timeout.
const TIMEOUT: u64 = 16;
/// A regular file opened O_DIRECT, O_SYNC or O_DSYNC: every read/write waits for the device.
const FILE_DEVICE: u64 = 32;
/// The kernel refuses RWF_NOWAIT on this fd: a regular file's filesystem (procfs, some FUSE…:
/// read directly), or a pipe-like fd that is a FIFO, a timerfd… (polled before each call).
const NO_NOWAIT: u64 = 64;
/// A SOCK_STREAM socket: a short read means its receive queue was empty (see READ_DRAINED).
const STREAM: u64 = 0x80;
/// The hub saw a read-side epoll edge since the last receive began.
const READ_EDGE: u64 = 0x100;
/// A receive on this registered stream socket came back short with no edge since it began: the
/// queue was empty then, and any byte arriving later brings a new edge (edge-triggered epoll
/// reports every arrival). Until that edge, a receive parks at once instead of trying a call
/// that would fail with EAGAIN — the try-then-park pattern's third syscall per request.
const READ_DRAINED: u64 = 0x200;
/// A timerfd, signalfd or inotify fd (reads wait for an event, writes fail at once: EINVAL), or
/// a pipe or terminal opened read-only (writes fail at once: EBADF; its end never polls
/// writable, so a wait would never end): writes take the real call.
const WRITE_PASS: u64 = 0x400;
/// The hub saw EPOLLRDHUP, EPOLLHUP or EPOLLERR on this socket: the peer's FIN or an error may
/// be queued behind the data, which a later receive returns (0, ECONNRESET…) with no new edge,
/// so a short read no longer means the next one would wait; READ_DRAINED is never set again.
/// Sticky until the fd is forgotten (no data can follow a FIN; an error is reported once, then
/// EOF or more errors, all without waiting).
const READ_HUP: u64 = 0x800;
/// A green thread holds the read or write turn of this fd (src/turn.rs).
const READ_BUSY: u64 = 0x1000;
const WRITE_BUSY: u64 = 0x2000;
/// Green threads may be parked on this direction (set under the direction's park bucket lock by
/// a parker, cleared under it by a wake-up that finds nobody): `ready` skips the unpark (a
/// bucket lock and a cache line of the park table) for a direction nobody waits on, such as the
/// write side of a socket whose sends never wait. Kept while the direction is in use, so a
/// thread that parks on every read pays no read-modify-write for it.
const READ_WAITERS: u64 = 0x4000;
const WRITE_WAITERS: u64 = 0x8000;
/// Everything above the flags: per-direction counts of readiness edges (see the module doc),
/// kept across `forget` (a waiter's snapshot must never see an older count come back).
const READ_SEQ_SHIFT: u32 = 16;
const WRITE_SEQ_SHIFT: u32 = 39;
const SEQ_BITS: u32 = 23;
const SEQ_MASK: u64 = ((1 << (2 * SEQ_BITS)) - 1) << READ_SEQ_SHIFT;
/// A pipe or terminal opened write-only: reads fail at once (EBADF), and its end never polls
/// readable, so a wait would never end: reads take the real call.
const READ_PASS: u64 = 1 << 62;
/// What survives `forget` and a refused registration: the edge counts and the turns held.
const KEEP: u64 = SEQ_MASK | READ_BUSY | WRITE_BUSY | READ_WAITERS | WRITE_WAITERS;

const CHUNK: usize = 4096;
const CHUNKS: usize = 1024; // 4M fds
static TABLE: [AtomicPtr<Entry>; CHUNKS] = [const { AtomicPtr::new(core::ptr::null_mut()) }; CHUNKS];

/// An fd's record: its state word (the "slot" every function here takes) and, per direction,
/// the green thread parked on it in a word of its own (park.rs `park_in_word`: the usual single
/// waiter, woken without the park table), in one half of a cache line.
#[repr(C, align(32))]
struct Entry {
    state: AtomicU64,
    parked: [AtomicUsize; 2],
}

const _: () = assert!(core::mem::offset_of!(Entry, state) == 0, "a slot's address is its entry's");

impl Entry {
    fn new() -> Entry {
        Entry { state: AtomicU64::new(UNKNOWN), parked: [AtomicUsize::new(0), AtomicUsize::new(0)] }
    }
}

/// The word naming the green thread parked on `dir` of the fd whose slot is `s`.
fn parked_word(s: &'static AtomicU64, dir: Dir) -> &'static AtomicUsize {
    // SAFETY: every slot is the first field of an Entry (repr(C)) in a leaked chunk.
    unsafe { &(*(s as *const AtomicU64 as *const Entry)).parked[dir as usize] }
}

/// Threads that are not green parked on fd readiness (green ones are counted per carrier:
/// `io_waiting`).
static OS_IO_WAITERS: AtomicUsize = AtomicUsize::new(0);

/// Whether any thread waits for an fd in the hub's epoll (the deadlock check must not fire
/// while one does, and a peek in epoll is news only to one). A racy snapshot off carrier 0.
pub fn io_waiting() -> bool {
    let mut green = 0isize;
    crate::carrier::for_each(|c| green += c.io_waiters.load(Ordering::Relaxed));
    green > 0 || OS_IO_WAITERS.load(Ordering::Relaxed) > 0
}

/// Counts the calling thread as waiting on fd readiness while it lives (cancellation's unwind
/// included): a green thread on the carrier it parks on and, once resumed, off the one it runs
/// on then (each carrier's count is its own OS thread's: no locked instruction); any other
/// thread in a shared count.
struct IoWaiting(Option<&'static crate::task::Task>);

impl IoWaiting {
    #[inline(always)]
    fn begin() -> IoWaiting {
        match crate::hub::current() {
            Some(t) => {
                crate::hub::count_io_waiter(t, 1);
                IoWaiting(Some(t))
            }
            None => {
                OS_IO_WAITERS.fetch_add(1, Ordering::Relaxed);
                IoWaiting(None)
            }
        }
    }
}

impl Drop for IoWaiting {
    #[inline(always)]
    fn drop(&mut self) {
        match self.0 {
            Some(t) => crate::hub::count_io_waiter(t, -1),
            None => {
                OS_IO_WAITERS.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }
}
/// Marks epoll tokens of fds (token 0 is the hub's eventfd).
pub const TOKEN_FD: u64 = 1 << 32;

/// The entry of `fd` if its chunk exists; never allocates (close() and fcntl() may be called
/// from signal handlers, where malloc is not allowed).
fn existing_slot(fd: i32) -> Option<&'static AtomicU64> {
    if fd < 0 || fd as usize >= CHUNK * CHUNKS {
        return None;
    }
    let p = TABLE[fd as usize / CHUNK].load(Ordering::Acquire);
    // SAFETY: chunks are CHUNK-long leaked arrays, never freed.
    (!p.is_null()).then(|| unsafe { &(*p.add(fd as usize % CHUNK)).state })
}

/// The entry of `fd`, allocating its chunk on first use (green threads only).
#[inline]
fn slot(fd: i32) -> Option<&'static AtomicU64> {
    if fd < 0 || fd as usize >= CHUNK * CHUNKS {
        return None;
    }
    let (c, i) = (fd as usize / CHUNK, fd as usize % CHUNK);
    let mut p = TABLE[c].load(Ordering::Acquire);
    if p.is_null() {
        p = new_chunk(c);
    }
    // SAFETY: chunks are CHUNK-long leaked arrays, never freed.
    Some(unsafe { &(*p.add(i)).state })
}

/// Installs chunk `c` of the table (once per 4096 fds), returning the one installed.
#[cold]
#[inline(never)]
fn new_chunk(c: usize) -> *mut Entry {
    let fresh = Box::leak((0..CHUNK).map(|_| Entry::new()).collect::<Box<[Entry]>>()).as_mut_ptr();
    match TABLE[c].compare_exchange(core::ptr::null_mut(), fresh, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => fresh,
        // Another thread installed the chunk first; ours stays unused (a one-time 128 KiB).
        Err(existing) => existing,
    }
}

/// The kind of `fd`, classified on first use (fstat + F_GETFL, raw syscalls). Inlined into
/// every I/O hook: once classified it is a table load and a compare.
#[inline(always)]
pub fn kind(fd: i32) -> Kind {
    let Some(s) = slot(fd) else { return Kind::Pass };
    let mut v = s.load(Ordering::Acquire);
    if v & KIND_MASK == UNKNOWN {
        // An OR keeps the edge counts (and REGISTERED) a concurrent `ready`/`wait` may set.
        let c = classify(fd);
        v = s.fetch_or(c, Ordering::AcqRel) | c;
    }
    match v & KIND_MASK {
        PIPE => Kind::Pipe,
        SOCKET => Kind::Socket,
        FILE => Kind::File,
        TTY => Kind::Tty,
        _ => Kind::Pass,
    }
}

/// Whether `fd` is already known to be a socket (no classification, no allocation): the test
/// of the socket hooks' first branch, which must hold nothing across its call (see
/// preload/src/hooks/io.rs `read`).
#[inline(always)]
pub fn known_socket(fd: i32) -> bool {
    existing_slot(fd).is_some_and(|s| s.load(Ordering::Acquire) & KIND_MASK == SOCKET)
}

/// For a `Kind::File` fd: (every call waits for the device, RWF_NOWAIT is refused).
pub fn file_flags(fd: i32) -> (bool, bool) {
    let v = existing_slot(fd).map_or(0, |s| s.load(Ordering::Acquire));
    (v & FILE_DEVICE != 0, v & NO_NOWAIT != 0)
}

/// Remembers that the kernel refuses RWF_NOWAIT on `fd`.
pub fn set_no_nowait(fd: i32) {
    if let Some(s) = existing_slot(fd) {
        s.fetch_or(NO_NOWAIT, Ordering::AcqRel);
    }
}

#[cold]
#[inline(never)]
fn classify(fd: i32) -> u64 {
    // SAFETY: st is a live out-buffer of the right size.
    let mut st: libc::stat = unsafe { core::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { sys::syscall3(libc::SYS_fstat, fd as usize, &mut st as *mut libc::stat as usize, 0) } < 0 {
        return PASS;
    }
    let k = match st.st_mode & libc::S_IFMT {
        libc::S_IFIFO => PIPE,
        libc::S_IFSOCK => SOCKET,
        libc::S_IFREG => FILE,
        libc::S_IFCHR if termios(fd).is_some() => TTY,
        0 => match anon_inode(fd) {
            Anon::Eventfd => PIPE,
            Anon::ReadOnly => PIPE | WRITE_PASS,
            Anon::Other => return PASS,
        },
        _ => return PASS,
    };
    // SAFETY: F_GETFL takes no argument.
    let fl = unsafe { sys::syscall3(libc::SYS_fcntl, fd as usize, libc::F_GETFL as usize, 0) };
    if k == FILE {
        // O_NONBLOCK means nothing to a regular file: it waits for the disk either way.
        let device = fl >= 0 && fl as i32 & (libc::O_DIRECT | libc::O_DSYNC) != 0;
        return if device { FILE | FILE_DEVICE } else { FILE };
    }
    if fl < 0 || fl as i32 & libc::O_NONBLOCK != 0 {
        return PASS;
    }
    if k != SOCKET {
        return match fl as i32 & libc::O_ACCMODE {
            libc::O_RDONLY => k | WRITE_PASS,
            libc::O_WRONLY => k | READ_PASS,
            _ => k,
        };
    }
    let mut v = k;
    if sock_int(fd, libc::SO_TYPE) == libc::SOCK_STREAM {
        v |= STREAM;
    }
    if sock_timeout(fd, libc::SO_RCVTIMEO) != 0 || sock_timeout(fd, libc::SO_SNDTIMEO) != 0 {
        v |= TIMEOUT;
    }
    v
}

/// The terminal settings of `fd` (None: not a terminal).
fn termios(fd: i32) -> Option<libc::termios> {
    // SAFETY: termios is plain data; TCGETS fills it or fails.
    let mut t: libc::termios = unsafe { core::mem::zeroed() };
    // SAFETY: as above.
    let r = unsafe { sys::syscall3(libc::SYS_ioctl, fd as usize, libc::TCGETS as usize, &mut t as *mut libc::termios as usize) };
    (r == 0).then_some(t)
}

/// Whether a blocking read of terminal `fd` waits only for input that epoll reports, so a green
/// thread may park until the terminal polls readable and then read without blocking: canonical
/// mode (a whole line), or VMIN > 0 (VMIN bytes; with VTIME too, one byte and then at most VTIME
/// per byte). Not when VMIN = 0 (the read's own timer decides: the real call, which waits at most
/// VTIME), nor for a background job of that terminal (the kernel answers its read at once with
/// SIGTTIN or EIO, which only the real call gives). Asked at every read: termios and the
/// foreground group change under the program's feet.
pub fn tty_read_waits(fd: i32) -> bool {
    let Some(t) = termios(fd) else { return false };
    if t.c_lflag & libc::ICANON == 0 && t.c_cc[libc::VMIN] == 0 {
        return false;
    }
    let mut fg: libc::pid_t = 0;
    // SAFETY: TIOCGPGRP writes one pid_t; ENOTTY when `fd` is not our controlling terminal (no
    // job control applies then).
    let r = unsafe { sys::syscall3(libc::SYS_ioctl, fd as usize, libc::TIOCGPGRP as usize, &mut fg as *mut libc::pid_t as usize) };
    // SAFETY: getpgrp has no arguments.
    r != 0 || fg == unsafe { sys::syscall3(libc::SYS_getpgrp, 0, 0, 0) } as libc::pid_t
}

/// An int-valued SOL_SOCKET option, or the raw error (-errno).
fn sockopt_int(fd: i32, opt: i32) -> Result<i32, isize> {
    let mut v: i32 = -1;
    let mut len = core::mem::size_of::<i32>() as libc::socklen_t;
    // SAFETY: live out-buffers of the right sizes.
    let r = unsafe { sys::syscall6(libc::SYS_getsockopt, fd as usize, libc::SOL_SOCKET as usize, opt as usize, &mut v as *mut i32 as usize, &mut len as *mut libc::socklen_t as usize, 0) };
    if r < 0 { Err(r) } else { Ok(v) }
}

/// An int-valued SOL_SOCKET option (-1 when it cannot be read).
fn sock_int(fd: i32, opt: i32) -> i32 {
    sockopt_int(fd, opt).unwrap_or(-1)
}

enum Anon {
    Eventfd,
    ReadOnly,
    Other,
}

/// Which anonymous inode (no file type in st_mode) `fd` is, from its /proc/self/fd link. An
/// eventfd, timerfd, signalfd or inotify read waits for an event and polls readable when one is
/// there, so the pipe path (poll, then the call) serves them; of those only an eventfd can be
/// written. Others (epoll, pidfd, io_uring…) fail a read rather than wait: the real call.
fn anon_inode(fd: i32) -> Anon {
    let mut path = *b"/proc/self/fd/\0\0\0\0\0\0\0\0\0\0\0\0";
    let mut digits = [0u8; 10];
    let (mut v, mut n) = (fd as u32, 0);
    loop {
        digits[n] = b'0' + (v % 10) as u8;
        n += 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for i in 0..n {
        path[14 + i] = digits[n - 1 - i];
    }
    let mut link = [0u8; 32];
    // SAFETY: a NUL-terminated path and a live buffer of the given length.
    let len = unsafe {
        sys::syscall6(libc::SYS_readlinkat, libc::AT_FDCWD as usize, path.as_ptr() as usize, link.as_mut_ptr() as usize, link.len(), 0, 0)
    };
    match &link[..len.max(0) as usize] {
        b"anon_inode:[eventfd]" => Anon::Eventfd,
        b"anon_inode:[timerfd]" | b"anon_inode:[signalfd]" | b"anon_inode:inotify" => Anon::ReadOnly,
        _ => Anon::Other,
    }
}

/// Whether calls on `fd` in direction `dir` take the real call without a wait (WRITE_PASS,
/// READ_PASS): the kernel answers them at once.
fn passes(fd: i32, dir: Dir) -> bool {
    let bit = if dir == Dir::Read { READ_PASS } else { WRITE_PASS };
    existing_slot(fd).is_some_and(|s| s.load(Ordering::Acquire) & bit != 0)
}

/// A socket's SO_RCVTIMEO/SO_SNDTIMEO in ns (0: none).
fn sock_timeout(fd: i32, opt: i32) -> u64 {
    let mut tv = libc::timeval { tv_sec: 0, tv_usec: 0 };
    let mut len = core::mem::size_of::<libc::timeval>() as libc::socklen_t;
    // SAFETY: live out-buffers of the right sizes.
    let r = unsafe {
        sys::syscall6(libc::SYS_getsockopt, fd as usize, libc::SOL_SOCKET as usize, opt as usize, &mut tv as *mut libc::timeval as usize, &mut len as *mut libc::socklen_t as usize, 0)
    };
    if r < 0 || tv.tv_sec < 0 {
        return 0;
    }
    tv.tv_sec as u64 * 1_000_000_000 + tv.tv_usec as u64 * 1000
}

/// When a blocking socket call that started now must give up with EAGAIN (SO_RCVTIMEO for
/// reads, SO_SNDTIMEO for writes), if the program set one.
pub fn timeout_deadline(fd: i32, dir: Dir) -> Option<u64> {
    timeout_deadline_at(existing_slot(fd)?, fd, dir)
}

/// [`timeout_deadline`] with `fd`'s slot in hand.
fn timeout_deadline_at(s: &AtomicU64, fd: i32, dir: Dir) -> Option<u64> {
    if s.load(Ordering::Acquire) & TIMEOUT == 0 {
        return None;
    }
    let t = sock_timeout(fd, if dir == Dir::Read { libc::SO_RCVTIMEO } else { libc::SO_SNDTIMEO });
    (t != 0).then(|| sys::now_ns() + t)
}

/// Forgets what is known of `fd` (it is being closed or replaced, or its flags change); a
/// registered fd leaves the epoll set.
///
/// Not in a vfork child (CPython's subprocess closes every fd there before its exec): it
/// shares this table's memory and the hub's epoll instance with the parent but has an fd table
/// of its own, so forgetting its fds would forget the parent's, and the EPOLL_CTL_DEL would
/// take the parent's registration of the same file (a parent's waitpid on a pidfd never ended).
/// Telling costs a getpid syscall, paid only when the table knows something of the fd (one a
/// green thread has used), not for every close.
pub fn forget(fd: i32) {
    let Some(s) = existing_slot(fd) else { return };
    if s.load(Ordering::Relaxed) & !KEEP == 0 || crate::hub::in_vfork_child() {
        return;
    }
    forget_slot(fd, s);
}

fn forget_slot(fd: i32, s: &AtomicU64) {
    let old = s.fetch_and(KEEP, Ordering::AcqRel);
    if old & REGISTERED != 0 && crate::hub::started() {
        crate::hub::epoll_ctl(libc::EPOLL_CTL_DEL, fd, 0);
    }
}

/// [`forget`] for every fd from `first` to `last` (closefrom, close_range).
pub fn forget_range(first: u32, last: u32) {
    if crate::hub::in_vfork_child() {
        return;
    }
    for (c, chunk) in TABLE.iter().enumerate() {
        let lo = (c * CHUNK) as u64;
        let (from, to) = (lo.max(first as u64), (lo + CHUNK as u64 - 1).min(last as u64));
        let p = chunk.load(Ordering::Acquire);
        if from <= to && !p.is_null() {
            for fd in from..=to {
                // SAFETY: chunks are CHUNK-long leaked arrays, never freed.
                let s = unsafe { &(*p.add(fd as usize % CHUNK)).state };
                if s.load(Ordering::Relaxed) & !KEEP != 0 {
                    forget_slot(fd as i32, s);
                }
            }
        }
    }
}

/// Forgets every fd (fork child: the new epoll instance has none registered) and every waiter
/// (they were the parent's other threads: counted here, the child's hub peeked in epoll for them
/// and never reported a deadlock).
pub fn forget_all_after_fork() {
    OS_IO_WAITERS.store(0, Ordering::Relaxed);
    crate::carrier::for_each(|c| c.io_waiters.store(0, Ordering::Relaxed));
    for c in TABLE.iter() {
        let p = c.load(Ordering::Acquire);
        if !p.is_null() {
            for i in 0..CHUNK {
                // SAFETY: chunks are CHUNK-long leaked arrays.
                let e = unsafe { &*p.add(i) };
                e.state.store(UNKNOWN, Ordering::Relaxed);
                e.parked.iter().for_each(|w| w.store(0, Ordering::Relaxed));
            }
        }
    }
}

/// Direction of a wait.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Read = 0,
    Write = 1,
}

/// Park key of (fd, direction): a non-canonical address, never a real object's.
pub fn key(fd: i32, dir: Dir) -> usize {
    0xF000_0000_0000_0000 | ((fd as u32 as usize) << 1) | dir as usize
}

/// A snapshot of one direction's edge count, taken by [`arm`] before the try that may fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Armed(u32);

impl Armed {
    /// Taken with one carrier: nothing to compare (see the module doc).
    pub const UNARMED: Armed = Armed(u32::MAX);

    /// The snapshot of `dir` in slot value `v`.
    fn of(v: u64, dir: Dir) -> Armed {
        Armed(seq(v, dir))
    }

    /// The park-time check (run under the park bucket lock): no edge for `dir` since the
    /// snapshot, in slot value `v`. An unarmed wait may park only while one carrier runs.
    fn may_park(self, v: u64, dir: Dir, multi: bool) -> bool {
        if self == Armed::UNARMED {
            !multi
        } else {
            seq(v, dir) == self.0
        }
    }
}

fn seq(v: u64, dir: Dir) -> u32 {
    let shift = if dir == Dir::Read { READ_SEQ_SHIFT } else { WRITE_SEQ_SHIFT };
    ((v >> shift) & ((1 << SEQ_BITS) - 1)) as u32
}

/// `v` with `dir`'s edge count advanced by one (wrapping inside its field).
fn bump_seq(v: u64, dir: Dir) -> u64 {
    let shift = if dir == Dir::Read { READ_SEQ_SHIFT } else { WRITE_SEQ_SHIFT };
    let field = ((1u64 << SEQ_BITS) - 1) << shift;
    (v & !field) | (v.wrapping_add(1 << shift) & field)
}

/// The slot value after an epoll edge: counts bumped for the directions it wakes, and the
/// read side's drained tracking updated (READ_EDGE, READ_HUP, READ_DRAINED).
fn note_edge(mut v: u64, read: bool, write: bool, hup: bool) -> u64 {
    if read {
        v = bump_seq((v | READ_EDGE | if hup { READ_HUP } else { 0 }) & !READ_DRAINED, Dir::Read);
    }
    if write {
        v = bump_seq(v, Dir::Write);
    }
    v
}

/// Call before each try whose failure leads to [`wait`]/[`wait_until`] on (`fd`, `dir`).
#[inline]
pub fn arm(fd: i32, dir: Dir) -> Armed {
    if !crate::hub::multi() {
        return Armed::UNARMED;
    }
    slot(fd).map_or(Armed::UNARMED, |s| Armed::of(s.load(Ordering::Acquire), dir))
}

/// Parks the calling green thread until `fd` may be ready for `dir`, unless an edge came since
/// `armed` was taken (then it returns at once: the caller tries again). Returns false when the
/// fd cannot be waited for in epoll (the caller then makes the real, blocking call).
pub fn wait(fd: i32, dir: Dir, armed: Armed) -> bool {
    wait_until(fd, dir, armed, None)
}

/// As [`wait`], giving up at `deadline` (CLOCK_MONOTONIC ns).
#[inline(always)]
pub fn wait_until(fd: i32, dir: Dir, armed: Armed, deadline: Option<u64>) -> bool {
    let Some(s) = slot(fd) else { return false };
    wait_until_at(s, fd, dir, armed, deadline)
}

/// [`wait_until`] with `fd`'s slot in hand.
#[inline(always)]
fn wait_until_at(s: &'static AtomicU64, fd: i32, dir: Dir, armed: Armed, deadline: Option<u64>) -> bool {
    if s.load(Ordering::Acquire) & REGISTERED == 0 {
        // Edge-triggered epoll reports an fd that is ready when it is added: an edge between
        // the try and this registration is not lost either.
        let ev = (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLET) as u32;
        let r = crate::hub::epoll_ctl(libc::EPOLL_CTL_ADD, fd, ev);
        if r < 0 && r != -(libc::EEXIST as isize) {
            let _ = s.fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| Some((v & KEEP) | PASS));
            return false;
        }
        s.fetch_or(REGISTERED, Ordering::AcqRel);
    }
    let _waiting = IoWaiting::begin();
    park_io(s, fd, dir, armed, deadline);
    true
}

fn waiters_bit(dir: Dir) -> u64 {
    if dir == Dir::Read { READ_WAITERS } else { WRITE_WAITERS }
}

/// Parks on (`fd`, `dir`) unless an edge came since `armed`: in the fd's own word when it is
/// free and the wait has no deadline (the module doc says why no edge is lost there), else in
/// the park table.
#[inline(always)]
fn park_io(s: &'static AtomicU64, fd: i32, dir: Dir, armed: Armed, deadline: Option<u64>) -> park::ParkResult {
    if deadline.is_none() {
        let validate = || armed.may_park(s.load(Ordering::Acquire), dir, crate::hub::multi());
        if let Some(r) = park::park_in_word(parked_word(s, dir), key(fd, dir), validate, ParkReason::Io) {
            return r;
        }
    }
    park_io_keyed(s, fd, dir, armed, deadline)
}

/// [`park_io`] in the park table, announcing the waiter first. No wake-up is lost by `ready`
/// skipping directions without the bit: the bit is set under the bucket lock and both it and
/// `ready`'s edge are read-modify-writes of the one slot word, so either `ready` finds the bit
/// (and its unpark, under the same lock, finds us linked or our check saw its edge), or its
/// edge came first and the check below sees it. Out of line: the usual wait parks in the word,
/// and this path's locals would otherwise widen every socket call's frame (a parked thread's
/// stack lines are touched again at resume).
#[cold]
#[inline(never)]
fn park_io_keyed(s: &'static AtomicU64, fd: i32, dir: Dir, armed: Armed, deadline: Option<u64>) -> park::ParkResult {
    let bit = waiters_bit(dir);
    let validate = || {
        let mut v = s.load(Ordering::Acquire);
        if v & bit == 0 {
            // Only a wake-up holding this bucket's lock clears it: a set bit stays set here.
            v = s.fetch_or(bit, Ordering::AcqRel) | bit;
        }
        armed.may_park(v, dir, crate::hub::multi())
    };
    park::park(key(fd, dir), !0, validate, deadline, ParkReason::Io)
}

/// Wakes every thread parked on (`fd`, `dir`); a wake-up that finds none clears the direction's
/// WAITERS bit under the bucket lock.
fn wake_waiters(s: &AtomicU64, fd: i32, dir: Dir) {
    let bit = waiters_bit(dir);
    park::unpark(key(fd, dir), usize::MAX, !0, |woken, left| {
        if woken == 0 && !left() {
            s.fetch_and(!bit, Ordering::AcqRel);
        }
    });
}

/// Unless `fd` polls ready for `dir` now, parks until it may be: true when it parked (or was
/// told to try again), false when it polls ready or epoll refuses it (make the call then).
pub fn wait_unless_ready(fd: i32, dir: Dir) -> bool {
    let armed = arm(fd, dir);
    !poll_now(fd, dir) && wait(fd, dir, armed)
}

/// The hub got epoll `events` for the fd behind `token`: record the edge, then wake the
/// threads waiting on it (in that order: see the module doc).
pub fn ready(token: u64, events: u32) {
    let fd = (token & 0xffff_ffff) as i32;
    let e = events as i32;
    let read = e & (libc::EPOLLIN | libc::EPOLLHUP | libc::EPOLLERR | libc::EPOLLRDHUP) != 0;
    let write = e & (libc::EPOLLOUT | libc::EPOLLHUP | libc::EPOLLERR) != 0;
    // No slot: nobody ever waited on this fd (waits make one).
    let Some(s) = existing_slot(fd) else { return };
    // One RMW: a receiver deciding "drained" races with this only through its CAS.
    let hup = e & (libc::EPOLLRDHUP | libc::EPOLLHUP | libc::EPOLLERR) != 0;
    let prev = match s.fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| Some(note_edge(v, read, write, hup))) {
        Ok(v) | Err(v) => v,
    };
    if read {
        park::unpark_word(parked_word(s, Dir::Read));
        if prev & READ_WAITERS != 0 {
            wake_waiters(s, fd, Dir::Read);
        }
    }
    if write {
        park::unpark_word(parked_word(s, Dir::Write));
        if prev & WRITE_WAITERS != 0 {
            wake_waiters(s, fd, Dir::Write);
        }
    }
}

/// Whether `fd` is ready for `dir` now (poll with a zero timeout; errors count as ready so the
/// real call reports them).
pub fn poll_now(fd: i32, dir: Dir) -> bool {
    let mut p = libc::pollfd { fd, events: if dir == Dir::Read { libc::POLLIN } else { libc::POLLOUT }, revents: 0 };
    let ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: one live pollfd, a live zero timespec, no sigmask.
    let r = unsafe { sys::syscall6(libc::SYS_ppoll, &mut p as *mut libc::pollfd as usize, 1, &ts as *const libc::timespec as usize, 0, 8, 0) };
    r != 0
}

/// The word, busy bit and park key of (`fd`, `dir`)'s turn (src/turn.rs).
pub(crate) fn turn_word(fd: i32, dir: Dir) -> Option<(&'static AtomicU64, u64, usize)> {
    let bit = if dir == Dir::Read { READ_BUSY } else { WRITE_BUSY };
    // [`key`] with a bit no readiness key has.
    slot(fd).map(|s| (s, bit, key(fd, dir) | 1 << 59))
}

/// One step of "wait until `fd` polls ready for `dir`, then make the call".
enum Step {
    /// It polls ready: make the call, holding the turn.
    Ready(Turn),
    /// Epoll refuses the fd: make the blocking call, holding the turn.
    Refused(Turn),
    /// The thread parked (or was told to try again): check for signals, then step again.
    Parked,
}

fn ready_or_park(fd: i32, dir: Dir, deadline: Option<u64>) -> Step {
    let t = turn::take(fd, dir);
    let armed = arm(fd, dir);
    if poll_now(fd, dir) || passes(fd, dir) {
        return Step::Ready(t);
    }
    drop(t);
    if wait_until(fd, dir, armed, deadline) {
        Step::Parked
    } else {
        Step::Refused(turn::take(fd, dir))
    }
}

/// Parks until `fd` polls ready for `dir` (or epoll refuses it): the wait before a call that is
/// then made the blocking way (read/readv/writev on pipes), to be made while the turn is held.
/// Err(-EINTR) when a handler without SA_RESTART ran meanwhile, as a blocking pipe call fails.
pub fn wait_ready(fd: i32, dir: Dir) -> Result<Turn, isize> {
    wait_ready_until(fd, dir, None)
}

/// As [`wait_ready`], giving up with Err(-EAGAIN) at `deadline` (a socket's SO_RCVTIMEO or
/// SO_SNDTIMEO, [`timeout_deadline`]); such a wait is never restarted by SA_RESTART (signal(7)).
pub fn wait_ready_until(fd: i32, dir: Dir, deadline: Option<u64>) -> Result<Turn, isize> {
    loop {
        match ready_or_park(fd, dir, deadline) {
            Step::Ready(t) | Step::Refused(t) => return Ok(t),
            Step::Parked if crate::signal::interrupted(deadline.is_none()) => return Err(EINTR),
            Step::Parked if deadline.is_some_and(|d| sys::now_ns() >= d) => return Err(-(libc::EAGAIN as isize)),
            Step::Parked => {}
        }
    }
}

/// Largest pipe write that cannot block once the pipe polls writable (and stays atomic).
pub const PIPE_CHUNK: usize = libc::PIPE_BUF;

/// Reads from a pipe/FIFO (`Kind::Pipe`) without blocking the hub. Raw result (-errno).
pub fn read_pipe(fd: i32, buf: *mut u8, len: usize) -> isize {
    if len == 0 {
        // SAFETY: a zero-length read of the caller's fd.
        return unsafe { sys::syscall3(libc::SYS_read, fd as usize, buf as usize, 0) };
    }
    readv_pipe(fd, &libc::iovec { iov_base: buf.cast(), iov_len: len }, 1, 0)
}

/// readv from a pipe/FIFO without blocking the hub (one call's worth, as the kernel returns it);
/// `flags`: a program's own preadv2 flags at the file position (0 for read and readv).
pub fn readv_pipe(fd: i32, iov: *const libc::iovec, n: usize, flags: i32) -> isize {
    if let Some(r) = pipe_nowait(fd, Dir::Read, |f| crate::file::preadv2(fd, iov, n, -1, flags | f)) {
        return r;
    }
    match wait_ready(fd, Dir::Read) {
        Ok(_turn) => vector_call(fd, Dir::Read, iov, n, flags),
        Err(e) => e,
    }
}

/// readv/writev of `fd`, or preadv2/pwritev2 at the file position when there are `flags`.
fn vector_call(fd: i32, dir: Dir, iov: *const libc::iovec, n: usize, flags: i32) -> isize {
    match (dir, flags) {
        // SAFETY: the caller's vector, as the real readv/writev would receive it.
        (Dir::Read, 0) => unsafe { sys::syscall3(libc::SYS_readv, fd as usize, iov as usize, n) },
        // SAFETY: as above.
        (Dir::Write, 0) => unsafe { sys::syscall3(libc::SYS_writev, fd as usize, iov as usize, n) },
        (Dir::Read, f) => crate::file::preadv2(fd, iov, n, -1, f),
        (Dir::Write, f) => crate::file::pwritev2(fd, iov, n, -1, f),
    }
}

/// One pipe call as `preadv2`/`pwritev2` with RWF_NOWAIT (`call`'s argument), repeated after a
/// park on the pipe's readiness while it says EAGAIN, holding the direction's turn for each try.
/// Linux takes RWF_NOWAIT on anonymous pipes (the 6.18 kernel here does) whatever their O_NONBLOCK, so a
/// pipe shared with another process costs the call alone, with no poll before it and no window
/// between the two in which that process drains or fills it and the call blocks the carrier.
/// None when the kernel refuses RWF_NOWAIT on the fd (FIFOs, eventfd writes, timerfd…; kernels
/// before it): remembered, and the caller polls first instead. A handler without SA_RESTART
/// ends the wait with EINTR, as a blocking pipe call.
fn pipe_nowait(fd: i32, dir: Dir, call: impl Fn(i32) -> isize) -> Option<isize> {
    let s = existing_slot(fd)?;
    if s.load(Ordering::Relaxed) & NO_NOWAIT != 0 {
        return None;
    }
    loop {
        let turn = turn::take(fd, dir);
        let armed = arm(fd, dir);
        let r = call(libc::RWF_NOWAIT);
        if r == -(libc::EOPNOTSUPP as isize) || r == -(libc::ENOSYS as isize) {
            s.fetch_or(NO_NOWAIT, Ordering::AcqRel);
            return None;
        }
        if r != -(libc::EAGAIN as isize) {
            return Some(r);
        }
        drop(turn);
        if !wait_until(fd, dir, armed, None) {
            let _turn = turn::take(fd, dir);
            return Some(call(0)); // epoll refused the fd: the blocking call
        }
        if crate::signal::interrupted(true) {
            return Some(EINTR);
        }
    }
}

/// -EINTR: a handler interrupted the wait (and SA_RESTART does not restart the call).
const EINTR: isize = -(libc::EINTR as isize);

/// Writes all of `len` bytes to a pipe/FIFO without blocking the hub, as a blocking write does
/// (a write of at most PIPE_BUF bytes stays atomic; a handler without SA_RESTART ends it with
/// what was written, or EINTR).
pub fn write_pipe(fd: i32, buf: *const u8, len: usize) -> isize {
    writev_pipe(fd, &libc::iovec { iov_base: buf as *mut libc::c_void, iov_len: len }, 1, 0)
}

/// writev to a pipe/FIFO without blocking the hub, until all is written, as a blocking writev
/// returns. With RWF_NOWAIT ([`pipe_nowait`]) each call writes what the pipe takes (all of a
/// vector of at most PIPE_BUF bytes or nothing, as natively); where the kernel refuses it, in
/// pieces of at most PIPE_BUF, each when the pipe polls writable (Linux then has a whole page
/// free, so the piece cannot block and stays atomic). `flags`: a program's own pwritev2 flags at
/// the file position (0 for write and writev). Raw result (-errno).
pub fn writev_pipe(fd: i32, iov: *const libc::iovec, n: usize, flags: i32) -> isize {
    // SAFETY: the caller's vector of n iovecs (at most IOV_MAX of them are read).
    let total: usize = (0..n.min(1025)).map(|i| unsafe { (*iov.add(i)).iov_len }).sum();
    if n > 1024 || total == 0 || passes(fd, Dir::Write) {
        // EINVAL beyond IOV_MAX; nothing to write returns at once.
        return vector_call(fd, Dir::Write, iov, n, flags);
    }
    let first = pipe_nowait(fd, Dir::Write, |f| crate::file::pwritev2(fd, iov, n, -1, flags | f));
    match first {
        Some(r) if r < 0 || r as usize >= total => return r,
        None if total <= PIPE_CHUNK => {
            return match wait_ready(fd, Dir::Write) {
                Ok(_turn) => vector_call(fd, Dir::Write, iov, n, flags),
                Err(e) => e,
            };
        }
        _ => {}
    }
    // The rest, after a partial write (or none yet, in pieces, where RWF_NOWAIT is refused).
    // SAFETY: as above.
    let mut v: Vec<libc::iovec> = (0..n).map(|i| unsafe { *iov.add(i) }).collect();
    let mut at = 0usize;
    let mut done = first.map_or(0, |r| r as usize);
    advance_iov(&mut v, &mut at, done);
    // Only where RWF_NOWAIT is refused (no allocation on the usual path).
    let mut piece: Vec<libc::iovec> = Vec::new();
    while done < total {
        let r = match pipe_nowait(fd, Dir::Write, |f| crate::file::pwritev2(fd, v[at..].as_ptr(), v.len() - at, -1, flags | f)) {
            Some(r) => r,
            None => {
                // The next at most PIPE_BUF bytes of what is left, when the pipe polls writable.
                piece.clear();
                let mut room = PIPE_CHUNK;
                for e in &v[at..] {
                    if room == 0 {
                        break;
                    }
                    let take = e.iov_len.min(room);
                    if take > 0 {
                        piece.push(libc::iovec { iov_base: e.iov_base, iov_len: take });
                    }
                    room -= take;
                }
                match wait_ready(fd, Dir::Write) {
                    Ok(_turn) => vector_call(fd, Dir::Write, piece.as_ptr(), piece.len(), flags),
                    Err(e) => e,
                }
            }
        };
        if r < 0 {
            return if done > 0 { done as isize } else { r };
        }
        done += r as usize;
        advance_iov(&mut v, &mut at, r as usize);
    }
    done as isize
}

/// Receive flags under which a short result says nothing about the queue being empty.
const UNTRACKED_RECV: i32 = libc::MSG_PEEK | libc::MSG_OOB | libc::MSG_ERRQUEUE;

/// Read-side drained tracking of a stream socket (READ_DRAINED): the slot when `want` bytes
/// are being received with `flags` it applies to.
fn drain_slot(fd: i32, dir: Dir, want: usize, flags: i32) -> Option<&'static AtomicU64> {
    if dir != Dir::Read || want == 0 || flags & UNTRACKED_RECV != 0 {
        return None;
    }
    existing_slot(fd).filter(|s| s.load(Ordering::Relaxed) & (STREAM | REGISTERED) == STREAM | REGISTERED)
}

/// Whether slot value `v`, read after a short receive armed with `armed`, shows no read edge
/// (and no hang-up) since that receive began, so the queue was empty then (READ_DRAINED). With
/// one carrier READ_EDGE (cleared as the receive began) says it. With several, a receiver on
/// another carrier may have cleared READ_EDGE after an edge this one should have seen, so the
/// edge count decides; an unarmed receive (begun before a hand-off turned `multi()` on) marks
/// nothing.
fn no_edge_since(v: u64, armed: Armed, multi: bool) -> bool {
    if v & READ_HUP != 0 {
        return false;
    }
    if armed != Armed::UNARMED {
        return seq(v, Dir::Read) == armed.0;
    }
    !multi && v & READ_EDGE == 0
}

/// Repeats a socket call with MSG_DONTWAIT added until it gives something other than EAGAIN,
/// parking on the socket's readiness in between. A caller that asked for MSG_DONTWAIT itself
/// gets its EAGAIN. `want` is the byte count a receive asks for (0: not a receive), used to skip
/// the try on a stream socket known to be drained. Raw result (-errno). The try and the wait are
/// one frame with the caller's (each caller is out of line): a thread parked here keeps that
/// frame alone between the hook and the switch, and every line of it is touched again at resume
/// (bench/NOTES.md: with thousands of threads each is a cache miss).
#[inline(always)]
pub fn socket_call(fd: i32, dir: Dir, flags: i32, want: usize, call: impl Fn(i32) -> isize) -> isize {
    let drain = drain_slot(fd, dir, want, flags);
    // Before the drained check too: that check is a try whose "no" parks.
    let armed = arm(fd, dir);
    match try_socket(flags, want, drain, armed, &call) {
        Some(r) => r,
        None => socket_wait(fd, dir, flags, want, drain, armed, &call),
    }
}

/// One try of a socket call: None when it has to wait (EAGAIN, or a receive skipped on a
/// drained stream socket).
#[inline(always)]
fn try_socket(flags: i32, want: usize, drain: Option<&AtomicU64>, armed: Armed, call: &dyn Fn(i32) -> isize) -> Option<isize> {
    if drain.is_some_and(|s| s.load(Ordering::Acquire) & READ_DRAINED != 0) && flags & libc::MSG_DONTWAIT == 0 {
        crate::stats::recv_skipped();
        return None;
    }
    if let Some(s) = drain {
        s.fetch_and(!READ_EDGE, Ordering::AcqRel);
    }
    let r = call(flags | libc::MSG_DONTWAIT);
    if r == -(libc::EAGAIN as isize) && flags & libc::MSG_DONTWAIT == 0 {
        return None;
    }
    if let Some(s) = drain.filter(|_| r > 0 && (r as usize) < want) {
        let v = s.load(Ordering::Acquire);
        if no_edge_since(v, armed, crate::hub::multi()) {
            // Fails only if an edge came in meanwhile: then the queue may not be empty.
            let _ = s.compare_exchange(v, v | READ_DRAINED, Ordering::AcqRel, Ordering::Relaxed);
        }
    }
    Some(r)
}

/// [`socket_call`] after a try that has to wait: park, try again, until it gives a result.
#[inline(always)]
fn socket_wait(fd: i32, dir: Dir, flags: i32, want: usize, drain: Option<&AtomicU64>, mut armed: Armed, call: &dyn Fn(i32) -> isize) -> isize {
    let Some(s) = slot(fd) else { return call(flags) }; // beyond the table: the blocking call
    // Only a call that has to wait pays for reading the socket's timeout.
    let deadline = timeout_deadline_at(s, fd, dir);
    loop {
        if !wait_until_at(s, fd, dir, armed, deadline) {
            return call(flags); // epoll refused the fd: the blocking call
        }
        // A socket with a timeout is never restarted (signal(7)).
        if crate::signal::interrupted(deadline.is_none()) {
            return EINTR;
        }
        armed = arm(fd, dir);
        if let Some(r) = try_socket(flags, want, drain, armed, call) {
            return r;
        }
        if deadline.is_some_and(|d| sys::now_ns() >= d) {
            return -(libc::EAGAIN as isize); // SO_RCVTIMEO/SO_SNDTIMEO expired, as the kernel gives
        }
    }
}

/// recvfrom on a socket without blocking the hub.
#[inline(never)]
pub fn recv_socket(fd: i32, buf: *mut u8, len: usize, flags: i32, addr: *mut libc::sockaddr, alen: *mut libc::socklen_t) -> isize {
    socket_call(fd, Dir::Read, flags, len, move |f| {
        // SAFETY: the caller's buffers, as the real recvfrom would receive them.
        unsafe { sys::syscall6(libc::SYS_recvfrom, fd as usize, buf as usize, len, f as usize, addr as usize, alen as usize) }
    })
}

/// recvmsg on a socket without blocking the hub.
#[inline(never)]
pub fn recvmsg_socket(fd: i32, msg: *mut libc::msghdr, flags: i32) -> isize {
    // Not drain-tracked: summing the iovecs would read program memory the kernel may reject
    // with EFAULT, where we would crash.
    socket_call(fd, Dir::Read, flags, 0, |f| {
        // SAFETY: the caller's message header, as the real recvmsg would receive it.
        unsafe { sys::syscall3(libc::SYS_recvmsg, fd as usize, msg as usize, f as usize) }
    })
}

/// sendto on a socket without blocking the hub. A stream socket gets all `len` bytes, as from a
/// blocking send (a datagram goes in one piece). A send that is taken whole at the first try (a
/// server's reply) costs the try alone: the waits and the rest of a partial send are out of line
/// (`send_rest`), or the compiler hoists their set-up (park bucket, fd slot) into every call.
#[inline(never)]
pub fn send_socket(fd: i32, buf: *const u8, len: usize, flags: i32, addr: *const libc::sockaddr, alen: libc::socklen_t) -> isize {
    let armed = arm(fd, Dir::Write);
    let r = sendto_raw(fd, buf, len, flags | libc::MSG_DONTWAIT, addr, alen);
    let taken = if r >= 0 { r as usize >= len } else { r != -(libc::EAGAIN as isize) };
    if taken || flags & libc::MSG_DONTWAIT != 0 {
        return r; // all of it, an error, or whatever a caller that asked not to wait gets
    }
    send_rest(fd, buf, len, flags, addr, alen, r, armed)
}

/// [`send_socket`] after a first try (`first`, armed with `armed`) that was refused (EAGAIN) or
/// took part of the bytes: wait and send the rest.
#[cold]
#[inline(never)]
fn send_rest(fd: i32, buf: *const u8, len: usize, flags: i32, addr: *const libc::sockaddr, alen: libc::socklen_t, first: isize, armed: Armed) -> isize {
    let mut done = 0usize;
    let mut r = if first == -(libc::EAGAIN as isize) {
        socket_wait(fd, Dir::Write, flags, 0, None, armed, &|f| sendto_raw(fd, buf, len, f, addr, alen))
    } else {
        first
    };
    loop {
        if r < 0 {
            return if done > 0 { done as isize } else { r };
        }
        done += r as usize;
        if done >= len {
            return done as isize;
        }
        let (rest, left) = (buf.wrapping_add(done), len - done);
        r = socket_call(fd, Dir::Write, flags, 0, |f| sendto_raw(fd, rest, left, f, addr, alen));
    }
}

/// The sendto system call, raw result (-errno).
fn sendto_raw(fd: i32, buf: *const u8, len: usize, flags: i32, addr: *const libc::sockaddr, alen: libc::socklen_t) -> isize {
    // SAFETY: a range of the caller's buffer and its destination address, as the real sendto
    // would receive them.
    unsafe { sys::syscall6(libc::SYS_sendto, fd as usize, buf as usize, len, flags as usize, addr as usize, alen as usize) }
}

/// sendmsg on a socket without blocking the hub (one call's worth, as the kernel returns it).
#[inline(never)]
pub fn sendmsg_socket(fd: i32, msg: *const libc::msghdr, flags: i32) -> isize {
    socket_call(fd, Dir::Write, flags, 0, |f| {
        // SAFETY: the caller's message header, as the real sendmsg would receive it.
        unsafe { sys::syscall3(libc::SYS_sendmsg, fd as usize, msg as usize, f as usize) }
    })
}

/// accept4 on a listening socket without blocking the hub: wait until it polls readable, then
/// accept, holding the listener's read turn (src/turn.rs; another process sharing the listener could
/// still take the connection first — documented).
pub fn accept_socket(fd: i32, addr: *mut libc::sockaddr, len: *mut libc::socklen_t, flags: i32) -> isize {
    // SAFETY: the caller's address buffers, as the real accept4 would receive them.
    let accept = || unsafe { sys::syscall6(libc::SYS_accept4, fd as usize, addr as usize, len as usize, flags as usize, 0, 0) };
    // SO_RCVTIMEO counts from the first time the call has to wait: read only then, so an accept
    // that finds a connection queued costs one poll and the accept.
    let mut deadline = None;
    let mut waited = false;
    loop {
        let t = turn::take(fd, Dir::Read);
        let armed = arm(fd, Dir::Read);
        if poll_now(fd, Dir::Read) {
            return accepted(accept(), fd, flags);
        }
        if !waited {
            deadline = timeout_deadline(fd, Dir::Read);
            waited = true;
        }
        if deadline.is_some_and(|d| sys::now_ns() >= d) {
            return -(libc::EAGAIN as isize); // SO_RCVTIMEO expired
        }
        drop(t);
        if !wait_until(fd, Dir::Read, armed, deadline) {
            let _t = turn::take(fd, Dir::Read);
            return accepted(accept(), fd, flags);
        }
        if crate::signal::interrupted(deadline.is_none()) {
            return EINTR;
        }
    }
}

/// Records what the socket accept4 returned (`r`, raw) is, from its listener, so that its first
/// use pays no classification (fstat, F_GETFL and three getsockopts, per connection of a
/// server): a socket of the listener's type (STREAM when the listener's is), non-blocking only
/// when SOCK_NONBLOCK was asked (Linux's accept passes no file status flags on, accept(2)), and
/// without timeouts when the listener has none (TCP copies the listener's, a Unix socket starts
/// with none). A listener with a timeout leaves the new socket to be classified on first use.
/// Only a slot still unclassified is written, as `kind` does.
fn accepted(r: isize, listener: i32, flags: i32) -> isize {
    let lv = existing_slot(listener).map_or(0, |s| s.load(Ordering::Acquire));
    if r >= 0 && lv & KIND_MASK == SOCKET && lv & TIMEOUT == 0 {
        let c = if flags & libc::SOCK_NONBLOCK != 0 { PASS } else { SOCKET | (lv & STREAM) };
        if let Some(s) = slot(r as i32) {
            let _ = s.fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| (v & KIND_MASK == UNKNOWN).then_some(v | c));
        }
    }
    r
}

/// connect on a blocking socket without blocking the hub: the socket is made non-blocking for
/// the call only (it was created by this process and is not yet connected, so nothing else
/// uses it). A connection in progress (EINPROGRESS, or EALREADY for a second connect after an
/// EINTR) parks the thread until the socket is writable, and a second non-blocking connect then
/// answers what the blocking one would have (0 or the error), leaving the kernel's socket state
/// as a blocking connect leaves it. A Unix listener's full backlog (EAGAIN) is waited out with
/// timer parks. SO_SNDTIMEO and handlers act as in the kernel.
pub fn connect_socket(fd: i32, addr: *const libc::sockaddr, len: libc::socklen_t) -> isize {
    // SAFETY: F_GETFL/F_SETFL on the caller's socket.
    let fl = unsafe { sys::syscall3(libc::SYS_fcntl, fd as usize, libc::F_GETFL as usize, 0) };
    if fl < 0 {
        return fl;
    }
    let set_flags = |f: isize| {
        // SAFETY: F_SETFL on the caller's socket: O_NONBLOCK added, or its own flags restored.
        unsafe { sys::syscall3(libc::SYS_fcntl, fd as usize, libc::F_SETFL as usize, f as usize) };
    };
    set_flags(fl | libc::O_NONBLOCK as isize);
    // SAFETY: the caller's address, as the real connect would receive it.
    let connect = || unsafe { sys::syscall3(libc::SYS_connect, fd as usize, addr as usize, len as usize) };
    let mut r = connect();
    if r == -(libc::EINPROGRESS as isize) || r == -(libc::EALREADY as isize) {
        r = finish_connect(fd, r, &connect, || set_flags(fl));
    } else if r == -(libc::EAGAIN as isize) && sock_int(fd, libc::SO_DOMAIN) == libc::AF_UNIX {
        r = wait_unix_backlog(fd, &connect);
    }
    set_flags(fl);
    r
}

/// Parks until the connection in progress on `fd` is made or fails, then returns what a blocking
/// connect returns. `started` (EINPROGRESS or EALREADY) is the kernel's answer at SO_SNDTIMEO.
/// A handler ends the wait with EINTR unless SA_RESTART restarts it (never with a timeout); the
/// connection goes on in the background, as natively.
fn finish_connect(fd: i32, started: isize, connect: &dyn Fn() -> isize, restore_blocking: impl Fn()) -> isize {
    let deadline = timeout_deadline(fd, Dir::Write);
    loop {
        let armed = arm(fd, Dir::Write);
        if poll_now(fd, Dir::Write) {
            return connect_result(fd, connect);
        }
        if deadline.is_some_and(|d| sys::now_ns() >= d) {
            return started;
        }
        if !wait_until(fd, Dir::Write, armed, deadline) {
            restore_blocking(); // epoll refused the fd: the blocking call
            return connect();
        }
        if crate::signal::interrupted(deadline.is_none()) {
            return EINTR;
        }
    }
}

/// What the blocking connect returns once the socket polls writable. TCP: a second connect,
/// which answers as the blocking one does (0 or the error) and leaves the socket's state as it
/// leaves it (connected, or unconnected after an error, so a retry on the socket starts over).
/// Other protocols answer a second connect with EISCONN once connected (SCTP, vsock): SO_ERROR.
fn connect_result(fd: i32, connect: &dyn Fn() -> isize) -> isize {
    if sock_int(fd, libc::SO_PROTOCOL) == libc::IPPROTO_TCP {
        return connect();
    }
    match sockopt_int(fd, libc::SO_ERROR) {
        Ok(err) => -(err as isize),
        Err(e) => e,
    }
}

/// Longest pause between two tries of a connect to a Unix listener whose backlog is full.
const UNIX_BACKLOG_PAUSE_MAX_NS: u64 = 16_000_000;

/// A blocking connect to a Unix stream listener with a full backlog sleeps in the kernel until
/// the server accepts; nothing a client can poll says when (its socket polls writable and hung
/// up while unconnected), so the try is repeated after timer parks of 1 ms doubling to 16 ms.
/// EAGAIN at SO_SNDTIMEO; EINTR after a handler as in [`finish_connect`].
fn wait_unix_backlog(fd: i32, connect: &dyn Fn() -> isize) -> isize {
    let Some(t) = crate::hub::current() else { return connect() };
    let deadline = timeout_deadline(fd, Dir::Write);
    let mut pause = 1_000_000u64;
    loop {
        let now = sys::now_ns();
        if deadline.is_some_and(|d| now >= d) {
            return -(libc::EAGAIN as isize);
        }
        let wake = deadline.map_or(now + pause, |d| d.min(now + pause));
        crate::hub::sleep_until(t, wake);
        if crate::signal::interrupted(deadline.is_none()) {
            return EINTR;
        }
        let r = connect();
        if r != -(libc::EAGAIN as isize) {
            return r;
        }
        pause = (pause * 2).min(UNIX_BACKLOG_PAUSE_MAX_NS);
    }
}

/// A poll(2) timeout in ms (negative: forever) as a CLOCK_MONOTONIC deadline.
pub fn deadline_after_ms(ms: i32) -> Option<u64> {
    (ms >= 0).then(|| sys::now_ns() + ms as u64 * 1_000_000)
}

fn zero_poll(fds: *mut libc::pollfd, n: u64) -> isize {
    let ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: the caller's pollfd array; a live zero timespec; no sigmask.
    unsafe { sys::syscall6(libc::SYS_ppoll, fds as usize, n as usize, &ts as *const libc::timespec as usize, 0, 8, 0) }
}

/// poll/ppoll for a green thread: a zero-timeout poll first; otherwise the fds go into a private
/// epoll instance, whose readiness the hub watches, and the poll is repeated when it fires or
/// at the deadline. Raw result (-errno). The ppoll signal mask is not applied (see README).
pub fn poll_green(fds: *mut libc::pollfd, n: u64, deadline: Option<u64>) -> isize {
    let r = zero_poll(fds, n);
    if r != 0 || deadline.is_some_and(|d| d <= sys::now_ns()) {
        return r;
    }
    // SAFETY: plain syscall creating a new fd.
    let ep = unsafe { sys::syscall3(libc::SYS_epoll_create1, libc::EPOLL_CLOEXEC as usize, 0, 0) };
    if ep < 0 {
        return ep;
    }
    let ep = ep as i32;
    for i in 0..n as usize {
        // SAFETY: i < n, inside the caller's array.
        let p = unsafe { &*fds.add(i) };
        if p.fd < 0 {
            continue;
        }
        let mut events = (libc::EPOLLERR | libc::EPOLLHUP) as u32;
        if p.events & libc::POLLIN != 0 {
            events |= (libc::EPOLLIN | libc::EPOLLRDHUP) as u32;
        }
        if p.events & libc::POLLOUT != 0 {
            events |= libc::EPOLLOUT as u32;
        }
        if p.events & libc::POLLPRI != 0 {
            events |= libc::EPOLLPRI as u32;
        }
        let mut ev = libc::epoll_event { events, u64: i as u64 };
        // SAFETY: our private epoll; the kernel validates the fd.
        unsafe { sys::syscall6(libc::SYS_epoll_ctl, ep as usize, libc::EPOLL_CTL_ADD as usize, p.fd as usize, &mut ev as *mut _ as usize, 0, 0) };
    }
    // The first try was the zero poll above; an fd that became ready since is ready when
    // added to `ep`, and `ep` then when added to the hub's epoll (the first wait): no edge lost.
    let mut armed = arm(ep, Dir::Read);
    let r = loop {
        let waited = wait_until(ep, Dir::Read, armed, deadline);
        armed = arm(ep, Dir::Read);
        let r = zero_poll(fds, n);
        if r != 0 || !waited || deadline.is_some_and(|d| d <= sys::now_ns()) {
            break r;
        }
        // poll is never restarted after a handler (signal(7)).
        if crate::signal::interrupted(false) {
            break EINTR;
        }
    };
    forget(ep);
    // SAFETY: closing our own private epoll fd.
    unsafe { sys::syscall3(libc::SYS_close, ep as usize, 0, 0) };
    r
}

/// epoll_wait/epoll_pwait for a green thread on the program's own epoll instance: wait until
/// that instance polls readable (it is itself an fd in the hub's epoll), then collect events
/// with a zero timeout. Raw result (-errno).
pub fn epoll_wait_green(epfd: i32, events: *mut libc::epoll_event, max: i32, deadline: Option<u64>) -> isize {
    loop {
        let armed = arm(epfd, Dir::Read);
        // SAFETY: the caller's event array of `max` entries; zero timeout.
        let r = unsafe { sys::syscall6(libc::SYS_epoll_wait, epfd as usize, events as usize, max as usize, 0, 0, 0) };
        if r != 0 || deadline.is_some_and(|d| d <= sys::now_ns()) || !wait_until(epfd, Dir::Read, armed, deadline) {
            return r;
        }
        if crate::signal::interrupted(false) {
            return EINTR;
        }
    }
}

/// writev on a stream socket without blocking the hub: all bytes of the vector, as a blocking
/// writev returns (the vector is copied and advanced past what each sendmsg took).
pub fn writev_socket(fd: i32, iov: *const libc::iovec, n: usize) -> isize {
    // SAFETY: the caller's vector of n iovecs.
    let mut v: Vec<libc::iovec> = (0..n).map(|i| unsafe { *iov.add(i) }).collect();
    let total: usize = v.iter().map(|e| e.iov_len).sum();
    let mut done = 0usize;
    let mut first = 0usize;
    loop {
        // SAFETY: zeroed header pointing at our live copy of the vector.
        let mut msg: libc::msghdr = unsafe { core::mem::zeroed() };
        msg.msg_iov = v[first..].as_mut_ptr();
        msg.msg_iovlen = v.len() - first;
        let r = sendmsg_socket(fd, &msg, 0);
        if r < 0 {
            return if done > 0 { done as isize } else { r };
        }
        done += r as usize;
        if done >= total {
            return done as isize;
        }
        advance_iov(&mut v, &mut first, r as usize);
    }
}

/// Moves a copied vector past `n` bytes consumed by a call: `v[*first..]` is what is left.
pub fn advance_iov(v: &mut [libc::iovec], first: &mut usize, n: usize) {
    let mut left = n;
    while left > 0 && *first < v.len() {
        let e = &mut v[*first];
        let take = left.min(e.iov_len);
        e.iov_base = (e.iov_base as usize + take) as *mut libc::c_void;
        e.iov_len -= take;
        left -= take;
        if e.iov_len == 0 {
            *first += 1;
        }
    }
}

/// select/pselect for a green thread: the sets become a pollfd array for [`poll_green`], and
/// the results go back into the sets (a descriptor counts once per set it is ready in, as the
/// kernel counts). Raw result (-errno); EINVAL for nfds outside 0..=FD_SETSIZE.
pub fn select_green(nfds: i32, r: *mut libc::fd_set, w: *mut libc::fd_set, e: *mut libc::fd_set, deadline: Option<u64>) -> isize {
    if !(0..=libc::FD_SETSIZE as i32).contains(&nfds) {
        return -(libc::EINVAL as isize);
    }
    // SAFETY: FD_ISSET/FD_ZERO/FD_SET on the caller's sets (null sets are skipped).
    let isset = |s: *mut libc::fd_set, fd: i32| !s.is_null() && unsafe { libc::FD_ISSET(fd, s) };
    let mut pfds: Vec<libc::pollfd> = Vec::new();
    for fd in 0..nfds {
        let mut events = 0;
        if isset(r, fd) {
            events |= libc::POLLIN;
        }
        if isset(w, fd) {
            events |= libc::POLLOUT;
        }
        if isset(e, fd) {
            events |= libc::POLLPRI;
        }
        if events != 0 {
            pfds.push(libc::pollfd { fd, events, revents: 0 });
        }
    }
    let n = poll_green(pfds.as_mut_ptr(), pfds.len() as u64, deadline);
    if n < 0 {
        return n;
    }
    if pfds.iter().any(|p| p.revents & libc::POLLNVAL != 0) {
        return -(libc::EBADF as isize);
    }
    for s in [r, w, e] {
        if !s.is_null() {
            // SAFETY: the caller's set.
            unsafe { libc::FD_ZERO(s) };
        }
    }
    let mut count = 0isize;
    for p in &pfds {
        let ready_in = [
            (r, p.events & libc::POLLIN != 0 && p.revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0),
            (w, p.events & libc::POLLOUT != 0 && p.revents & (libc::POLLOUT | libc::POLLERR) != 0),
            (e, p.events & libc::POLLPRI != 0 && p.revents & libc::POLLPRI != 0),
        ];
        for (s, ready) in ready_in {
            if ready {
                // SAFETY: the caller's non-null set.
                unsafe { libc::FD_SET(p.fd, s) };
                count += 1;
            }
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::sync::atomic::AtomicBool;
    use std::sync::Arc;

    /// Epoll events of a read edge and of a write-only edge, as the hub passes them.
    const IN: u32 = libc::EPOLLIN as u32;
    const OUT: u32 = libc::EPOLLOUT as u32;

    /// Fds far above any the test process opens: `ready` and the slots need no real fd, and
    /// each test has its own so tests running in parallel do not meet.
    fn fake_fd(n: i32) -> (i32, &'static AtomicU64) {
        let fd = 4_000_000 + n;
        (fd, slot(fd).expect("in range"))
    }

    #[test]
    fn ready_unparks_only_directions_with_waiters_and_an_empty_wake_up_clears_the_bit() {
        let (fd, s) = fake_fd(3);
        ready(TOKEN_FD | fd as u64, IN | OUT);
        assert_eq!(s.load(Ordering::Acquire) & (READ_WAITERS | WRITE_WAITERS), 0, "an edge alone announces no waiter");
        let armed = Armed::of(s.load(Ordering::Acquire), Dir::Read);
        let waiter = std::thread::spawn(move || park_io(s, fd, Dir::Read, armed, Some(sys::now_ns() + 10_000_000_000)));
        // The bit is set in the same bucket-locked step that links the waiter.
        while s.load(Ordering::Acquire) & READ_WAITERS == 0 {
            std::thread::yield_now();
        }
        assert_eq!(s.load(Ordering::Acquire) & WRITE_WAITERS, 0, "nobody waits to write");
        ready(TOKEN_FD | fd as u64, IN | OUT);
        assert_eq!(waiter.join().unwrap(), park::ParkResult::Unparked);
        assert_ne!(s.load(Ordering::Acquire) & READ_WAITERS, 0, "kept while the direction is in use");
        ready(TOKEN_FD | fd as u64, IN);
        assert_eq!(s.load(Ordering::Acquire) & READ_WAITERS, 0, "an edge that finds nobody clears it");
    }

    #[test]
    fn an_edge_after_arming_refuses_the_park_of_its_direction_only() {
        let (fd, s) = fake_fd(1);
        let (r, w) = (Armed::of(s.load(Ordering::Acquire), Dir::Read), Armed::of(s.load(Ordering::Acquire), Dir::Write));
        assert!(r.may_park(s.load(Ordering::Acquire), Dir::Read, true));
        ready(TOKEN_FD | fd as u64, IN);
        assert!(!r.may_park(s.load(Ordering::Acquire), Dir::Read, true));
        assert!(w.may_park(s.load(Ordering::Acquire), Dir::Write, true));
        ready(TOKEN_FD | fd as u64, OUT);
        assert!(!w.may_park(s.load(Ordering::Acquire), Dir::Write, true));
        // Forgetting the fd keeps the counts: an old snapshot never matches again by a reset.
        let before = seq(s.load(Ordering::Acquire), Dir::Read);
        s.fetch_or(PIPE | REGISTERED, Ordering::AcqRel);
        s.fetch_and(SEQ_MASK, Ordering::AcqRel); // what forget() does, without epoll
        assert_eq!(seq(s.load(Ordering::Acquire), Dir::Read), before);
        assert_eq!(s.load(Ordering::Acquire) & !SEQ_MASK, UNKNOWN);
    }

    /// Receiver A's short read may mark the socket drained only if no edge came since A began,
    /// even when receiver B (another carrier) cleared READ_EDGE after that edge.
    #[test]
    fn a_short_read_marks_drained_only_without_an_edge_since_it_began() {
        let v0 = STREAM | REGISTERED | SOCKET;
        let a = Armed::of(v0, Dir::Read);
        assert!(no_edge_since(v0, a, true));
        let edged = note_edge(v0, true, false, false);
        let cleared_by_b = edged & !READ_EDGE;
        assert!(!no_edge_since(cleared_by_b, a, true));
        assert!(!no_edge_since(note_edge(v0, true, false, true), Armed::of(v0, Dir::Read), true), "hang-up");
        // One carrier: READ_EDGE decides, as before; an unarmed receive with several marks nothing.
        assert!(no_edge_since(cleared_by_b, Armed::UNARMED, false));
        assert!(!no_edge_since(edged, Armed::UNARMED, false));
        assert!(!no_edge_since(v0, Armed::UNARMED, true));
        // A write edge does not count against the read side.
        assert!(no_edge_since(note_edge(v0, false, true, false), a, true));
    }

    #[test]
    fn an_unarmed_wait_parks_only_with_one_carrier() {
        assert!(Armed::UNARMED.may_park(0, Dir::Read, false));
        assert!(!Armed::UNARMED.may_park(0, Dir::Read, true));
    }

    #[test]
    fn edge_counts_wrap_inside_their_field() {
        let full = ((1u64 << SEQ_BITS) - 1) << READ_SEQ_SHIFT | READ_HUP;
        let v = bump_seq(full, Dir::Read);
        assert_eq!(seq(v, Dir::Read), 0);
        assert_eq!(seq(v, Dir::Write), 0);
        assert_eq!(v & !SEQ_MASK, READ_HUP);
        let top = ((1u64 << SEQ_BITS) - 1) << WRITE_SEQ_SHIFT;
        assert_eq!(bump_seq(top, Dir::Write), 0);
        // A read edge marks the read side; the drained mark goes.
        let v = note_edge(READ_DRAINED | STREAM, true, false, false);
        assert_eq!(v & !SEQ_MASK, READ_EDGE | STREAM);
        assert_eq!((seq(v, Dir::Read), seq(v, Dir::Write)), (1, 0));
    }

    /// The protocol under real parallelism, with the real `ready` and the real park table (an
    /// OS thread parks in the kernel, on the same bucket lock a green thread uses): one thread
    /// makes an fd "readable" and runs `ready`, the other arms, tries, and parks as the I/O
    /// paths do. An edge falling between a failed try and the park, without the armed check,
    /// leaves the waiter parked while the producer waits for it: the park times out.
    #[test]
    fn no_wake_up_is_lost_between_a_failed_try_and_the_park() {
        const ROUNDS: u32 = 20_000;
        let (fd, s) = fake_fd(2);
        // The kernel's view of the fd: a byte is queued.
        let queued = Arc::new(AtomicBool::new(false));
        let producer = {
            let queued = queued.clone();
            std::thread::spawn(move || {
                for _ in 0..ROUNDS {
                    while queued.load(Ordering::Acquire) {
                        std::hint::spin_loop();
                        std::thread::yield_now();
                    }
                    // Arrival, then the epoll edge a carrier hands to `ready`.
                    queued.store(true, Ordering::Release);
                    ready(TOKEN_FD | fd as u64, IN);
                }
            })
        };
        let (mut got, mut parks) = (0, 0);
        while got < ROUNDS {
            let armed = Armed::of(s.load(Ordering::Acquire), Dir::Read);
            if queued.swap(false, Ordering::AcqRel) {
                got += 1;
                continue;
            }
            let deadline = Some(sys::now_ns() + 10_000_000_000);
            let r = park_io(s, fd, Dir::Read, armed, deadline);
            assert_ne!(r, park::ParkResult::TimedOut, "a wake-up was lost after {got} reads");
            parks += 1;
        }
        producer.join().unwrap();
        assert!(parks > 0, "the waiter never reached the park");
    }
}
