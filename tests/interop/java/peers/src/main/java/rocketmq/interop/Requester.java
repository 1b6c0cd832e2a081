package rocketmq.interop;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.MessageQueueSelector;
import org.apache.rocketmq.client.producer.RequestCallback;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageQueue;

/**
 * Sends requests with {@code DefaultMQProducer.request} in each of its six forms and checks every reply.
 *
 * <pre>
 * Requester --namesrv 127.0.0.1:9876 --topic T
 *   [--forms all | plain,callback,selector,selector-callback,mq,mq-callback]   (default all)
 *   [--count 10] [--duration-ms 0]   per form: stop after count requests, or after the duration (0 = off)
 *   [--concurrency 1]                requests in flight at once
 *   [--timeout-ms 3000] [--body-size 64] [--body binary|text] [--expect reverse|echo|none]
 *   [--queue-id -1]                  mq forms: fixed queue id (default round-robin over the topic's queues)
 *   [--warmup 0]                     untimed, unreported requests (plain form) before the run
 *   [--warmup-ms 0]                  benchmarks: before the run, the first form at the run's concurrency for
 *                                    this long, unreported
 *   [--group G] [--tags T] [--quiet] [--run-id R]
 *   [--compress-type ZLIB|LZ4|ZSTD] [--compress-over 4096] [--compress-level 5]   requests (5.x only)
 * </pre>
 *
 * <p>Stdout, one JSON object per line: {@code started}; per request {@code reply} or {@code error} (unless
 * {@code --quiet}); {@code summary}. Exit status 0 when every request got a matching reply, 1 otherwise.
 * With {@code --expect none} a request "succeeds" when it times out.
 */
public final class Requester {
  static final List<String> ALL_FORMS =
      Arrays.asList("plain", "callback", "selector", "selector-callback", "mq", "mq-callback");

  private final DefaultMQProducer producer;
  private final String topic;
  private final String tags;
  private final String run;
  private final String expect;
  private final int bodySize;
  private final boolean binary;
  private final long timeoutMs;
  private final boolean quiet;
  private final int fixedQueueId;
  private final AtomicLong seq = new AtomicLong();
  private final AtomicLong nullCallbacks = new AtomicLong();
  private final AtomicLong duplicateCompletions = new AtomicLong();
  /** Wall clock (epoch ms) of the first reply received, warm-up included; 0 until then. */
  private final AtomicLong firstReplyEpochMs = new AtomicLong();
  /** True during --warmup-ms: nothing is printed. */
  private volatile boolean warmingUp;
  private List<MessageQueue> queues;

  /** Per-form counters. */
  private static final class FormStats {
    final AtomicLong sent = new AtomicLong();
    final AtomicLong ok = new AtomicLong();
    final AtomicLong errors = new AtomicLong();
    final AtomicLong mismatches = new AtomicLong();
    final AtomicLong lost = new AtomicLong();
    final Map<String, AtomicLong> errorKinds = new ConcurrentHashMap<>();
    final Stats latency = new Stats();
    long elapsedNanos;
  }

  private Requester(DefaultMQProducer producer, Args a) {
    this.producer = producer;
    this.topic = a.required("topic");
    this.tags = a.str("tags", null);
    this.run = a.str("run-id", UUID.randomUUID().toString().substring(0, 8));
    this.expect = a.str("expect", "reverse");
    Bodies.checkMode(expect);
    this.bodySize = a.integer("body-size", 64);
    String kind = a.str("body", "binary");
    if (!kind.equals("binary") && !kind.equals("text")) throw new IllegalArgumentException("--body binary|text");
    this.binary = kind.equals("binary");
    this.timeoutMs = a.lng("timeout-ms", 3000);
    this.quiet = a.flag("quiet");
    this.fixedQueueId = a.integer("queue-id", -1);
  }

  public static void main(String[] argv) {
    Out.init();
    try {
      Args a = new Args(argv);
      String namesrv = a.required("namesrv");
      String group = a.str("group", "interop-requester-" + UUID.randomUUID().toString().substring(0, 8));
      String formsArg = a.str("forms", "all");
      List<String> forms = formsArg.equals("all") ? ALL_FORMS : Arrays.asList(formsArg.split(","));
      for (String f : forms) {
        if (!ALL_FORMS.contains(f)) throw new IllegalArgumentException("unknown form " + f);
      }
      long count = a.lng("count", 10);
      long durationMs = a.lng("duration-ms", 0);
      if (count <= 0 && durationMs <= 0) throw new IllegalArgumentException("--count or --duration-ms");
      int concurrency = a.integer("concurrency", 1);
      if (concurrency < 1) throw new IllegalArgumentException("--concurrency >= 1");
      int warmup = a.integer("warmup", 0);
      long warmupMs = a.lng("warmup-ms", 0);

      DefaultMQProducer producer = new DefaultMQProducer(group, Acl.hook(a));
      producer.setNamesrvAddr(namesrv);
      Requester r = new Requester(producer, a);
      Compression.configure(producer, a.str("compress-type", null), a.integer("compress-over", -1),
          a.integer("compress-level", -1));
      a.rejectUnknown();
      producer.start();
      long startupMs = System.currentTimeMillis() - ManagementFactory.getRuntimeMXBean().getStartTime();
      Out.emit(Json.obj().put("event", "started").put("clientId", producer.buildMQClientId())
          .put("group", group).put("run", r.run).put("startupMs", startupMs));

      for (int i = 0; i < warmup; i++) {
        try {
          producer.request(r.message(r.seq.incrementAndGet(), "warmup"), r.timeoutMs);
        } catch (Exception e) {
          // Warm-up failures are not reported; the run reports its own.
        }
      }

      if (warmupMs > 0) {
        r.warmingUp = true;
        r.runForm(forms.get(0), Long.MAX_VALUE, warmupMs, concurrency);
        r.warmingUp = false;
      }

      Map<String, FormStats> results = new LinkedHashMap<>();
      long cpu0 = processCpuNanos();
      long t0 = System.nanoTime();
      for (String form : forms) {
        results.put(form, r.runForm(form, count > 0 ? count : Long.MAX_VALUE, durationMs, concurrency));
      }
      long elapsed = System.nanoTime() - t0;
      long runCpu = cpu0 >= 0 ? processCpuNanos() - cpu0 : -1;
      boolean allOk = r.summary(results, elapsed, startupMs, runCpu);
      producer.shutdown();
      System.exit(allOk ? 0 : 1);
    } catch (Throwable t) {
      Out.fatal(t);
    }
  }

  /** CPU time (all threads) of this process so far, or -1. */
  static long processCpuNanos() {
    java.lang.management.OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof com.sun.management.OperatingSystemMXBean) {
      return ((com.sun.management.OperatingSystemMXBean) os).getProcessCpuTime();
    }
    return -1;
  }

  private Message message(long n, String form) {
    Message m = new Message(topic, tags, Bodies.make(run, n, bodySize, binary));
    m.setKeys(run + "-" + n);
    m.putUserProperty("interopForm", form);
    return m;
  }

  private MessageQueue pickQueue(long n) throws Exception {
    if (queues == null) {
      queues = new ArrayList<>(producer.fetchPublishMessageQueues(topic));
      if (queues.isEmpty()) throw new IllegalStateException("no queues for topic " + topic);
    }
    if (fixedQueueId >= 0) {
      for (MessageQueue q : queues) {
        if (q.getQueueId() == fixedQueueId) return q;
      }
      throw new IllegalStateException("topic " + topic + " has no queue " + fixedQueueId);
    }
    return queues.get((int) (n % queues.size()));
  }

  private static final MessageQueueSelector SELECTOR =
      (mqs, msg, arg) -> mqs.get((int) (((Long) arg) % mqs.size()));

  private FormStats runForm(String form, long count, long durationMs, int concurrency)
      throws Exception {
    FormStats st = new FormStats();
    long deadline = durationMs > 0 ? System.nanoTime() + durationMs * 1_000_000L : Long.MAX_VALUE;
    AtomicLong issued = new AtomicLong();
    long t0 = System.nanoTime();
    if (form.endsWith("callback")) {
      Semaphore permits = new Semaphore(concurrency);
      List<CountDownLatch> done = new ArrayList<>();
      while (issued.get() < count && System.nanoTime() < deadline) {
        permits.acquire();
        issued.incrementAndGet();
        CountDownLatch latch = new CountDownLatch(1);
        done.add(latch);
        issueAsync(form, st, () -> {
          permits.release();
          latch.countDown();
        });
      }
      long waitUntil = System.nanoTime() + (timeoutMs + 5000) * 1_000_000L;
      for (CountDownLatch l : done) {
        long left = waitUntil - System.nanoTime();
        if (!l.await(Math.max(0, left), TimeUnit.NANOSECONDS)) st.lost.incrementAndGet();
      }
    } else {
      Thread[] workers = new Thread[concurrency];
      for (int w = 0; w < concurrency; w++) {
        workers[w] = new Thread(() -> {
          while (issued.incrementAndGet() <= count && System.nanoTime() < deadline) {
            issueBlocking(form, st);
          }
        }, "requester-" + w);
        workers[w].start();
      }
      for (Thread t : workers) t.join();
    }
    st.elapsedNanos = System.nanoTime() - t0;
    return st;
  }

  private void issueBlocking(String form, FormStats st) {
    long n = seq.incrementAndGet();
    Message msg = message(n, form);
    st.sent.incrementAndGet();
    long start = System.nanoTime();
    try {
      Message reply;
      switch (form) {
        case "plain":
          reply = producer.request(msg, timeoutMs);
          break;
        case "selector":
          reply = producer.request(msg, SELECTOR, n, timeoutMs);
          break;
        case "mq":
          reply = producer.request(msg, pickQueue(n), timeoutMs);
          break;
        default:
          throw new IllegalArgumentException(form);
      }
      complete(form, st, n, msg, start, reply, null);
    } catch (Throwable t) {
      complete(form, st, n, msg, start, null, t);
    }
  }

  private void issueAsync(String form, FormStats st, Runnable onDone) {
    long n = seq.incrementAndGet();
    Message msg = message(n, form);
    st.sent.incrementAndGet();
    AtomicBoolean finished = new AtomicBoolean();
    long start = System.nanoTime();
    RequestCallback cb = new RequestCallback() {
      @Override
      public void onSuccess(Message reply) {
        if (reply == null) {
          // request(msg, callback, timeout) reports the successful send as onSuccess(null) first.
          nullCallbacks.incrementAndGet();
          return;
        }
        finish(reply, null);
      }

      @Override
      public void onException(Throwable e) {
        finish(null, e);
      }

      private void finish(Message reply, Throwable e) {
        if (!finished.compareAndSet(false, true)) {
          duplicateCompletions.incrementAndGet();
          return;
        }
        try {
          complete(form, st, n, msg, start, reply, e);
        } finally {
          onDone.run();
        }
      }
    };
    try {
      switch (form) {
        case "callback":
          producer.request(msg, cb, timeoutMs);
          break;
        case "selector-callback":
          producer.request(msg, SELECTOR, n, cb, timeoutMs);
          break;
        case "mq-callback":
          producer.request(msg, pickQueue(n), cb, timeoutMs);
          break;
        default:
          throw new IllegalArgumentException(form);
      }
    } catch (Throwable t) {
      cb.onException(t);
    }
  }

  private void complete(String form, FormStats st, long n, Message req, long startNanos, Message reply,
      Throwable err) {
    long micros = (System.nanoTime() - startNanos) / 1000L;
    if (reply != null) firstReplyEpochMs.compareAndSet(0, System.currentTimeMillis());
    if (warmingUp) return;
    String corr = req.getProperty("CORRELATION_ID");
    boolean ok;
    Json line = Json.obj();
    if (reply != null) {
      String replyCorr = reply.getProperty("CORRELATION_ID");
      boolean corrMatches = corr != null && corr.equals(replyCorr);
      boolean bodyMatches = !expect.equals("none") && Arrays.equals(reply.getBody(), Bodies.transform(expect, req.getBody()));
      ok = corrMatches && bodyMatches;
      if (ok) st.ok.incrementAndGet();
      else st.mismatches.incrementAndGet();
      line.put("event", "reply").put("form", form).put("seq", n).put("ok", ok)
          .put("latencyMs", micros / 1000.0).put("correlationId", corr)
          .put("correlationMatches", corrMatches).put("bodyMatches", bodyMatches)
          .put("replyTopic", reply.getTopic()).put("replyBodySize", reply.getBody() == null ? 0 : reply.getBody().length)
          .put("replyProperties", sortedProperties(reply));
    } else {
      String kind = err.getClass().getSimpleName();
      boolean expectedTimeout = expect.equals("none") && kind.equals("RequestTimeoutException");
      ok = expectedTimeout;
      if (ok) st.ok.incrementAndGet();
      else {
        st.errors.incrementAndGet();
        st.errorKinds.computeIfAbsent(kind, k -> new AtomicLong()).incrementAndGet();
      }
      line.put("event", "error").put("form", form).put("seq", n).put("ok", ok)
          .put("latencyMs", micros / 1000.0).put("correlationId", corr).put("error", Json.describe(err));
    }
    if (ok) st.latency.add(micros);
    if (!quiet) Out.emit(line);
  }

  static Json sortedProperties(Message m) {
    Json props = Json.obj();
    new java.util.TreeMap<>(m.getProperties()).forEach(props::put);
    return props;
  }

  private boolean summary(Map<String, FormStats> results, long elapsedNanos, long startupMs, long runCpuNanos) {
    Stats all = new Stats();
    long sent = 0;
    long ok = 0;
    long errors = 0;
    long mismatches = 0;
    long lost = 0;
    Map<String, Json> perForm = new LinkedHashMap<>();
    for (Map.Entry<String, FormStats> e : results.entrySet()) {
      FormStats s = e.getValue();
      sent += s.sent.get();
      ok += s.ok.get();
      errors += s.errors.get();
      mismatches += s.mismatches.get();
      lost += s.lost.get();
      Json kindsJson = Json.obj();
      s.errorKinds.forEach((k, v) -> kindsJson.put(k, v.get()));
      double secs = s.elapsedNanos / 1e9;
      perForm.put(e.getKey(), Json.obj().put("sent", s.sent.get()).put("ok", s.ok.get())
          .put("errors", s.errors.get()).put("mismatches", s.mismatches.get()).put("lost", s.lost.get())
          .put("errorKinds", kindsJson).put("elapsedMs", s.elapsedNanos / 1_000_000L)
          .put("throughputPerSec", secs > 0 ? s.ok.get() / secs : 0).put("latencyMs", s.latency.latencyMs()));
      s.latency.forEach(all::add);
    }
    double secs = elapsedNanos / 1e9;
    boolean allOk = ok == sent && sent > 0 && lost == 0 && duplicateCompletions.get() == 0;
    Json j = Json.obj().put("event", "summary").put("run", run).put("allOk", allOk).put("sent", sent)
        .put("ok", ok).put("errors", errors).put("mismatches", mismatches).put("lost", lost)
        .put("duplicateCompletions", duplicateCompletions.get()).put("nullCallbacks", nullCallbacks.get())
        .put("elapsedMs", elapsedNanos / 1_000_000L).put("throughputPerSec", secs > 0 ? ok / secs : 0)
        .put("latencyMs", all.latencyMs()).put("startupMs", startupMs).putObjects("forms", perForm)
        .put("jvmStartEpochMs", ManagementFactory.getRuntimeMXBean().getStartTime());
    if (firstReplyEpochMs.get() > 0) j.put("firstReplyEpochMs", firstReplyEpochMs.get());
    if (runCpuNanos >= 0) {
      j.put("runCpuMs", runCpuNanos / 1_000_000L);
      if (ok > 0) j.put("cpuMsPer1k", runCpuNanos / 1e6 / ok * 1000.0);
    }
    Out.emit(Stats.addProcess(j));
    return allOk;
  }
}
