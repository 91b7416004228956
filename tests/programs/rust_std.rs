//! Rust std threads under libgreen: spawn/Builder::name/join, thread::sleep, thread_local! with
//! destructors, thread::current().name(), Mutex/Condvar/RwLock/Barrier/mpsc/OnceLock (all on
//! syscall(SYS_futex)), panics in threads. Output is deterministic and must be identical natively.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier, Condvar, Mutex, OnceLock, RwLock};
use std::thread;
use std::time::{Duration, Instant};

static DROPS: AtomicUsize = AtomicUsize::new(0);
static INIT_CALLS: AtomicUsize = AtomicUsize::new(0);
static CONFIG: OnceLock<u64> = OnceLock::new();

struct CountOnDrop(Cell<u64>);
impl Drop for CountOnDrop {
    fn drop(&mut self) {
        DROPS.fetch_add(1, Ordering::SeqCst);
    }
}

thread_local! {
    static LOCAL: CountOnDrop = const { CountOnDrop(Cell::new(0)) };
}

fn main() {
    // Named threads, thread-locals, sleeps that overlap.
    let start = Instant::now();
    let (tx, rx) = mpsc::channel();
    let mut handles = Vec::new();
    for i in 0..8u64 {
        let tx = tx.clone();
        handles.push(
            thread::Builder::new()
                .name(format!("worker-{i}"))
                .spawn(move || {
                    LOCAL.with(|l| l.0.set(i * 100));
                    thread::sleep(Duration::from_millis(50 + 10 * (i % 3)));
                    let name = thread::current().name().unwrap().to_string();
                    let v = LOCAL.with(|l| l.0.get());
                    let cfg = *CONFIG.get_or_init(|| {
                        INIT_CALLS.fetch_add(1, Ordering::SeqCst);
                        thread::sleep(Duration::from_millis(5));
                        7
                    });
                    tx.send((i, name, v, cfg)).unwrap();
                    i * 2
                })
                .unwrap(),
        );
    }
    drop(tx);
    let mut got: Vec<_> = rx.iter().collect();
    got.sort();
    for (i, name, v, cfg) in &got {
        println!("thread {i}: name {name}, thread_local {v}, config {cfg}");
    }
    let rets: Vec<u64> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    println!("returns {rets:?}");
    println!("overlapping sleeps took < 500ms: {}", start.elapsed() < Duration::from_millis(500));
    println!("OnceLock init calls: {}", INIT_CALLS.load(Ordering::SeqCst));
    println!("thread_local destructors: {}", DROPS.load(Ordering::SeqCst));

    // Mutex + Condvar bounded queue, checksum.
    let pair = Arc::new((Mutex::new(Vec::<u64>::new()), Condvar::new(), Condvar::new()));
    let mut producers = Vec::new();
    for p in 0..4u64 {
        let pair = pair.clone();
        producers.push(thread::spawn(move || {
            for k in 0..2500u64 {
                let (m, not_full, not_empty) = &*pair;
                let mut q = m.lock().unwrap();
                while q.len() >= 8 {
                    q = not_full.wait(q).unwrap();
                }
                q.push(p * 10_000 + k);
                not_empty.notify_one();
            }
        }));
    }
    let mut consumers = Vec::new();
    for _ in 0..4 {
        let pair = pair.clone();
        consumers.push(thread::spawn(move || {
            let (m, not_full, not_empty) = &*pair;
            let mut sum = 0u64;
            for _ in 0..2500 {
                let mut q = m.lock().unwrap();
                while q.is_empty() {
                    let (g, _timeout) = not_empty.wait_timeout(q, Duration::from_millis(100)).unwrap();
                    q = g;
                }
                sum += q.pop().unwrap();
                not_full.notify_one();
            }
            sum
        }));
    }
    for p in producers {
        p.join().unwrap();
    }
    let total: u64 = consumers.into_iter().map(|c| c.join().unwrap()).sum();
    println!("queue checksum {total}");

    // RwLock + Barrier.
    let data = Arc::new(RwLock::new(0u64));
    let barrier = Arc::new(Barrier::new(6));
    let mut hs = Vec::new();
    for i in 0..6u64 {
        let (data, barrier) = (data.clone(), barrier.clone());
        hs.push(thread::spawn(move || {
            let leader = barrier.wait().is_leader();
            for _ in 0..100 {
                *data.write().unwrap() += i;
                let _r = *data.read().unwrap();
            }
            barrier.wait();
            leader
        }));
    }
    let leaders = hs.into_iter().map(|h| h.join().unwrap()).filter(|&l| l).count();
    println!("rwlock total {}, barrier leaders {leaders}", *data.read().unwrap());

    // A panicking thread: join returns Err.
    let r = thread::Builder::new().name("panicker".into()).spawn(|| {
        std::panic::set_hook(Box::new(|_| {}));
        panic!("expected");
    });
    println!("panicking thread joined with error: {}", r.unwrap().join().is_err());
    let _ = std::panic::take_hook();

    // Many short threads.
    let mut sum = 0u64;
    for i in 0..2000u64 {
        sum += thread::spawn(move || i + 1).join().unwrap();
    }
    println!("2000 spawn+join sum {sum}");
    // Scoped threads.
    let mut v = vec![1u64, 2, 3, 4];
    thread::scope(|s| {
        for x in v.iter_mut() {
            s.spawn(move || *x *= 10);
        }
    });
    println!("scoped {v:?}");
}
