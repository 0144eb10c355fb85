// l10_hop_costs: what one hop between two services costs, in one process (lesson 04's ring)
// and across processes (a core NATS subject, a JetStream stream with acknowledgements), and
// what a producer sees when a JetStream consumer is slower than it (backpressure).
//
// A benchmark, not a test: it starts its own nats-server on 127.0.0.1 in a temporary folder.
// Every row runs --repeats times, interleaved; it prints the median and the min-max.
//   round trip: one message there and one back, --round-trips times, one at a time; p50/p99
//               from a log-linear histogram (steady_clock, ~20 ns a reading).
//   one way:    --messages sent as fast as the sender may, counted by the receiver: msgs/s.
//   backpressure: a producer publishing --bp-messages to a stream whose one consumer takes
//               --bp-consumer-us per message, with max-ack-pending --bp-max-ack-pending:
//               (a) a stream with no limit, (b) a work-queue stream of at most --bp-max-msgs.
//
// The hops, as the services use them:
//   ring      - SingleProducerRing with the blocking wait strategy, thread to thread;
//   NATS core - NatsSender -> nats-server -> NatsReceiver (its pump thread and ring), two
//               connections in this process: the TCP loopback trip is the cross-process one;
//               "buffered" is libnats's default (its flusher writes ~1 ms after a publish),
//               "asap" writes each publish at once (what l10_services uses);
//   JetStream - js_Publish (returns when the stream has stored it) -> a pull consumer with
//               explicit acks, acking each message; the answer comes back on core NATS.
#include <nats/nats.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/harness/histogram.hpp"
#include "lessons/05-single-writer-engine/crash_recovery.hpp"
#include "lessons/common/cli.hpp"
#include "patterns/distributed/jetstream_log.hpp"
#include "patterns/distributed/nats_channel.hpp"
#include "patterns/distributed/nats_servers.hpp"
#include "patterns/single_writer/single_producer_ring.hpp"

namespace dist = cp::dist;
using Clock = std::chrono::steady_clock;
using Ring = cp::sw::SingleProducerRing<std::uint64_t, cp::sw::BlockingWaitStrategy>;

namespace {

struct NatsLibraryForThisProcess {
  NatsLibraryForThisProcess() { nats_Open(-1); }
  ~NatsLibraryForThisProcess() { nats_CloseAndWait(2000); }
};

struct Sample {
  double p50_us = 0, p99_us = 0, msgs_per_s = 0;
  std::uint64_t dropped = 0;
};

std::uint64_t ns_since(Clock::time_point t) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t).count());
}
double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

template <class R>
std::uint64_t take_one(R& r) {
  std::uint64_t v = 0;
  if (!r.wait_for_data()) throw std::runtime_error("channel ended early");
  r.consume_batch([&v](std::uint64_t& x, std::uint64_t) { v = x; }, 1);
  return v;
}

void fill(Sample& s, const cp::bench::LatencyHistogram& h) {
  s.p50_us = static_cast<double>(h.value_at_percentile(50)) / 1e3;
  s.p99_us = static_cast<double>(h.value_at_percentile(99)) / 1e3;
}

// ---- ring ----------------------------------------------------------------------------------
Sample ring_round_trip(int n) {
  Ring ping(64), pong(64);
  cp::bench::LatencyHistogram h;
  std::jthread echo([&] {
    while (ping.wait_for_data())
      ping.consume_batch([&](std::uint64_t& v, std::uint64_t) { pong.push(std::uint64_t{v}); }, 64);
    pong.close();
  });
  for (int i = 0; i < n; ++i) {
    const auto t = Clock::now();
    ping.push(static_cast<std::uint64_t>(i));
    take_one(pong);
    h.record(ns_since(t));
  }
  ping.close();
  Sample s;
  fill(s, h);
  return s;
}

Sample ring_one_way(std::uint64_t n) {
  Ring r(1024);
  std::uint64_t got = 0;
  const auto t = Clock::now();
  std::jthread consumer([&] {
    while (r.wait_for_data()) got += r.consume_batch([](std::uint64_t&, std::uint64_t) {}, 256);
  });
  for (std::uint64_t i = 0; i < n; ++i) r.push(std::uint64_t{i});
  r.close();
  consumer.join();
  Sample s;
  s.msgs_per_s = static_cast<double>(got) / seconds_since(t);
  return s;
}

// ---- core NATS, through the channel the services use -----------------------------------------
dist::NatsConnection connect(const std::string& url, bool asap) {
  return dist::NatsConnection(url, std::chrono::seconds(5), std::chrono::seconds(10), asap);
}

Sample nats_round_trip(const std::string& url, int n, int rep, bool asap) {
  dist::NatsConnection a = connect(url, asap), b = connect(url, asap);
  const std::string tag = std::to_string(rep) + (asap ? "a" : "b");
  const std::string ping_s = "hop.ping." + tag, pong_s = "hop.pong." + tag;
  dist::NatsReceiver<std::uint64_t> ping_in(b, ping_s, 64), pong_in(a, pong_s, 64);
  dist::subscribed(a);
  dist::subscribed(b);
  dist::NatsSender<std::uint64_t> ping_out(a, ping_s, 64), pong_out(b, pong_s, 64);
  std::jthread echo([&] {
    while (ping_in.wait_for_data())
      ping_in.consume_batch([&](std::uint64_t& v, std::uint64_t) { pong_out.push(std::uint64_t{v}); },
                            64);
    pong_out.close();
  });
  cp::bench::LatencyHistogram h;
  for (int i = 0; i < n; ++i) {
    const auto t = Clock::now();
    ping_out.push(static_cast<std::uint64_t>(i));
    take_one(pong_in);
    h.record(ns_since(t));
  }
  ping_out.close();
  while (pong_in.wait_for_data()) pong_in.consume_batch([](std::uint64_t&, std::uint64_t) {}, 64);
  Sample s;
  fill(s, h);
  return s;
}

Sample nats_one_way(const std::string& url, std::uint64_t n, int rep, bool asap) {
  dist::NatsConnection a = connect(url, asap), b = connect(url, asap);
  const std::string subj = "hop.stream." + std::to_string(rep) + (asap ? "a" : "b");
  dist::NatsReceiver<std::uint64_t> in(b, subj, 1024);
  dist::subscribed(b);
  dist::NatsSender<std::uint64_t> out(a, subj, 1024);
  std::uint64_t got = 0;
  const auto t = Clock::now();
  std::jthread consumer([&] {
    while (in.wait_for_data()) got += in.consume_batch([](std::uint64_t&, std::uint64_t) {}, 256);
  });
  for (std::uint64_t i = 0; i < n; ++i) out.push(std::uint64_t{i});
  out.close();
  consumer.join();
  Sample s;
  s.msgs_per_s = static_cast<double>(got) / seconds_since(t);
  s.dropped = in.dropped();  // core NATS: a receiver that falls behind loses messages
  return s;
}

// ---- JetStream with acknowledgements -------------------------------------------------------------
struct Stream {
  std::string name, subject;
};

Stream make_stream(const dist::NatsConnection& c, const std::string& name, bool work_queue,
                   std::int64_t max_msgs) {
  const std::string subj = "js." + name;
  const char* subjects[] = {subj.c_str()};
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = name.c_str();
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_FileStorage;
  if (work_queue) cfg.Retention = js_WorkQueuePolicy;
  if (max_msgs > 0) {
    cfg.MaxMsgs = max_msgs;
    cfg.Discard = js_DiscardNew;  // full: refuse the publish (the producer is told)
  }
  jsStreamInfo* info = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  const natsStatus s = js_AddStream(&info, c.js(), &cfg, nullptr, &err);
  if (info) jsStreamInfo_Destroy(info);
  dist::check(s, "create stream " + name, err);
  return {name, subj};
}

natsSubscription* pull_consumer(const dist::NatsConnection& c, const Stream& st,
                                std::int64_t max_ack_pending) {
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = st.name.c_str();
  so.Config.AckPolicy = js_AckExplicit;
  so.Config.MaxAckPending = max_ack_pending;
  natsSubscription* sub = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  const std::string durable = st.name + "_worker";
  dist::check(js_PullSubscribe(&sub, c.js(), st.subject.c_str(), durable.c_str(), nullptr, &so, &err),
              "pull consumer on " + st.name, err);
  return sub;
}

void destroy(natsSubscription* sub) {
  natsSubscription_Unsubscribe(sub);
  natsSubscription_Destroy(sub);
}

Sample js_round_trip(const std::string& url, int n, int rep) {
  dist::NatsConnection a = connect(url, true), b = connect(url, true);
  const Stream st = make_stream(a, "RT" + std::to_string(rep), false, 0);
  const std::string pong = "hop.jspong." + std::to_string(rep);
  dist::Subscription pong_in(a, pong);
  dist::subscribed(a);
  natsSubscription* sub = pull_consumer(b, st, 64);
  std::atomic<bool> stop{false};
  std::jthread echo([&] {
    // relaxed: only a "stop now" flag; the data travels through NATS.
    while (!stop.load(std::memory_order_relaxed)) {
      natsMsgList list{};
      jsErrCode err = static_cast<jsErrCode>(0);
      if (natsSubscription_Fetch(&list, sub, 1, 100, &err) != NATS_OK) continue;
      for (int i = 0; i < list.Count; ++i) {
        natsMsg_Ack(list.Msgs[i], nullptr);
        dist::publish(b, pong, std::string_view(natsMsg_GetData(list.Msgs[i]),
                                                static_cast<std::size_t>(natsMsg_GetDataLength(list.Msgs[i]))));
      }
      natsMsgList_Destroy(&list);
    }
  });
  cp::bench::LatencyHistogram h;
  for (int i = 0; i < n; ++i) {
    const std::uint64_t v = static_cast<std::uint64_t>(i);
    const auto t = Clock::now();
    jsPubAck* ack = nullptr;
    jsErrCode err = static_cast<jsErrCode>(0);
    dist::check(js_Publish(&ack, a.js(), st.subject.c_str(), &v, sizeof v, nullptr, &err),
                "js publish", err);
    jsPubAck_Destroy(ack);
    if (!pong_in.next(std::chrono::seconds(5))) throw std::runtime_error("no JetStream echo");
    h.record(ns_since(t));
  }
  stop.store(true, std::memory_order_relaxed);
  echo.join();
  destroy(sub);
  Sample s;
  fill(s, h);
  return s;
}

// One way: published asynchronously (acknowledgements collected as they come), consumed with acks.
Sample js_one_way(const std::string& url, std::uint64_t n, int rep) {
  dist::NatsConnection a(url), b(url);
  const Stream st = make_stream(a, "OW" + std::to_string(rep), false, 0);
  natsSubscription* sub = pull_consumer(b, st, 1024);
  std::uint64_t got = 0;
  const auto t = Clock::now();
  std::jthread consumer([&] {
    while (got < n) {
      natsMsgList list{};
      jsErrCode err = static_cast<jsErrCode>(0);
      if (natsSubscription_Fetch(&list, sub, 256, 1000, &err) != NATS_OK) {
        if (seconds_since(t) > 60) return;
        continue;
      }
      for (int i = 0; i < list.Count; ++i) natsMsg_Ack(list.Msgs[i], nullptr);
      got += static_cast<std::uint64_t>(list.Count);
      natsMsgList_Destroy(&list);
    }
  });
  jsPubOptions po;
  jsPubOptions_Init(&po);
  for (std::uint64_t i = 0; i < n; ++i)
    dist::check(js_PublishAsync(a.js(), st.subject.c_str(), &i, sizeof i, nullptr), "js publish async");
  dist::check(js_PublishAsyncComplete(a.js(), nullptr), "js publish async complete");
  consumer.join();
  destroy(sub);
  Sample s;
  s.msgs_per_s = static_cast<double>(got) / seconds_since(t);
  return s;
}

// ---- backpressure ------------------------------------------------------------------------------
struct Pressure {
  double producer_s = 0, consumer_s = 0;
  std::uint64_t refused = 0;        // publishes the stream refused (stream full)
  std::int64_t max_ack_pending = 0; // the most messages delivered and not yet acked, seen
  std::uint64_t max_lag = 0;        // the most messages stored and not yet delivered, seen
};

Pressure backpressure(const std::string& url, std::uint64_t n, std::int64_t max_ack_pending,
                      std::chrono::microseconds per_message, bool bounded, std::int64_t max_msgs,
                      int rep) {
  dist::NatsConnection a(url), b(url);
  const Stream st = make_stream(a, (bounded ? "BPW" : "BPU") + std::to_string(rep), bounded,
                                bounded ? max_msgs : 0);
  natsSubscription* sub = pull_consumer(b, st, max_ack_pending);
  Pressure p;
  std::uint64_t got = 0;
  const auto t = Clock::now();
  std::jthread consumer([&] {
    while (got < n && seconds_since(t) < 120) {
      natsMsgList list{};
      jsErrCode err = static_cast<jsErrCode>(0);
      if (natsSubscription_Fetch(&list, sub, 64, 500, &err) != NATS_OK) continue;
      for (int i = 0; i < list.Count; ++i) {
        std::this_thread::sleep_for(per_message);  // the slow work
        natsMsg_Ack(list.Msgs[i], nullptr);
      }
      got += static_cast<std::uint64_t>(list.Count);
      natsMsgList_Destroy(&list);
    }
    p.consumer_s = seconds_since(t);
  });
  const std::string durable = st.name + "_worker";
  for (std::uint64_t i = 0; i < n;) {
    jsPubAck* ack = nullptr;
    jsErrCode err = static_cast<jsErrCode>(0);
    const natsStatus s = js_Publish(&ack, a.js(), st.subject.c_str(), &i, sizeof i, nullptr, &err);
    if (ack) jsPubAck_Destroy(ack);
    if (s == NATS_OK) {
      ++i;
    } else {  // refused: the stream is full. Back off and send the same message again.
      ++p.refused;
      std::this_thread::sleep_for(per_message);
    }
    if (i % 100 == 0 && s == NATS_OK) {
      jsConsumerInfo* ci = nullptr;
      if (js_GetConsumerInfo(&ci, a.js(), st.name.c_str(), durable.c_str(), nullptr, &err) == NATS_OK) {
        p.max_ack_pending = std::max(p.max_ack_pending, ci->NumAckPending);
        p.max_lag = std::max(p.max_lag, ci->NumPending);
        jsConsumerInfo_Destroy(ci);
      }
    }
  }
  p.producer_s = seconds_since(t);
  consumer.join();
  destroy(sub);
  return p;
}

// ---- reporting ---------------------------------------------------------------------------------
struct Spread {
  double median = 0, min = 0, max = 0;
};
Spread spread(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v.front(), v.back()};
}
std::string show(const Spread& s, const char* fmt) {
  char a[32], b[32], c[32], out[112];
  std::snprintf(a, sizeof a, fmt, s.median);
  std::snprintf(b, sizeof b, fmt, s.min);
  std::snprintf(c, sizeof c, fmt, s.max);
  std::snprintf(out, sizeof out, "%s [%s-%s]", a, b, c);
  return out;
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

}  // namespace

int main(int argc, char** argv) {
  const NatsLibraryForThisProcess nats_library;
  long long round_trips = 2000, messages = 100'000, repeats = 3, bp_messages = 2000,
            bp_consumer_us = 1000, bp_max_ack = 64, bp_max_msgs = 256;
  cp::lessons::Cli cli("l10_hop_costs",
                       "one hop between services: a ring, core NATS, JetStream with acks; and "
                       "what a producer sees behind a slow JetStream consumer");
  cli.option("round-trips", round_trips, "round trips per row and repeat", 1, 10'000'000)
      .option("messages", messages, "one-way messages per row and repeat", 1, 100'000'000)
      .option("repeats", repeats, "repeats of every row (interleaved)", 1, 100)
      .option("bp-messages", bp_messages, "backpressure: messages published", 1, 10'000'000)
      .option("bp-consumer-us", bp_consumer_us, "backpressure: the consumer's time a message", 0,
              1'000'000)
      .option("bp-max-ack-pending", bp_max_ack, "backpressure: the consumer's max-ack-pending", 1,
              1'000'000)
      .option("bp-max-msgs", bp_max_msgs, "backpressure: the bounded stream's size", 1, 10'000'000);
  cli.parse(argc, argv);
  try {
    cp::lessons::l05::TempDir dir("l10_hop_costs_");
    dist::NatsServers servers({dir.path(), 1});
    const std::string url = servers.url(0);
    std::printf("l10_hop_costs: nats-server 1 node on 127.0.0.1, file storage;\nload average at "
                "start %s; %u hardware threads; %lld repeats, median [min-max]\n\n",
                load_average().c_str(), std::thread::hardware_concurrency(), repeats);

    const auto rt = static_cast<int>(round_trips);
    const auto n = static_cast<std::uint64_t>(messages);
    constexpr int kRows = 4;
    std::vector<double> p50[kRows], p99[kRows], rate[kRows];
    std::uint64_t dropped = 0;
    for (int r = 0; r < repeats; ++r) {
      const Sample s[kRows] = {ring_round_trip(rt), nats_round_trip(url, rt, r, false),
                               nats_round_trip(url, rt, r, true), js_round_trip(url, rt, r)};
      const Sample w[kRows] = {ring_one_way(n * 10), nats_one_way(url, n, r, false),
                               nats_one_way(url, n, r, true), js_one_way(url, n / 5, r)};
      for (int k = 0; k < kRows; ++k) {
        p50[k].push_back(s[k].p50_us);
        p99[k].push_back(s[k].p99_us);
        rate[k].push_back(w[k].msgs_per_s);
      }
      dropped += w[1].dropped + w[2].dropped;
    }
    const char* names[kRows] = {"ring (one process)", "NATS core, buffered", "NATS core, asap",
                                "JetStream, acked"};
    std::printf("  %-19s | %-24s | %-24s | %s\n", "hop", "round trip p50 (us)",
                "round trip p99 (us)", "one way (msgs/s)");
    for (int k = 0; k < kRows; ++k)
      std::printf("  %-19s | %-24s | %-24s | %s\n", names[k], show(spread(p50[k]), "%.1f").c_str(),
                  show(spread(p99[k]), "%.0f").c_str(), show(spread(rate[k]), "%.0f").c_str());
    std::printf("  (one way: ring %llu messages, core %llu, JetStream %llu published async, each\n"
                "  acknowledged; core NATS messages dropped as a slow consumer: %llu)\n\n",
                static_cast<unsigned long long>(n * 10), static_cast<unsigned long long>(n),
                static_cast<unsigned long long>(n / 5), static_cast<unsigned long long>(dropped));

    std::printf("Backpressure: %lld messages to a consumer taking %lld us each, max-ack-pending %lld\n"
                "(lag: stored, not yet delivered to the consumer)\n",
                bp_messages, bp_consumer_us, bp_max_ack);
    std::printf("  %-32s | %10s | %10s | %7s | %11s | %s\n", "stream", "producer s",
                "consumer s", "refused", "ack pending", "lag");
    for (const bool bounded : {false, true}) {
      const Pressure p = backpressure(url, static_cast<std::uint64_t>(bp_messages), bp_max_ack,
                                      std::chrono::microseconds(bp_consumer_us), bounded,
                                      bp_max_msgs, 0);
      const std::string label = bounded ? "work queue, max " + std::to_string(bp_max_msgs) +
                                              ", discard new"
                                        : std::string("no limit");
      std::printf("  %-32s | %10.2f | %10.2f | %7llu | %11lld | %llu\n", label.c_str(),
                  p.producer_s, p.consumer_s, static_cast<unsigned long long>(p.refused),
                  static_cast<long long>(p.max_ack_pending),
                  static_cast<unsigned long long>(p.max_lag));
    }
    std::printf("\nload average at the end %s\n", load_average().c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "l10_hop_costs: %s\n", e.what());
    return 1;
  }
}

// How to run (Release; a couple of minutes with the defaults):
//   ./build/release/lessons/10-same-thing-at-scale/l10_hop_costs
// What to expect: the ring's round trip is a few microseconds; a core NATS subject's tens
// of microseconds (two trips through the server over loopback TCP, and the receivers' pump
// threads); JetStream's more again (the stream stores the message and acknowledges it, the
// consumer fetches and acks). Behind a slow consumer with no stream limit the producer sees
// nothing: its publishes are acknowledged at its own pace and the lag grows to most of the
// messages. With a bounded work-queue stream the producer's publishes are refused once the
// stream is full: it is slowed to the consumer's pace, and the lag stays under the bound.
// The consumer never holds more than max-ack-pending unacknowledged messages.
