// libstdc++'s sync types under libgreen: std::shared_mutex (pthread_rwlock), std::counting_semaphore
// and std::latch/barrier (futex waits through syscall), std::timed_mutex, std::recursive_mutex.
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <latch>
#include <mutex>
#include <semaphore>
#include <shared_mutex>
#include <thread>
#include <vector>

int main()
{
    std::shared_mutex sm;
    long a = 0, b = 0;
    std::atomic<int> torn{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < 8; i++)
        ts.emplace_back([&, i] {
            for (int k = 0; k < 2000; k++) {
                if (i % 4 == 0) {
                    std::unique_lock<std::shared_mutex> g(sm);
                    a++;
                    std::this_thread::yield();
                    b++;
                } else {
                    std::shared_lock<std::shared_mutex> g(sm);
                    if (a != b) torn++;
                }
            }
        });
    for (auto &t : ts) t.join();
    std::printf("shared_mutex writes %ld, torn reads %d\n", a, torn.load());

    std::counting_semaphore<8> slots(3);
    std::atomic<int> inside{0}, max_inside{0};
    ts.clear();
    for (int i = 0; i < 12; i++)
        ts.emplace_back([&] {
            for (int k = 0; k < 20; k++) {
                slots.acquire();
                int n = ++inside;
                int m = max_inside.load();
                while (n > m && !max_inside.compare_exchange_weak(m, n)) {}
                std::this_thread::sleep_for(std::chrono::microseconds(200));
                --inside;
                slots.release();
            }
        });
    for (auto &t : ts) t.join();
    std::printf("counting_semaphore(3): at most %d inside\n", max_inside.load());

    std::latch done(6);
    std::barrier sync(6);
    std::atomic<int> phases{0};
    ts.clear();
    for (int i = 0; i < 6; i++)
        ts.emplace_back([&] {
            for (int r = 0; r < 50; r++) sync.arrive_and_wait();
            phases++;
            done.count_down();
        });
    done.wait();
    for (auto &t : ts) t.join();
    std::printf("latch released after %d threads, barrier rounds done\n", phases.load());

    std::timed_mutex tm;
    tm.lock();
    std::thread other([&] {
        bool got = tm.try_lock_for(std::chrono::milliseconds(20));
        std::printf("try_lock_for on a held timed_mutex: %s\n", got ? "got it" : "timed out");
    });
    other.join();
    tm.unlock();
    std::recursive_mutex rm;
    rm.lock();
    rm.lock();
    std::printf("recursive try_lock: %s\n", rm.try_lock() ? "yes" : "no");
    rm.unlock();
    rm.unlock();
    rm.unlock();
    return 0;
}
