// jetstream_log.hpp: a NATS JetStream stream used as a replicated command log. The role the
// journal of patterns/single_writer plays in one process, and Kafka plays in many systems.
//
//   NatsConnection         - one client connection (libnats), reconnecting across the nodes
//                            it is given; its JetStream context. Move-only, closed on destroy.
//   LogSpec                - a stream: name, subjects, replicas, the deduplication window.
//   create_log(c, spec)    - creates the stream, or checks that the existing one matches.
//   append(c, log, subject, bytes, id)
//                          - publishes and waits for the stream's acknowledgement: the
//                            command is then stored on a quorum of replicas. `id` is the
//                            message id: a retry with the same id inside the window is
//                            acknowledged as a duplicate with the first copy's sequence.
//   publish(c, subject, bytes), flush(c)
//                          - plain NATS messages, outside any stream (an engine's replies).
//   last_sequence(c, log)  - the stream's last sequence: how far the log goes.
//   stream_leader(c, log)  - which server leads the stream (its replicas follow it).
//   Subscription           - plain messages on a subject, one at a time (a reply inbox).
//   LogReader              - reads the stream in sequence order from a start sequence (an
//                            ordered, unacknowledged pull consumer): the engine's replay
//                            and its live feed are the same loop. pending(): its lag, as
//                            the server's consumer info counts it.
//
//   until_answered(f)     - f() again while it throws NatsError (a cluster electing a leader
//                            answers no request at all), bounded; then the last error goes up.
//
// Errors from the client or the server are thrown as NatsError with libnats's own text, the
// JetStream error code where there is one, and what we were doing.
//
// Threads: libnats runs its own reader thread per connection; every call here is blocking
// and may be made from any one thread at a time per object.
#pragma once

#include <nats/nats.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace cp::dist {

struct NatsError : std::runtime_error {
  NatsError(const std::string& what, natsStatus s, jsErrCode js = static_cast<jsErrCode>(0))
      : std::runtime_error(what + ": " + natsStatus_GetText(s) +
                           (js ? " (JetStream error " + std::to_string(js) + ")" : "")),
        status(s),
        js_error(js) {}
  natsStatus status;
  jsErrCode js_error;
};

inline void check(natsStatus s, const std::string& what, jsErrCode js = static_cast<jsErrCode>(0)) {
  if (s != NATS_OK) throw NatsError(what, s, js);
}

template <class F>
auto until_answered(F&& f, std::chrono::milliseconds for_at_most = std::chrono::seconds(60),
                    std::chrono::milliseconds pause = std::chrono::milliseconds(50)) {
  const auto deadline = std::chrono::steady_clock::now() + for_at_most;
  for (;;) {
    try {
      return f();
    } catch (const NatsError&) {
      if (std::chrono::steady_clock::now() > deadline) throw;
      std::this_thread::sleep_for(pause);
    }
  }
}

class NatsConnection {
 public:
  // urls: "nats://127.0.0.1:4222,nats://..." (NatsServers::urls()). The client reconnects to
  // any node of the list, for as long as `reconnect_for` lasts. `api_wait` bounds every
  // JetStream request (create, info, publish acknowledgement): while a cluster has no leader
  // a request gets no answer, and a short bound lets the caller retry sooner.
  // `send_asap`: write each publish to the socket at once. By default libnats buffers
  // publishes and its flusher thread writes them about a millisecond later (more messages per
  // write): right for throughput, a millisecond per hop for a request/reply chain.
  explicit NatsConnection(const std::string& urls,
                          std::chrono::milliseconds api_wait = std::chrono::seconds(5),
                          std::chrono::milliseconds reconnect_for = std::chrono::seconds(10),
                          bool send_asap = false) {
    natsOptions* opts = nullptr;
    check(natsOptions_Create(&opts), "natsOptions_Create");
    // The list goes in as an array: libnats 3.4's natsOptions_SetURL with a comma-separated
    // list connects to none of them when there is more than one.
    std::vector<std::string> list;
    for (std::size_t at = 0; at <= urls.size();) {
      const std::size_t comma = std::min(urls.find(',', at), urls.size());
      list.push_back(urls.substr(at, comma - at));
      at = comma + 1;
    }
    std::vector<const char*> servers;
    for (const auto& u : list) servers.push_back(u.c_str());
    natsStatus s = natsOptions_SetServers(opts, servers.data(), static_cast<int>(servers.size()));
    const int wait_ms = 50;
    if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts, wait_ms);
    if (s == NATS_OK)
      s = natsOptions_SetMaxReconnect(opts, static_cast<int>(reconnect_for.count() / wait_ms) + 1);
    if (s == NATS_OK) s = natsOptions_SetTimeout(opts, 2000);
    if (s == NATS_OK && send_asap) s = natsOptions_SetSendAsap(opts, true);
    if (s == NATS_OK) s = natsConnection_Connect(&nc_, opts);
    natsOptions_Destroy(opts);
    check(s, "connect to " + urls);
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = api_wait.count();
    s = natsConnection_JetStream(&js_, nc_, &jo);
    if (s != NATS_OK) {
      natsConnection_Destroy(nc_);
      check(s, "JetStream context");
    }
  }
  ~NatsConnection() { close(); }
  NatsConnection(NatsConnection&& o) noexcept
      : nc_(std::exchange(o.nc_, nullptr)), js_(std::exchange(o.js_, nullptr)) {}
  NatsConnection& operator=(NatsConnection&& o) noexcept {
    if (this != &o) {
      close();
      nc_ = std::exchange(o.nc_, nullptr);
      js_ = std::exchange(o.js_, nullptr);
    }
    return *this;
  }

  natsConnection* raw() const { return nc_; }
  jsCtx* js() const { return js_; }

 private:
  void close() noexcept {
    if (js_) jsCtx_Destroy(std::exchange(js_, nullptr));
    if (nc_) {
      natsConnection_Close(nc_);
      natsConnection_Destroy(std::exchange(nc_, nullptr));
    }
  }
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
};

struct LogSpec {
  std::string name;                   // the stream, e.g. "ORDERS"
  std::vector<std::string> subjects;  // e.g. {"orders.>"}
  int replicas = 1;                   // 3 on a 3-node cluster: a quorum of 2 stores each command
  std::chrono::seconds duplicate_window{120};
  bool file_storage = true;           // false: memory (faster, lost with the server)
};

inline void create_log(const NatsConnection& c, const LogSpec& spec) {
  std::vector<const char*> subjects;
  for (const auto& s : spec.subjects) subjects.push_back(s.c_str());
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = spec.name.c_str();
  cfg.Subjects = subjects.data();
  cfg.SubjectsLen = static_cast<int>(subjects.size());
  cfg.Replicas = spec.replicas;
  cfg.Storage = spec.file_storage ? js_FileStorage : js_MemoryStorage;
  cfg.Duplicates = std::chrono::nanoseconds(spec.duplicate_window).count();
  jsStreamInfo* info = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  const natsStatus s = js_AddStream(&info, c.js(), &cfg, nullptr, &err);
  if (info) jsStreamInfo_Destroy(info);
  check(s, "create stream " + spec.name, err);
}

struct Appended {
  std::uint64_t sequence = 0;  // the command's position in the stream: its offset
  bool duplicate = false;      // the id was seen inside the window; `sequence` is the first copy's
};

// While a cluster elects a new stream leader no acknowledgement comes: append throws after
// the connection's api_wait, and the caller retries with the same id (acknowledged as a
// duplicate if the first one had landed).
// `reply_to`, if not empty, travels with the command in a header (kReplyToHeader): the
// stream keeps headers, so whoever applies the command, now or in a replay, knows where its
// answer goes.
inline constexpr const char* kReplyToHeader = "Cp-Reply-To";

inline Appended append(const NatsConnection& c, const std::string& log, const std::string& subject,
                       std::string_view bytes, const std::string& id,
                       const std::string& reply_to = {}) {
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MsgId = id.c_str();
  po.ExpectStream = log.c_str();
  natsMsg* msg = nullptr;
  check(natsMsg_Create(&msg, subject.c_str(), nullptr, bytes.data(), static_cast<int>(bytes.size())),
        "message for " + subject);
  natsStatus s = reply_to.empty() ? NATS_OK : natsMsgHeader_Set(msg, kReplyToHeader, reply_to.c_str());
  jsPubAck* ack = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  if (s == NATS_OK) s = js_PublishMsg(&ack, c.js(), msg, &po, &err);
  natsMsg_Destroy(msg);
  Appended a;
  if (ack) {
    a = Appended{ack->Sequence, ack->Duplicate};
    jsPubAck_Destroy(ack);
  }
  check(s, "append to " + subject + " (id " + id + ")", err);
  return a;
}

// publish: a plain NATS message (not stored in any stream): how an engine answers a command.
inline void publish(const NatsConnection& c, const std::string& subject, std::string_view bytes) {
  check(natsConnection_Publish(c.raw(), subject.c_str(), bytes.data(), static_cast<int>(bytes.size())),
        "publish to " + subject);
}

// flush: until the server has every message published on this connection so far.
inline void flush(const NatsConnection& c, std::chrono::milliseconds wait = std::chrono::seconds(5)) {
  check(natsConnection_FlushTimeout(c.raw(), wait.count()), "flush");
}

// last_sequence: the stream's last stored sequence (0 when empty).
inline std::uint64_t last_sequence(const NatsConnection& c, const std::string& log) {
  jsStreamInfo* info = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  const natsStatus s = js_GetStreamInfo(&info, c.js(), log.c_str(), nullptr, &err);
  std::uint64_t last = 0;
  if (info) {
    last = info->State.LastSeq;
    jsStreamInfo_Destroy(info);
  }
  check(s, "stream info " + log, err);
  return last;
}

// stream_leader: the name of the server that leads the stream now ("n0", "n1", ... as
// NatsServers names them), empty on a single server.
inline std::string stream_leader(const NatsConnection& c, const std::string& log) {
  jsStreamInfo* info = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  const natsStatus s = js_GetStreamInfo(&info, c.js(), log.c_str(), nullptr, &err);
  std::string leader;
  if (info) {
    if (info->Cluster && info->Cluster->Leader) leader = info->Cluster->Leader;
    jsStreamInfo_Destroy(info);
  }
  check(s, "stream info " + log, err);
  return leader;
}

struct LogEntry {
  std::uint64_t sequence = 0;
  std::string subject;
  std::string bytes;
  std::string reply_to;  // the kReplyToHeader the publisher set, or empty
};

// LogReader: the stream's commands on `filter` (a subject or a wildcard) in sequence order,
// from `from` on. A pull consumer with no acknowledgements: the reader's position is its own
// (a snapshot records it), not the server's, so replay after a restart starts where the
// snapshot says, never where a consumer happened to be.
class LogReader {
 public:
  LogReader(const NatsConnection& c, const std::string& log, const std::string& filter,
            std::uint64_t from) {
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = log.c_str();
    so.Config.DeliverPolicy = js_DeliverByStartSequence;
    so.Config.OptStartSeq = from < 1 ? 1 : from;
    so.Config.AckPolicy = js_AckNone;
    so.Config.FilterSubject = filter.c_str();
    jsErrCode err = static_cast<jsErrCode>(0);
    check(js_PullSubscribe(&sub_, c.js(), filter.c_str(), nullptr, nullptr, &so, &err),
          "pull consumer on " + log + " from " + std::to_string(from), err);
  }
  ~LogReader() {
    if (sub_) {
      natsSubscription_Unsubscribe(sub_);
      natsSubscription_Destroy(sub_);
    }
  }
  LogReader(const LogReader&) = delete;
  LogReader& operator=(const LogReader&) = delete;

  // next_batch: up to `max` entries, waiting at most `wait` for the first; empty when none
  // arrived in time (a timeout is not an error: the log had nothing new).
  std::vector<LogEntry> next_batch(int max, std::chrono::milliseconds wait) {
    natsMsgList list{};
    jsErrCode err = static_cast<jsErrCode>(0);
    const natsStatus s = natsSubscription_Fetch(&list, sub_, max, wait.count(), &err);
    std::vector<LogEntry> out;
    if (s == NATS_TIMEOUT) return out;
    check(s, "fetch", err);
    out.reserve(static_cast<std::size_t>(list.Count));
    for (int i = 0; i < list.Count; ++i) {
      natsMsg* m = list.Msgs[i];
      jsMsgMetaData* meta = nullptr;
      const natsStatus ms = natsMsg_GetMetaData(&meta, m);
      if (ms != NATS_OK) {
        natsMsgList_Destroy(&list);
        check(ms, "message metadata");
      }
      const char* reply_to = nullptr;
      if (natsMsgHeader_Get(m, kReplyToHeader, &reply_to) != NATS_OK) reply_to = nullptr;
      out.push_back(LogEntry{meta->Sequence.Stream, natsMsg_GetSubject(m),
                             std::string(natsMsg_GetData(m),
                                         static_cast<std::size_t>(natsMsg_GetDataLength(m))),
                             reply_to ? reply_to : ""});
      jsMsgMetaData_Destroy(meta);
    }
    natsMsgList_Destroy(&list);
    return out;
  }

  // pending: how many messages on the filter the stream holds beyond what this reader has
  // been delivered, from the server's consumer info (NumPending): the reader's lag.
  std::uint64_t pending() const {
    jsConsumerInfo* ci = nullptr;
    jsErrCode err = static_cast<jsErrCode>(0);
    const natsStatus s = natsSubscription_GetConsumerInfo(&ci, sub_, nullptr, &err);
    std::uint64_t n = 0;
    if (ci) {
      n = ci->NumPending;
      jsConsumerInfo_Destroy(ci);
    }
    check(s, "consumer info", err);
    return n;
  }

 private:
  natsSubscription* sub_ = nullptr;
};

// Subscription: plain NATS messages on a subject (a reply inbox), read one at a time.
class Subscription {
 public:
  Subscription(const NatsConnection& c, const std::string& subject) {
    check(natsConnection_SubscribeSync(&sub_, c.raw(), subject.c_str()), "subscribe " + subject);
  }
  ~Subscription() {
    natsSubscription_Unsubscribe(sub_);
    natsSubscription_Destroy(sub_);
  }
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  // next: the next message's bytes, or nullopt if none came within `wait`.
  std::optional<std::string> next(std::chrono::milliseconds wait) {
    natsMsg* m = nullptr;
    const natsStatus s = natsSubscription_NextMsg(&m, sub_, wait.count());
    if (s == NATS_TIMEOUT) return std::nullopt;
    check(s, "next message");
    std::string bytes(natsMsg_GetData(m), static_cast<std::size_t>(natsMsg_GetDataLength(m)));
    natsMsg_Destroy(m);
    return bytes;
  }

 private:
  natsSubscription* sub_ = nullptr;
};

}  // namespace cp::dist
