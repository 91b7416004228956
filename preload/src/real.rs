//! The real libc functions behind our interposers, found with `dlsym(RTLD_NEXT)` on first use
//! and cached in one atomic word each (one relaxed load per call afterwards).
//!
//! Why not redhook: its `hook!` cannot define the fixed-arity stand-ins we need for variadic
//! functions (`syscall`), and we want the green/not-green decision, not a generic wrapper, to
//! be the only code in each hook. This is the part of redhook we need, in one macro.

use core::ffi::{c_char, c_int, c_long, c_uint, c_void};
use core::sync::atomic::{AtomicUsize, Ordering};

use green_rt::task::StartRoutine;

fn resolve(slot: &AtomicUsize, name: &core::ffi::CStr) -> usize {
    let p = slot.load(Ordering::Relaxed);
    if p != 0 {
        return p;
    }
    // SAFETY: name is NUL-terminated; RTLD_NEXT searches the objects after libgreen.so.
    let f = unsafe { libc::dlsym(libc::RTLD_NEXT, name.as_ptr()) } as usize;
    if f == 0 {
        green_rt::log::fatal(format_args!("cannot find the real {}", name.to_string_lossy()));
    }
    slot.store(f, Ordering::Relaxed);
    f
}

macro_rules! real {
    ($( $name:ident : $ty:ty ;)*) => {$(
        #[inline]
        #[allow(non_snake_case)] // glibc's names (_IO_getc)
        pub fn $name() -> $ty {
            static SLOT: AtomicUsize = AtomicUsize::new(0);
            let p = resolve(&SLOT, unsafe_cstr(concat!(stringify!($name), "\0")));
            // SAFETY: dlsym returned the libc function of this name, whose C type is $ty.
            unsafe { core::mem::transmute::<usize, $ty>(p) }
        }
    )*};
}

const fn unsafe_cstr(s: &'static str) -> &'static core::ffi::CStr {
    match core::ffi::CStr::from_bytes_with_nul(s.as_bytes()) {
        Ok(c) => c,
        Err(_) => panic!("symbol names are NUL-terminated"),
    }
}

real! {
    pthread_create: unsafe extern "C" fn(*mut libc::pthread_t, *const libc::pthread_attr_t, StartRoutine, *mut c_void) -> c_int;
    pthread_join: unsafe extern "C" fn(libc::pthread_t, *mut *mut c_void) -> c_int;
    pthread_tryjoin_np: unsafe extern "C" fn(libc::pthread_t, *mut *mut c_void) -> c_int;
    pthread_timedjoin_np: unsafe extern "C" fn(libc::pthread_t, *mut *mut c_void, *const libc::timespec) -> c_int;
    pthread_clockjoin_np: unsafe extern "C" fn(libc::pthread_t, *mut *mut c_void, libc::clockid_t, *const libc::timespec) -> c_int;
    pthread_detach: unsafe extern "C" fn(libc::pthread_t) -> c_int;
    pthread_cancel: unsafe extern "C" fn(libc::pthread_t) -> c_int;
    pthread_kill: unsafe extern "C" fn(libc::pthread_t, c_int) -> c_int;
    pthread_exit: unsafe extern "C-unwind" fn(*mut c_void) -> !;
    pthread_getattr_np: unsafe extern "C" fn(libc::pthread_t, *mut libc::pthread_attr_t) -> c_int;
    pthread_getcpuclockid: unsafe extern "C" fn(libc::pthread_t, *mut libc::clockid_t) -> c_int;
    pthread_setname_np: unsafe extern "C" fn(libc::pthread_t, *const c_char) -> c_int;
    pthread_setschedparam: unsafe extern "C" fn(libc::pthread_t, c_int, *const libc::sched_param) -> c_int;
    pthread_getschedparam: unsafe extern "C" fn(libc::pthread_t, *mut c_int, *mut libc::sched_param) -> c_int;
    pthread_setschedprio: unsafe extern "C" fn(libc::pthread_t, c_int) -> c_int;
    pthread_setaffinity_np: unsafe extern "C" fn(libc::pthread_t, usize, *const libc::cpu_set_t) -> c_int;
    pthread_getaffinity_np: unsafe extern "C" fn(libc::pthread_t, usize, *mut libc::cpu_set_t) -> c_int;
    sched_setscheduler: unsafe extern "C" fn(libc::pid_t, c_int, *const libc::sched_param) -> c_int;
    sched_getscheduler: unsafe extern "C" fn(libc::pid_t) -> c_int;
    sched_setparam: unsafe extern "C" fn(libc::pid_t, *const libc::sched_param) -> c_int;
    sched_getparam: unsafe extern "C" fn(libc::pid_t, *mut libc::sched_param) -> c_int;
    sched_setaffinity: unsafe extern "C" fn(libc::pid_t, usize, *const libc::cpu_set_t) -> c_int;
    sched_getaffinity: unsafe extern "C" fn(libc::pid_t, usize, *mut libc::cpu_set_t) -> c_int;
    pthread_getname_np: unsafe extern "C" fn(libc::pthread_t, *mut c_char, usize) -> c_int;
    pthread_key_create: unsafe extern "C" fn(*mut libc::pthread_key_t, Option<unsafe extern "C" fn(*mut c_void)>) -> c_int;
    pthread_key_delete: unsafe extern "C" fn(libc::pthread_key_t) -> c_int;
    sched_yield: unsafe extern "C" fn() -> c_int;
    nanosleep: unsafe extern "C" fn(*const libc::timespec, *mut libc::timespec) -> c_int;
    clock_nanosleep: unsafe extern "C" fn(libc::clockid_t, c_int, *const libc::timespec, *mut libc::timespec) -> c_int;
    sleep: unsafe extern "C" fn(c_uint) -> c_uint;
    usleep: unsafe extern "C" fn(libc::useconds_t) -> c_int;
    syscall: unsafe extern "C" fn(c_long, c_long, c_long, c_long, c_long, c_long, c_long) -> c_long;
    read: unsafe extern "C" fn(c_int, *mut c_void, usize) -> isize;
    __read_chk: unsafe extern "C" fn(c_int, *mut c_void, usize, usize) -> isize;
    __recv_chk: unsafe extern "C" fn(c_int, *mut c_void, usize, usize, c_int) -> isize;
    __recvfrom_chk: unsafe extern "C" fn(c_int, *mut c_void, usize, usize, c_int, *mut libc::sockaddr, *mut libc::socklen_t) -> isize;
    __poll_chk: unsafe extern "C" fn(*mut libc::pollfd, libc::nfds_t, c_int, usize) -> c_int;
    __ppoll_chk: unsafe extern "C" fn(*mut libc::pollfd, libc::nfds_t, *const libc::timespec, *const libc::sigset_t, usize) -> c_int;
    __pread_chk: unsafe extern "C" fn(c_int, *mut c_void, usize, libc::off_t, usize) -> isize;
    write: unsafe extern "C" fn(c_int, *const c_void, usize) -> isize;
    recv: unsafe extern "C" fn(c_int, *mut c_void, usize, c_int) -> isize;
    send: unsafe extern "C" fn(c_int, *const c_void, usize, c_int) -> isize;
    close: unsafe extern "C" fn(c_int) -> c_int;
    setsockopt: unsafe extern "C" fn(c_int, c_int, c_int, *const c_void, libc::socklen_t) -> c_int;
    select: unsafe extern "C" fn(c_int, *mut libc::fd_set, *mut libc::fd_set, *mut libc::fd_set, *mut libc::timeval) -> c_int;
    pselect: unsafe extern "C" fn(c_int, *mut libc::fd_set, *mut libc::fd_set, *mut libc::fd_set, *const libc::timespec, *const libc::sigset_t) -> c_int;
    recvfrom: unsafe extern "C" fn(c_int, *mut c_void, usize, c_int, *mut libc::sockaddr, *mut libc::socklen_t) -> isize;
    sendto: unsafe extern "C" fn(c_int, *const c_void, usize, c_int, *const libc::sockaddr, libc::socklen_t) -> isize;
    recvmsg: unsafe extern "C" fn(c_int, *mut libc::msghdr, c_int) -> isize;
    sendmsg: unsafe extern "C" fn(c_int, *const libc::msghdr, c_int) -> isize;
    readv: unsafe extern "C" fn(c_int, *const libc::iovec, c_int) -> isize;
    writev: unsafe extern "C" fn(c_int, *const libc::iovec, c_int) -> isize;
    poll: unsafe extern "C" fn(*mut libc::pollfd, libc::nfds_t, c_int) -> c_int;
    ppoll: unsafe extern "C" fn(*mut libc::pollfd, libc::nfds_t, *const libc::timespec, *const libc::sigset_t) -> c_int;
    epoll_wait: unsafe extern "C" fn(c_int, *mut libc::epoll_event, c_int, c_int) -> c_int;
    epoll_pwait: unsafe extern "C" fn(c_int, *mut libc::epoll_event, c_int, c_int, *const libc::sigset_t) -> c_int;
    accept4: unsafe extern "C" fn(c_int, *mut libc::sockaddr, *mut libc::socklen_t, c_int) -> c_int;
    connect: unsafe extern "C" fn(c_int, *const libc::sockaddr, libc::socklen_t) -> c_int;
    dup: unsafe extern "C" fn(c_int) -> c_int;
    dup2: unsafe extern "C" fn(c_int, c_int) -> c_int;
    dup3: unsafe extern "C" fn(c_int, c_int, c_int) -> c_int;
    fcntl: unsafe extern "C" fn(c_int, c_int, usize) -> c_int;
    lockf: unsafe extern "C" fn(c_int, c_int, libc::off_t) -> c_int;
    thrd_create: unsafe extern "C" fn(*mut libc::pthread_t, unsafe extern "C" fn(*mut c_void) -> c_int, *mut c_void) -> c_int;
    msgrcv: unsafe extern "C" fn(c_int, *mut c_void, usize, c_long, c_int) -> isize;
    msgsnd: unsafe extern "C" fn(c_int, *const c_void, usize, c_int) -> c_int;
    semop: unsafe extern "C" fn(c_int, *mut libc::sembuf, usize) -> c_int;
    semtimedop: unsafe extern "C" fn(c_int, *mut libc::sembuf, usize, *const libc::timespec) -> c_int;
    ioctl: unsafe extern "C" fn(c_int, core::ffi::c_ulong, usize) -> c_int;
    pread: unsafe extern "C" fn(c_int, *mut c_void, usize, libc::off_t) -> isize;
    pwrite: unsafe extern "C" fn(c_int, *const c_void, usize, libc::off_t) -> isize;
    preadv: unsafe extern "C" fn(c_int, *const libc::iovec, c_int, libc::off_t) -> isize;
    pwritev: unsafe extern "C" fn(c_int, *const libc::iovec, c_int, libc::off_t) -> isize;
    preadv2: unsafe extern "C" fn(c_int, *const libc::iovec, c_int, libc::off_t, c_int) -> isize;
    pwritev2: unsafe extern "C" fn(c_int, *const libc::iovec, c_int, libc::off_t, c_int) -> isize;
    fsync: unsafe extern "C" fn(c_int) -> c_int;
    fdatasync: unsafe extern "C" fn(c_int) -> c_int;
    sync_file_range: unsafe extern "C" fn(c_int, libc::off64_t, libc::off64_t, c_uint) -> c_int;
    syncfs: unsafe extern "C" fn(c_int) -> c_int;
    sync: unsafe extern "C" fn();
    sendfile: unsafe extern "C" fn(c_int, c_int, *mut libc::off_t, usize) -> isize;
    splice: unsafe extern "C" fn(c_int, *mut libc::loff_t, c_int, *mut libc::loff_t, usize, c_uint) -> isize;
    open: unsafe extern "C" fn(*const c_char, c_int, c_uint) -> c_int;
    openat: unsafe extern "C" fn(c_int, *const c_char, c_int, c_uint) -> c_int;
    __open_2: unsafe extern "C" fn(*const c_char, c_int) -> c_int;
    __openat_2: unsafe extern "C" fn(c_int, *const c_char, c_int) -> c_int;
    fopen: unsafe extern "C" fn(*const c_char, *const c_char) -> *mut libc::FILE;
    recvmmsg: unsafe extern "C" fn(c_int, *mut libc::mmsghdr, c_uint, c_int, *mut libc::timespec) -> c_int;
    sendmmsg: unsafe extern "C" fn(c_int, *mut libc::mmsghdr, c_uint, c_int) -> c_int;
    mq_timedreceive: unsafe extern "C" fn(libc::mqd_t, *mut c_char, usize, *mut c_uint, *const libc::timespec) -> isize;
    mq_timedsend: unsafe extern "C" fn(libc::mqd_t, *const c_char, usize, c_uint, *const libc::timespec) -> c_int;
    fgetc: unsafe extern "C" fn(*mut libc::FILE) -> c_int;
    getc: unsafe extern "C" fn(*mut libc::FILE) -> c_int;
    _IO_getc: unsafe extern "C" fn(*mut libc::FILE) -> c_int;
    getchar: unsafe extern "C" fn() -> c_int;
    fgetc_unlocked: unsafe extern "C" fn(*mut libc::FILE) -> c_int;
    getc_unlocked: unsafe extern "C" fn(*mut libc::FILE) -> c_int;
    getchar_unlocked: unsafe extern "C" fn() -> c_int;
    __uflow: unsafe extern "C" fn(*mut libc::FILE) -> c_int;
    __underflow: unsafe extern "C" fn(*mut libc::FILE) -> c_int;
    fgets: unsafe extern "C" fn(*mut c_char, c_int, *mut libc::FILE) -> *mut c_char;
    fgets_unlocked: unsafe extern "C" fn(*mut c_char, c_int, *mut libc::FILE) -> *mut c_char;
    __fgets_chk: unsafe extern "C" fn(*mut c_char, usize, c_int, *mut libc::FILE) -> *mut c_char;
    __fgets_unlocked_chk: unsafe extern "C" fn(*mut c_char, usize, c_int, *mut libc::FILE) -> *mut c_char;
    fgetwc: unsafe extern "C" fn(*mut libc::FILE) -> u32;
    getwc: unsafe extern "C" fn(*mut libc::FILE) -> u32;
    fgetwc_unlocked: unsafe extern "C" fn(*mut libc::FILE) -> u32;
    getwc_unlocked: unsafe extern "C" fn(*mut libc::FILE) -> u32;
    getwchar: unsafe extern "C" fn() -> u32;
    getwchar_unlocked: unsafe extern "C" fn() -> u32;
    fgetws: unsafe extern "C" fn(*mut u32, c_int, *mut libc::FILE) -> *mut u32;
    fgetws_unlocked: unsafe extern "C" fn(*mut u32, c_int, *mut libc::FILE) -> *mut u32;
    __fgetws_chk: unsafe extern "C" fn(*mut u32, usize, c_int, *mut libc::FILE) -> *mut u32;
    __fgetws_unlocked_chk: unsafe extern "C" fn(*mut u32, usize, c_int, *mut libc::FILE) -> *mut u32;
    fread: unsafe extern "C" fn(*mut c_void, usize, usize, *mut libc::FILE) -> usize;
    fread_unlocked: unsafe extern "C" fn(*mut c_void, usize, usize, *mut libc::FILE) -> usize;
    __fread_chk: unsafe extern "C" fn(*mut c_void, usize, usize, usize, *mut libc::FILE) -> usize;
    __fread_unlocked_chk: unsafe extern "C" fn(*mut c_void, usize, usize, usize, *mut libc::FILE) -> usize;
    getline: unsafe extern "C" fn(*mut *mut c_char, *mut usize, *mut libc::FILE) -> isize;
    getdelim: unsafe extern "C" fn(*mut *mut c_char, *mut usize, c_int, *mut libc::FILE) -> isize;
    __getdelim: unsafe extern "C" fn(*mut *mut c_char, *mut usize, c_int, *mut libc::FILE) -> isize;
    fclose: unsafe extern "C" fn(*mut libc::FILE) -> c_int;
    fwrite: unsafe extern "C" fn(*const c_void, usize, usize, *mut libc::FILE) -> usize;
    fwrite_unlocked: unsafe extern "C" fn(*const c_void, usize, usize, *mut libc::FILE) -> usize;
    fputs: unsafe extern "C" fn(*const c_char, *mut libc::FILE) -> c_int;
    fputs_unlocked: unsafe extern "C" fn(*const c_char, *mut libc::FILE) -> c_int;
    puts: unsafe extern "C" fn(*const c_char) -> c_int;
    fputc: unsafe extern "C" fn(c_int, *mut libc::FILE) -> c_int;
    putc: unsafe extern "C" fn(c_int, *mut libc::FILE) -> c_int;
    _IO_putc: unsafe extern "C" fn(c_int, *mut libc::FILE) -> c_int;
    putchar: unsafe extern "C" fn(c_int) -> c_int;
    fputc_unlocked: unsafe extern "C" fn(c_int, *mut libc::FILE) -> c_int;
    putc_unlocked: unsafe extern "C" fn(c_int, *mut libc::FILE) -> c_int;
    putchar_unlocked: unsafe extern "C" fn(c_int) -> c_int;
    __overflow: unsafe extern "C" fn(*mut libc::FILE, c_int) -> c_int;
    fflush: unsafe extern "C" fn(*mut libc::FILE) -> c_int;
    fflush_unlocked: unsafe extern "C" fn(*mut libc::FILE) -> c_int;
    close_range: unsafe extern "C" fn(c_uint, c_uint, c_int) -> c_int;
    closefrom: unsafe extern "C" fn(c_int);
    pthread_sigqueue: unsafe extern "C" fn(libc::pthread_t, c_int, libc::sigval) -> c_int;
    freopen: unsafe extern "C" fn(*const c_char, *const c_char, *mut libc::FILE) -> *mut libc::FILE;
    freopen64: unsafe extern "C" fn(*const c_char, *const c_char, *mut libc::FILE) -> *mut libc::FILE;
    epoll_pwait2: unsafe extern "C" fn(c_int, *mut libc::epoll_event, c_int, *const libc::timespec, *const libc::sigset_t) -> c_int;
    getaddrinfo: unsafe extern "C" fn(*const c_char, *const c_char, *const libc::addrinfo, *mut *mut libc::addrinfo) -> c_int;
    getnameinfo: unsafe extern "C" fn(*const libc::sockaddr, libc::socklen_t, *mut c_char, libc::socklen_t, *mut c_char, libc::socklen_t, c_int) -> c_int;
    gethostbyname: unsafe extern "C" fn(*const c_char) -> *mut libc::hostent;
    gethostbyname2: unsafe extern "C" fn(*const c_char, c_int) -> *mut libc::hostent;
    gethostbyaddr: unsafe extern "C" fn(*const c_void, libc::socklen_t, c_int) -> *mut libc::hostent;
    gethostbyname_r: unsafe extern "C" fn(*const c_char, *mut libc::hostent, *mut c_char, usize, *mut *mut libc::hostent, *mut c_int) -> c_int;
    gethostbyname2_r: unsafe extern "C" fn(*const c_char, c_int, *mut libc::hostent, *mut c_char, usize, *mut *mut libc::hostent, *mut c_int) -> c_int;
    gethostbyaddr_r: unsafe extern "C" fn(*const c_void, libc::socklen_t, c_int, *mut libc::hostent, *mut c_char, usize, *mut *mut libc::hostent, *mut c_int) -> c_int;
    res_query: unsafe extern "C" fn(*const c_char, c_int, c_int, *mut u8, c_int) -> c_int;
    res_search: unsafe extern "C" fn(*const c_char, c_int, c_int, *mut u8, c_int) -> c_int;
    res_querydomain: unsafe extern "C" fn(*const c_char, *const c_char, c_int, c_int, *mut u8, c_int) -> c_int;
    res_send: unsafe extern "C" fn(*const u8, c_int, *mut u8, c_int) -> c_int;
    res_nquery: unsafe extern "C" fn(*mut c_void, *const c_char, c_int, c_int, *mut u8, c_int) -> c_int;
    res_nsearch: unsafe extern "C" fn(*mut c_void, *const c_char, c_int, c_int, *mut u8, c_int) -> c_int;
    res_nquerydomain: unsafe extern "C" fn(*mut c_void, *const c_char, *const c_char, c_int, c_int, *mut u8, c_int) -> c_int;
    res_nsend: unsafe extern "C" fn(*mut c_void, *const u8, c_int, *mut u8, c_int) -> c_int;
    pthread_sigmask: unsafe extern "C" fn(c_int, *const libc::sigset_t, *mut libc::sigset_t) -> c_int;
    sigprocmask: unsafe extern "C" fn(c_int, *const libc::sigset_t, *mut libc::sigset_t) -> c_int;
    raise: unsafe extern "C" fn(c_int) -> c_int;
    kill: unsafe extern "C" fn(libc::pid_t, c_int) -> c_int;
    sigaction: unsafe extern "C" fn(c_int, *const libc::sigaction, *mut libc::sigaction) -> c_int;
    sigtimedwait: unsafe extern "C" fn(*const libc::sigset_t, *mut libc::siginfo_t, *const libc::timespec) -> c_int;
    sigwait: unsafe extern "C" fn(*const libc::sigset_t, *mut c_int) -> c_int;
    sigsuspend: unsafe extern "C" fn(*const libc::sigset_t) -> c_int;
    pause: unsafe extern "C" fn() -> c_int;
    sigpending: unsafe extern "C" fn(*mut libc::sigset_t) -> c_int;
    system: unsafe extern "C" fn(*const c_char) -> c_int;
    popen: unsafe extern "C" fn(*const c_char, *const c_char) -> *mut libc::FILE;
    pclose: unsafe extern "C" fn(*mut libc::FILE) -> c_int;
}
