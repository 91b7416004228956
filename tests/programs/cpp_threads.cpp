// C++ std::thread, std::mutex, std::condition_variable (wait, wait_for), thread_local with a
// destructor, std::this_thread::sleep_for, exceptions inside threads, and pthread_exit running
// the destructors of the exiting thread's locals.
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

static std::atomic<int> tl_dtors{0}, local_dtors{0};

struct Tracked {
    int value = 0;
    ~Tracked() { tl_dtors++; }
};
thread_local Tracked tracked;

struct Local {
    ~Local() { local_dtors++; }
};

__attribute__((noinline)) static void exit_from_depth(int depth)
{
    Local l;
    if (depth == 0)
        pthread_exit(reinterpret_cast<void *>(99));
    if (depth > 0)
        exit_from_depth(depth - 1);
}

int main()
{
    std::mutex m;
    std::condition_variable cv;
    int turn = 0;
    std::vector<int> order;
    std::vector<std::thread> ts;
    for (int i = 0; i < 6; i++) {
        ts.emplace_back([&, i] {
            tracked.value = i;
            std::this_thread::sleep_for(std::chrono::milliseconds(5 * (6 - i)));
            std::unique_lock<std::mutex> lk(m);
            cv.wait(lk, [&] { return turn == i; });
            order.push_back(tracked.value);
            turn++;
            cv.notify_all();
        });
    }
    for (auto &t : ts) t.join();
    std::printf("order:");
    for (int v : order) std::printf(" %d", v);
    std::printf("\nthread_local destructors: %d\n", tl_dtors.load());

    // wait_for times out (pthread_cond_clockwait on CLOCK_MONOTONIC), then is notified.
    {
        std::unique_lock<std::mutex> lk(m);
        auto t0 = std::chrono::steady_clock::now();
        bool ok = cv.wait_for(lk, std::chrono::milliseconds(30), [] { return false; });
        auto waited = std::chrono::steady_clock::now() - t0;
        std::printf("wait_for timed out: %s, waited >= 30ms: %s\n", ok ? "no" : "yes",
                    waited >= std::chrono::milliseconds(30) ? "yes" : "no");
        bool flag = false;
        std::thread n([&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            std::lock_guard<std::mutex> g(m);
            flag = true;
            cv.notify_one();
        });
        bool got = cv.wait_for(lk, std::chrono::seconds(5), [&] { return flag; });
        lk.unlock();
        n.join();
        std::printf("wait_for notified: %s\n", got ? "yes" : "no");
    }

    // Exceptions thrown and caught inside threads.
    std::atomic<int> caught{0};
    std::vector<std::thread> ex;
    for (int i = 0; i < 4; i++)
        ex.emplace_back([&, i] {
            try {
                std::this_thread::sleep_for(std::chrono::milliseconds(i));
                throw std::runtime_error("boom " + std::to_string(i));
            } catch (const std::exception &e) {
                caught++;
            }
        });
    for (auto &t : ex) t.join();
    std::printf("exceptions caught: %d\n", caught.load());

    // pthread_exit from depth 3 runs the destructors of every frame's locals.
    pthread_t pt;
    pthread_create(&pt, nullptr, [](void *) -> void * { exit_from_depth(3); return nullptr; }, nullptr);
    void *ret = nullptr;
    pthread_join(pt, &ret);
    std::printf("pthread_exit value %ld, local destructors %d\n", reinterpret_cast<long>(ret), local_dtors.load());

    // std::call_once with a throwing first attempt.
    std::once_flag once;
    int attempts = 0;
    std::vector<std::thread> oc;
    for (int i = 0; i < 3; i++)
        oc.emplace_back([&] {
            for (;;) {
                try {
                    std::call_once(once, [&] {
                        if (++attempts == 1) throw std::runtime_error("first attempt fails");
                    });
                    return;
                } catch (const std::exception &) {
                }
            }
        });
    for (auto &t : oc) t.join();
    std::printf("call_once attempts: %d\n", attempts);
    return 0;
}
