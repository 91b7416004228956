# Ruby (CRuby 3.1), unmodified: each Thread is a pthread (reused from a cache), the GVL a mutex
# and condition variables, with a timer thread that asks the running thread to yield. Under
# libgreen all of them are green threads. Output is deterministic; tests/run.sh compares it
# with a native run.
require 'socket'

# Producers and consumers on a Queue, the sum kept under a Mutex.
q = Queue.new
m = Mutex.new
sum = 0
producers = 4.times.map { Thread.new { 1000.times { |i| q << i } } }
consumers = 4.times.map { Thread.new { 1000.times { v = q.pop; m.synchronize { sum += v } } } }
(producers + consumers).each(&:join)
puts "queue sum #{sum}"

# 20 threads sleeping 100 ms at once.
t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
20.times.map { Thread.new { sleep 0.1 } }.each(&:join)
took = Process.clock_gettime(Process::CLOCK_MONOTONIC) - t0
puts "20 sleepers #{took < 1 ? 'in under a second' : "in #{took} s"}"

# A thread-per-connection TCP echo server and 10 client threads, every byte checked.
srv = TCPServer.new('127.0.0.1', 0)
port = srv.addr[1]
acceptor = Thread.new do
  10.times.map do
    Thread.new(srv.accept) do |s|
      while (d = (s.readpartial(4096) rescue nil))
        s.write(d)
      end
      s.close
    end
  end.each(&:join)
end
echoed = 10.times.map do |i|
  Thread.new do
    s = TCPSocket.new('127.0.0.1', port)
    msg = (i.to_s * 500)[0, 500]
    n = 0
    100.times do
      s.write(msg)
      back = +''
      back << s.readpartial(500 - back.size) while back.size < 500
      raise 'echo differs' unless back == msg
      n += back.size
    end
    s.close
    n
  end
end.map(&:value).sum
acceptor.join
puts "echo bytes #{echoed}"

# A timed wait on a ConditionVariable that nobody signals.
cv = ConditionVariable.new
t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
m.synchronize { cv.wait(m, 0.05) }
waited = Process.clock_gettime(Process::CLOCK_MONOTONIC) - t0
puts "timed wait #{waited >= 0.049 ? 'ran its time' : 'ended early'}"

# Four threads computing (the timer thread makes them take turns on the GVL).
p 4.times.map { |k| Thread.new { (1..300_000).reduce(0) { |a, i| (a * 31 + i + k) % 1_000_003 } } }.map(&:value)
