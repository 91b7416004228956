// A Java program on OpenJDK, unmodified: the JVM makes every thread (its own: GC, JIT compilers,
// the VM thread, signal dispatcher; and the program's) with pthread_create, parks them in
// pthread_cond_(timed)wait and futexes, and reads sockets with blocking calls. Under libgreen all
// of them are green threads on one carrier (hand-offs take over while a JIT compiler computes).
// Output is deterministic; tests/run.sh compares it with a native run.
import java.io.*;
import java.net.*;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;
import java.util.stream.IntStream;

public class JavaThreads {
    static long work(int seed) {
        long h = seed;
        for (int i = 0; i < 2_000_000; i++) h = h * 6364136223846793005L + 1442695040888963407L;
        return h;
    }

    public static void main(String[] args) throws Exception {
        // 1. A fixed pool computing; results combined in submission order.
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<Long>> fs = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            final int s = i;
            fs.add(pool.submit(() -> work(s)));
        }
        long x = 0;
        for (Future<Long> f : fs) x ^= f.get();
        System.out.println("pool: " + Long.toHexString(x));

        // 2. Producer and consumer on a monitor: synchronized, wait, notifyAll.
        final LinkedList<Integer> q = new LinkedList<>();
        final long[] sum = {0};
        Thread prod = new Thread(() -> {
            for (int i = 1; i <= 10000; i++)
                synchronized (q) {
                    while (q.size() >= 16) try { q.wait(); } catch (InterruptedException e) { return; }
                    q.add(i);
                    q.notifyAll();
                }
        });
        Thread cons = new Thread(() -> {
            for (int i = 1; i <= 10000; i++)
                synchronized (q) {
                    while (q.isEmpty()) try { q.wait(); } catch (InterruptedException e) { return; }
                    sum[0] += q.remove();
                    q.notifyAll();
                }
        });
        prod.start();
        cons.start();
        prod.join();
        cons.join();
        System.out.println("queue sum: " + sum[0]);

        // 3. 50 threads sleeping 100 ms at once, counted down on a latch.
        CountDownLatch latch = new CountDownLatch(50);
        AtomicInteger slept = new AtomicInteger();
        for (int i = 0; i < 50; i++)
            new Thread(() -> {
                try { Thread.sleep(100); } catch (InterruptedException e) { return; }
                slept.incrementAndGet();
                latch.countDown();
            }).start();
        long t0 = System.nanoTime();
        latch.await();
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.println("50 sleepers: " + slept.get() + (ms < 1000 ? " in under a second" : " in " + ms + " ms"));

        // 4. A thread-per-connection TCP echo server and 20 client threads, every byte checked.
        ServerSocket ss = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(() -> {
            try {
                for (int i = 0; i < 20; i++) {
                    Socket s = ss.accept();
                    new Thread(() -> {
                        try (s) {
                            InputStream in = s.getInputStream();
                            OutputStream out = s.getOutputStream();
                            byte[] b = new byte[4096];
                            int n;
                            while ((n = in.read(b)) > 0) out.write(b, 0, n);
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    }).start();
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        acceptor.start();
        ExecutorService clients = Executors.newFixedThreadPool(20);
        List<Future<Long>> cs = new ArrayList<>();
        for (int c = 0; c < 20; c++) {
            final int id = c;
            cs.add(clients.submit(() -> {
                try (Socket s = new Socket(InetAddress.getLoopbackAddress(), ss.getLocalPort())) {
                    byte[] msg = new byte[1000], back = new byte[1000];
                    Arrays.fill(msg, (byte) id);
                    long total = 0;
                    for (int r = 0; r < 200; r++) {
                        s.getOutputStream().write(msg);
                        int got = 0;
                        while (got < back.length) {
                            int n = s.getInputStream().read(back, got, back.length - got);
                            if (n < 0) throw new EOFException();
                            got += n;
                        }
                        if (!Arrays.equals(msg, back)) throw new IllegalStateException("echo differs");
                        total += got;
                    }
                    return total;
                }
            }));
        }
        long bytes = 0;
        for (Future<Long> f : cs) bytes += f.get();
        acceptor.join();
        ss.close();
        System.out.println("echo bytes: " + bytes);

        // 5. A parallel stream (the common ForkJoinPool) merging into a ConcurrentHashMap.
        ConcurrentHashMap<Integer, Integer> m = new ConcurrentHashMap<>();
        IntStream.range(0, 100000).parallel().forEach(i -> m.merge(i % 97, 1, Integer::sum));
        System.out.println("map: " + m.size() + " " + m.get(5));
        pool.shutdown();
        clients.shutdown();
        System.out.println("done");
    }
}
