//! `GREEN_*` configuration: one table of options shared by the runtime (which reads the
//! environment at start-up) and the `green` launcher (which validates flags and sets the
//! environment), so both give the same one-line error for a bad value.

/// One configuration option.
pub struct OptionSpec {
    /// Environment variable.
    pub env: &'static str,
    /// Launcher flag (`--stack-size`).
    pub flag: &'static str,
    /// Whether the flag takes a value (`--stack-size 1M`) or is a switch (`--stats`).
    pub takes_value: bool,
    pub default: &'static str,
    pub help: &'static str,
    /// Validates a value, returning the error text for a bad one.
    pub check: fn(&str) -> Result<(), String>,
}

/// Smallest stack we hand out: glibc's PTHREAD_STACK_MIN is 16 KiB.
pub const MIN_STACK: usize = 16 * 1024;
/// Largest stack GREEN_STACK_SIZE may ask for.
pub const MAX_STACK: usize = 1 << 30;
/// Default stack of a green thread whose attributes do not set one. Stacks are reserved with
/// MAP_NORESERVE and touched lazily, so this is address space, not memory; 256 KiB keeps page
/// tables small at 100k+ threads while leaving glibc's 64 KiB alloca cut-off room.
pub const DEFAULT_STACK: usize = 256 * 1024;

pub static OPTIONS: &[OptionSpec] = &[
    OptionSpec {
        env: "GREEN_STACK_SIZE",
        flag: "--stack-size",
        takes_value: true,
        default: "256K",
        help: "stack of a green thread whose attributes set none (bytes, or with K/M/G); \
               pthread_attr_setstacksize still wins",
        check: |v| parse_size(v).map(|_| ()),
    },
    OptionSpec {
        env: "GREEN_DEBUG",
        flag: "--debug",
        takes_value: false,
        default: "0",
        help: "1: print runtime decisions (start-up, fallbacks) to stderr",
        check: |v| parse_bool(v).map(|_| ()),
    },
    OptionSpec {
        env: "GREEN_DEADLOCK",
        flag: "--deadlock",
        takes_value: true,
        default: "1",
        help: "1: when every green thread waits on something nothing can complete, print what each waits on \
               and abort; 0: wait forever (for programs woken only by signal handlers)",
        check: |v| parse_bool(v).map(|_| ()),
    },
    OptionSpec {
        env: "GREEN_OFFLOAD_THREADS",
        flag: "--offload-threads",
        takes_value: true,
        default: "4",
        help: "most OS threads of the offload pool (fsync family, file reads that miss the page cache, \
               DNS); started lazily, idle ones exit after 2 s (1..64); waits for locks, System V IPC \
               and FIFO opens get workers beyond it",
        check: |v| parse_threads(v).map(|_| ()),
    },
    OptionSpec {
        env: "GREEN_STATS",
        flag: "--stats",
        takes_value: false,
        default: "0",
        help: "1: print runtime counters (threads, switches, parks per reason, epoll waits, longest hub stall) \
               to stderr at exit and on SIGUSR2; an absolute path (--stats=/tmp/s): append them to that file \
               instead, one line per process",
        check: |v| parse_stats(v).map(|_| ()),
    },
    OptionSpec {
        env: "GREEN_BLOCK_WARN_MS",
        flag: "--block-warn-ms",
        takes_value: true,
        default: "100",
        help: "warn (once per episode) when one green thread keeps the hub from switching this long while \
               others are ready, naming it and its call; 0: no watchdog thread",
        check: |v| parse_ms(v).map(|_| ()),
    },
    OptionSpec {
        env: "GREEN_HUBS",
        flag: "--hubs",
        takes_value: true,
        default: "1",
        help: "carrier OS threads running green threads in parallel (1..=256, or auto: the CPUs the process \
               may use); 1 keeps the program on one OS thread",
        check: |v| parse_hubs(v).map(|_| ()),
    },
    OptionSpec {
        env: "GREEN_HANDOFF_MS",
        flag: "--handoff-ms",
        takes_value: true,
        default: "10",
        help: "when no carrier has switched for this long while green threads are ready (a call that cannot \
               be made cooperative, or a thread computing), start or wake a spare carrier to run them; \
               0: never hand off",
        check: |v| parse_ms(v).map(|_| ()),
    },
];

/// Largest GREEN_HUBS.
pub const MAX_HUBS: usize = 256;

/// Parses GREEN_HUBS: 1..=MAX_HUBS, or `auto` (0 here: resolved at start-up from the affinity
/// mask).
pub fn parse_hubs(v: &str) -> Result<usize, String> {
    if v.trim() == "auto" {
        return Ok(0);
    }
    match v.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_HUBS).contains(&n) => Ok(n),
        _ => Err(format!("'{v}' is not a number of carriers from 1 to {MAX_HUBS}, or auto")),
    }
}

/// Where GREEN_STATS sends the counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatsTo {
    Off,
    Stderr,
    /// Appended to this file (absolute path), one line per process: forked children that share
    /// the parent's stderr with a test harness, or whose stderr is closed, still report.
    File(&'static str),
}

/// Parses GREEN_STATS: a boolean, or an absolute path.
pub fn parse_stats(v: &str) -> Result<StatsTo, String> {
    if v.starts_with('/') {
        if v.contains('\0') || v.len() >= 4096 {
            return Err(format!("'{v}' is not a usable path"));
        }
        return Ok(StatsTo::File(Box::leak(v.to_string().into_boxed_str())));
    }
    match parse_bool(v) {
        Ok(true) => Ok(StatsTo::Stderr),
        Ok(false) => Ok(StatsTo::Off),
        Err(_) => Err(format!("'{v}' is not 0 or 1 (or an absolute file path)")),
    }
}

/// Largest GREEN_BLOCK_WARN_MS: one hour.
pub const MAX_WARN_MS: u64 = 3_600_000;

/// Parses a non-negative number of milliseconds (at most an hour).
pub fn parse_ms(v: &str) -> Result<u64, String> {
    let n: u64 = v.trim().parse().map_err(|_| format!("'{v}' is not a number of milliseconds"))?;
    if n > MAX_WARN_MS {
        return Err(format!("'{v}' is above {MAX_WARN_MS} (one hour)"));
    }
    Ok(n)
}

/// Parses `4096`, `64K`, `8M`, `1G` (binary multiples) into a stack size within bounds.
pub fn parse_size(v: &str) -> Result<usize, String> {
    let t = v.trim();
    let (digits, mult) = match t.as_bytes().last() {
        Some(b'k' | b'K') => (&t[..t.len() - 1], 1024usize),
        Some(b'm' | b'M') => (&t[..t.len() - 1], 1024 * 1024),
        Some(b'g' | b'G') => (&t[..t.len() - 1], 1024 * 1024 * 1024),
        _ => (t, 1),
    };
    let n: usize = digits
        .parse()
        .map_err(|_| format!("'{v}' is not a size (examples: 65536, 256K, 8M)"))?;
    let bytes = n.checked_mul(mult).ok_or_else(|| format!("'{v}' is too large"))?;
    if !(MIN_STACK..=MAX_STACK).contains(&bytes) {
        return Err(format!("'{v}' is outside {}K..{}M", MIN_STACK / 1024, MAX_STACK >> 20));
    }
    Ok(bytes)
}

/// Parses a GREEN_OFFLOAD_THREADS value: 1..=offload::MAX_THREADS.
pub fn parse_threads(v: &str) -> Result<usize, String> {
    let n: usize = v.trim().parse().map_err(|_| format!("'{v}' is not a number of threads"))?;
    if !(1..=crate::offload::MAX_THREADS).contains(&n) {
        return Err(format!("'{v}' is outside 1..{}", crate::offload::MAX_THREADS));
    }
    Ok(n)
}

/// Parses `0`/`1` (also `yes`/`no`, `true`/`false`, `on`/`off`).
pub fn parse_bool(v: &str) -> Result<bool, String> {
    match v.trim() {
        "1" | "yes" | "true" | "on" => Ok(true),
        "0" | "no" | "false" | "off" | "" => Ok(false),
        _ => Err(format!("'{v}' is not 0 or 1")),
    }
}

/// The runtime's settings, read once at start-up.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    pub stack_size: usize,
    pub debug: bool,
    pub stats: StatsTo,
    pub deadlock_check: bool,
    pub offload_threads: usize,
    /// GREEN_BLOCK_WARN_MS (0: no watchdog).
    pub block_warn_ms: u64,
    /// GREEN_HUBS (0: auto).
    pub hubs: usize,
    /// GREEN_HANDOFF_MS (0: no hand-off).
    pub handoff_ms: u64,
}

impl Config {
    pub const DEFAULT: Config = Config {
        stack_size: DEFAULT_STACK,
        debug: false,
        stats: StatsTo::Off,
        deadlock_check: true,
        offload_threads: crate::offload::DEFAULT_THREADS,
        block_warn_ms: 100,
        hubs: 1,
        handoff_ms: 10,
    };

    /// Builds the configuration from a variable lookup (the environment, in production).
    /// The error is one line naming the variable.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, String> {
        let mut c = Config::DEFAULT;
        for opt in OPTIONS {
            let Some(v) = get(opt.env) else { continue };
            (opt.check)(&v).map_err(|e| format!("{}: {e}", opt.env))?;
            match opt.env {
                "GREEN_STACK_SIZE" => c.stack_size = parse_size(&v).expect("checked"),
                "GREEN_DEBUG" => c.debug = parse_bool(&v).expect("checked"),
                "GREEN_STATS" => c.stats = parse_stats(&v).expect("checked"),
                "GREEN_BLOCK_WARN_MS" => c.block_warn_ms = parse_ms(&v).expect("checked"),
                "GREEN_DEADLOCK" => c.deadlock_check = parse_bool(&v).expect("checked"),
                "GREEN_OFFLOAD_THREADS" => c.offload_threads = parse_threads(&v).expect("checked"),
                "GREEN_HUBS" => c.hubs = parse_hubs(&v).expect("checked"),
                "GREEN_HANDOFF_MS" => c.handoff_ms = parse_ms(&v).expect("checked"),
                _ => unreachable!("every option is applied"),
            }
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64K").unwrap(), 65536);
        assert_eq!(parse_size("8M").unwrap(), 8 << 20);
        assert_eq!(parse_size("16384").unwrap(), 16384);
        assert!(parse_size("4K").is_err());
        assert!(parse_size("2G").is_err());
        assert!(parse_size("abc").is_err());
        assert!(parse_size("").is_err());
    }

    #[test]
    fn lookup_errors_name_the_variable() {
        let e = Config::from_lookup(|k| (k == "GREEN_STATS").then(|| "maybe".to_string())).unwrap_err();
        assert!(e.starts_with("GREEN_STATS: "), "{e}");
        let c = Config::from_lookup(|k| (k == "GREEN_STACK_SIZE").then(|| "1M".to_string())).unwrap();
        assert_eq!(c.stack_size, 1 << 20);
        let e = Config::from_lookup(|k| (k == "GREEN_OFFLOAD_THREADS").then(|| "0".to_string())).unwrap_err();
        assert!(e.starts_with("GREEN_OFFLOAD_THREADS: "), "{e}");
        let c = Config::from_lookup(|k| (k == "GREEN_OFFLOAD_THREADS").then(|| "8".to_string())).unwrap();
        assert_eq!(c.offload_threads, 8);
    }

    #[test]
    fn stats_destinations() {
        assert_eq!(parse_stats("1").unwrap(), StatsTo::Stderr);
        assert_eq!(parse_stats("0").unwrap(), StatsTo::Off);
        assert_eq!(parse_stats("/tmp/s").unwrap(), StatsTo::File("/tmp/s"));
        assert!(parse_stats("stats.txt").unwrap_err().contains("is not 0 or 1"));
    }

    #[test]
    fn warn_ms() {
        assert_eq!(parse_ms("0").unwrap(), 0);
        assert_eq!(parse_ms("250").unwrap(), 250);
        assert!(parse_ms("-1").is_err());
        assert!(parse_ms("1s").is_err());
        assert!(parse_ms("99999999").is_err());
        assert_eq!(parse_hubs("auto").unwrap(), 0);
        assert_eq!(parse_hubs("4").unwrap(), 4);
        assert!(parse_hubs("0").is_err() && parse_hubs("257").is_err() && parse_hubs("x").is_err());
        let c = Config::from_lookup(|k| (k == "GREEN_BLOCK_WARN_MS").then(|| "x".to_string())).unwrap_err();
        assert!(c.starts_with("GREEN_BLOCK_WARN_MS: "), "{c}");
    }
}
