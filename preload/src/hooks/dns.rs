//! The resolver: getaddrinfo, getnameinfo, the gethostby* family and the res_* query family run
//! on the offload pool for green callers (green_rt::dns), as the calling thread; other callers
//! get glibc's function directly. The `__res_*` names are the same functions under the names
//! programs built against glibc < 2.34 use.

use core::ffi::{c_char, c_int, c_void};

use crate::real;

macro_rules! resolver_hook {
    ($name:ident => $real:ident ( $($arg:ident : $ty:ty),* ) -> $ret:ty) => {
        #[no_mangle]
        pub unsafe extern "C" fn $name($($arg: $ty),*) -> $ret {
            // SAFETY: the caller's arguments, forwarded unchanged to glibc's function, which
            // runs while the caller waits (its buffers stay alive).
            green_rt::dns::call(|| unsafe { real::$real()($($arg),*) })
        }
    };
}

/// `name, alias => real(args) -> ret;`: hooks named `name` (and `alias`) calling glibc's `real`.
macro_rules! resolver_hooks {
    ($( $($name:ident),+ => $real:ident $args:tt -> $ret:ty ;)*) => {
        $( $( resolver_hook!($name => $real $args -> $ret); )+ )*
    };
}

type Statp = *mut c_void;

resolver_hooks! {
    getaddrinfo => getaddrinfo(node: *const c_char, service: *const c_char, hints: *const libc::addrinfo, res: *mut *mut libc::addrinfo) -> c_int;
    getnameinfo => getnameinfo(sa: *const libc::sockaddr, salen: libc::socklen_t, host: *mut c_char, hostlen: libc::socklen_t, serv: *mut c_char, servlen: libc::socklen_t, flags: c_int) -> c_int;
    gethostbyname => gethostbyname(name: *const c_char) -> *mut libc::hostent;
    gethostbyname2 => gethostbyname2(name: *const c_char, af: c_int) -> *mut libc::hostent;
    gethostbyaddr => gethostbyaddr(addr: *const c_void, len: libc::socklen_t, ty: c_int) -> *mut libc::hostent;
    gethostbyname_r => gethostbyname_r(name: *const c_char, ret: *mut libc::hostent, buf: *mut c_char, buflen: usize, result: *mut *mut libc::hostent, h_errnop: *mut c_int) -> c_int;
    gethostbyname2_r => gethostbyname2_r(name: *const c_char, af: c_int, ret: *mut libc::hostent, buf: *mut c_char, buflen: usize, result: *mut *mut libc::hostent, h_errnop: *mut c_int) -> c_int;
    gethostbyaddr_r => gethostbyaddr_r(addr: *const c_void, len: libc::socklen_t, ty: c_int, ret: *mut libc::hostent, buf: *mut c_char, buflen: usize, result: *mut *mut libc::hostent, h_errnop: *mut c_int) -> c_int;
    res_query, __res_query => res_query(dname: *const c_char, class: c_int, ty: c_int, answer: *mut u8, anslen: c_int) -> c_int;
    res_search, __res_search => res_search(dname: *const c_char, class: c_int, ty: c_int, answer: *mut u8, anslen: c_int) -> c_int;
    res_querydomain, __res_querydomain => res_querydomain(name: *const c_char, domain: *const c_char, class: c_int, ty: c_int, answer: *mut u8, anslen: c_int) -> c_int;
    res_send, __res_send => res_send(msg: *const u8, msglen: c_int, answer: *mut u8, anslen: c_int) -> c_int;
    res_nquery, __res_nquery => res_nquery(statp: Statp, dname: *const c_char, class: c_int, ty: c_int, answer: *mut u8, anslen: c_int) -> c_int;
    res_nsearch, __res_nsearch => res_nsearch(statp: Statp, dname: *const c_char, class: c_int, ty: c_int, answer: *mut u8, anslen: c_int) -> c_int;
    res_nquerydomain, __res_nquerydomain => res_nquerydomain(statp: Statp, name: *const c_char, domain: *const c_char, class: c_int, ty: c_int, answer: *mut u8, anslen: c_int) -> c_int;
    res_nsend, __res_nsend => res_nsend(statp: Statp, msg: *const u8, msglen: c_int, answer: *mut u8, anslen: c_int) -> c_int;
}
