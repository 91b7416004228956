//! Rust std sync stress under libgreen (all on syscall(SYS_futex)): Mutex, RwLock, Condvar,
//! Barrier, mpsc (bounded and unbounded), Once, OnceLock, atomics with park/unpark. The
//! checksums are deterministic, so native and green output must match exactly.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Barrier, Condvar, Mutex, Once, OnceLock, RwLock};
use std::thread;

static ONCE: Once = Once::new();
static ONCE_RUNS: AtomicU64 = AtomicU64::new(0);
static LOCK: OnceLock<Vec<u64>> = OnceLock::new();

fn main() {
    // Mutex counter with contention from 16 threads.
    let m = Arc::new(Mutex::new(0u64));
    let hs: Vec<_> = (0..16)
        .map(|i| {
            let m = m.clone();
            thread::spawn(move || {
                for k in 0..5000u64 {
                    *m.lock().unwrap() += i * k % 7;
                    if k % 100 == 0 {
                        thread::yield_now();
                    }
                }
            })
        })
        .collect();
    hs.into_iter().for_each(|h| h.join().unwrap());
    println!("mutex total {}", *m.lock().unwrap());

    // RwLock: writers add, readers check an invariant (a == b).
    let rw = Arc::new(RwLock::new((0u64, 0u64)));
    let bad = Arc::new(AtomicU64::new(0));
    let hs: Vec<_> = (0..12)
        .map(|i| {
            let (rw, bad) = (rw.clone(), bad.clone());
            thread::spawn(move || {
                for _ in 0..2000 {
                    if i % 3 == 0 {
                        let mut g = rw.write().unwrap();
                        g.0 += 1;
                        thread::yield_now();
                        g.1 += 1;
                    } else {
                        let g = rw.read().unwrap();
                        if g.0 != g.1 {
                            bad.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();
    hs.into_iter().for_each(|h| h.join().unwrap());
    println!("rwlock writes {}, torn reads {}", rw.read().unwrap().0, bad.load(Ordering::Relaxed));

    // Condvar-based countdown latch + Barrier rounds.
    let latch = Arc::new((Mutex::new(10u32), Condvar::new()));
    let barrier = Arc::new(Barrier::new(10));
    let hs: Vec<_> = (0..10)
        .map(|_| {
            let (latch, barrier) = (latch.clone(), barrier.clone());
            thread::spawn(move || {
                let mut leaders = 0;
                for _ in 0..100 {
                    if barrier.wait().is_leader() {
                        leaders += 1;
                    }
                }
                let (l, c) = &*latch;
                *l.lock().unwrap() -= 1;
                c.notify_all();
                leaders
            })
        })
        .collect();
    {
        let (l, c) = &*latch;
        let g = c.wait_while(l.lock().unwrap(), |n| *n > 0).unwrap();
        println!("latch reached {}", *g);
    }
    let leaders: u32 = hs.into_iter().map(|h| h.join().unwrap()).sum();
    println!("barrier leaders {leaders}");

    // Channels: bounded pipeline of 3 stages.
    let (tx1, rx1) = mpsc::sync_channel::<u64>(4);
    let (tx2, rx2) = mpsc::channel::<u64>();
    let producer = thread::spawn(move || (0..20000u64).for_each(|v| tx1.send(v).unwrap()));
    let stage = thread::spawn(move || rx1.iter().for_each(|v| tx2.send(v * 3 + 1).unwrap()));
    let sum: u64 = rx2.iter().sum();
    producer.join().unwrap();
    stage.join().unwrap();
    println!("pipeline sum {sum}");

    // Once and OnceLock from many threads.
    let hs: Vec<_> = (0..32)
        .map(|i| {
            thread::spawn(move || {
                ONCE.call_once(|| {
                    thread::sleep(std::time::Duration::from_millis(5));
                    ONCE_RUNS.fetch_add(1, Ordering::SeqCst);
                });
                LOCK.get_or_init(|| (0..10).collect()).iter().sum::<u64>() + i
            })
        })
        .collect();
    let total: u64 = hs.into_iter().map(|h| h.join().unwrap()).sum();
    println!("once runs {}, oncelock total {total}", ONCE_RUNS.load(Ordering::SeqCst));

    // park/unpark hand-off.
    let flag = Arc::new(AtomicU64::new(0));
    let f2 = flag.clone();
    let t = thread::spawn(move || {
        while f2.load(Ordering::Acquire) == 0 {
            thread::park();
        }
        f2.load(Ordering::Acquire)
    });
    thread::sleep(std::time::Duration::from_millis(10));
    flag.store(42, Ordering::Release);
    t.thread().unpark();
    println!("parked thread saw {}", t.join().unwrap());
}
