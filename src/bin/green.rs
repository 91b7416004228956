//! `green [options] PROGRAM [ARGS…]`: runs an unmodified dynamic program with libgreen.so
//! preloaded (like torsocks or eatmydata). Options become `GREEN_*` variables; a bad option or
//! value is a one-line error and exit code 2; a program that cannot be run gives 126/127 as
//! env(1) does.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{exit, Command};

use green_rt::config::OPTIONS;

fn usage() -> String {
    let mut s = String::from(
        "usage: green [options] [--] PROGRAM [ARGS...]\n\
         Run PROGRAM with libgreen.so preloaded: its pthreads become green threads on one OS thread.\n\n\
         options:\n",
    );
    for o in OPTIONS {
        let flag = if o.takes_value { format!("{} VALUE", o.flag) } else { o.flag.to_string() };
        s += &format!("  {flag:<20} {} (env {}, default {})\n", o.help, o.env, o.default);
    }
    s += "  -h, --help           this text\n\n\
          The library is found at $GREEN_LIBRARY, next to this program, or in ../lib/ beside it.\n";
    s
}

fn fail(msg: &str) -> ! {
    eprintln!("green: {msg}");
    exit(2);
}

fn find_library() -> PathBuf {
    if let Some(p) = std::env::var_os("GREEN_LIBRARY") {
        let p = PathBuf::from(p);
        if p.is_file() {
            return p;
        }
        fail(&format!("GREEN_LIBRARY={} does not exist", p.display()));
    }
    let exe = std::env::current_exe().unwrap_or_else(|e| fail(&format!("cannot locate myself: {e}")));
    let dir = exe.parent().unwrap_or(Path::new("/"));
    for cand in [dir.join("libgreen.so"), dir.join("../lib/libgreen.so")] {
        if cand.is_file() {
            return cand.canonicalize().unwrap_or(cand);
        }
    }
    fail(&format!("libgreen.so not found next to {} (set GREEN_LIBRARY)", exe.display()));
}

fn main() {
    let mut args = std::env::args_os().skip(1).peekable();
    let mut env: Vec<(&'static str, String)> = Vec::new();
    while let Some(a) = args.peek() {
        let Some(s) = a.to_str() else { break };
        if s == "--" {
            args.next();
            break;
        }
        if s == "-h" || s == "--help" {
            print!("{}", usage());
            exit(0);
        }
        if !s.starts_with('-') {
            break;
        }
        let (name, inline) = match s.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (s.to_string(), None),
        };
        let Some(opt) = OPTIONS.iter().find(|o| o.flag == name) else {
            fail(&format!("unknown option '{name}' (see green --help)"));
        };
        args.next();
        let value = if opt.takes_value {
            match inline {
                Some(v) => v,
                None => match args.next().and_then(|v| v.into_string().ok()) {
                    Some(v) => v,
                    None => fail(&format!("{} needs a value", opt.flag)),
                },
            }
        } else {
            inline.unwrap_or_else(|| "1".to_string())
        };
        if let Err(e) = (opt.check)(&value) {
            fail(&format!("{}: {e}", opt.flag));
        }
        env.push((opt.env, value));
    }
    let Some(program) = args.next() else {
        fail("no program given (see green --help)");
    };
    // Options already in the environment are checked too, so the error comes from here, once.
    for o in OPTIONS {
        if let Ok(v) = std::env::var(o.env) {
            if !env.iter().any(|(k, _)| *k == o.env) {
                if let Err(e) = (o.check)(&v) {
                    fail(&format!("{}: {e}", o.env));
                }
            }
        }
    }
    let lib = find_library();
    let mut preload = OsString::from(lib.as_os_str());
    if let Some(old) = std::env::var_os("LD_PRELOAD").filter(|v| !v.is_empty()) {
        preload.push(":");
        preload.push(old);
    }
    let mut cmd = Command::new(&program);
    cmd.args(args).env("LD_PRELOAD", preload);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let err = cmd.exec();
    eprintln!("green: cannot run {}: {err}", program.to_string_lossy());
    exit(if err.kind() == std::io::ErrorKind::NotFound { 127 } else { 126 });
}
