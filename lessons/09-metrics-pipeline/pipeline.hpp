// pipeline.hpp: Pipeline<Store>, the metrics ingestion service without its network front door.
//
//   producers --submit(line)--> [intake queue] --> validator pool --> [validated queue]
//             --> aggregator pool --> Store (rwlock or owner) <-- flusher, every interval
//   queries --> Store::query --> std::future<StoreView>
//
//   submit     - any thread: offers one StatsD line. The intake queue's declared policy decides
//                what a full queue means: block (wait for room) or drop (count and go on).
//                After stop() a line is refused (counted as dropped).
//   validators - parse + validate + enrich (statsd_parse.hpp, validate.hpp); a refused line is
//                counted under its reason. The validated queue has its own policy.
//   aggregators- add the point to the store. A handler that throws (a poisoned point: the
//                fault injected by poison_prefix, or anything else) is caught and counted; the
//                worker goes on with the next point.
//   stop       - stop intake, drain the intake queue through the validators and join them,
//                then the validated queue through the aggregators, stop the flusher, final
//                flush. Every line accepted before stop() ends counted and, if valid, in the
//                store. Idempotent; the destructor calls it. Never throws: a final flush whose
//                clock read or store flush throws is counted as a flush error.
// User-supplied callables (the Clock, the Store's add and flush) may throw anywhere: a line
// is then counted in `errors`, a flush in `flush_errors`, and the thread carries on.
// The balance (stats.hpp) holds whenever nothing is in flight, and always after stop().
#pragma once

#include <absl/base/thread_annotations.h>

#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/harness/histogram.hpp"
#include "lessons/09-metrics-pipeline/aggregate.hpp"
#include "lessons/09-metrics-pipeline/bounded_queue.hpp"
#include "lessons/09-metrics-pipeline/clock.hpp"
#include "lessons/09-metrics-pipeline/flusher.hpp"
#include "lessons/09-metrics-pipeline/stats.hpp"
#include "lessons/09-metrics-pipeline/statsd_parse.hpp"
#include "lessons/09-metrics-pipeline/validate.hpp"
#include "patterns/mutex/mutex.hpp"
#include "patterns/single_writer/overload.hpp"

namespace cp::metrics {

// StagePolicy: what a stage does when the queue after it is full. block: wait for room (the
// back pressure reaches whoever feeds the stage); drop: count the item as dropped and go on.
// Not the engine's OverloadPolicy (block or reject): a stage has no caller to hand a rejection
// to, so shedding is the stage's own decision, and the stats count it.
enum class StagePolicy { block, drop };

struct PipelineConfig {
  std::size_t intake_capacity = 4096;
  std::size_t validated_capacity = 4096;
  StagePolicy intake_policy = StagePolicy::block;
  StagePolicy validated_policy = StagePolicy::block;
  unsigned validators = 2;
  unsigned aggregators = 2;
  ValidationRules rules;
  std::int64_t flush_interval_ms = 1000;  // 0: no flusher thread (tests flush by hand)
  std::string poison_prefix;              // fault injection; empty: none
  bool measure_latency = false;           // record intake -> counted per point
};

// PoisonedPoint: what the aggregator's handler throws for an injected poisoned point.
struct PoisonedPoint : std::runtime_error {
  explicit PoisonedPoint(const std::string& name) : std::runtime_error("poisoned point " + name) {}
};

inline std::uint64_t steady_ns() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

enum class Intake { accepted, dropped, refused };

template <class Store>
class Pipeline {
 public:
  Pipeline(PipelineConfig cfg, Store& store, const Clock& clock)
      : cfg_(std::move(cfg)), store_(store), clock_(clock), intake_(cfg_.intake_capacity),
        validated_(cfg_.validated_capacity) {
    if (cfg_.validators == 0 || cfg_.aggregators == 0)
      throw std::invalid_argument("Pipeline: each pool needs at least one worker");
    if (cfg_.measure_latency) latency_.resize(cfg_.aggregators);
    // The flusher first: its constructor reads the clock, which may throw; no thread runs yet.
    if (cfg_.flush_interval_ms > 0)
      flusher_.emplace(store_, clock_, cfg_.flush_interval_ms, stats_);
    try {
      for (unsigned i = 0; i < cfg_.validators; ++i)
        validators_.emplace_back([this] { validate_loop(); });
      for (unsigned i = 0; i < cfg_.aggregators; ++i)
        aggregators_.emplace_back([this, i] { aggregate_loop(i); });
      if (flusher_) flusher_->start(std::min<std::int64_t>(cfg_.flush_interval_ms, 100));
    } catch (...) {  // a thread could not start: end the ones that did, then report
      join_stages();
      throw;
    }
  }
  ~Pipeline() { stop(); }
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // submit: one line (no '\n'). Empty lines are ignored and not counted.
  // [quote: submit]
  Intake submit(std::string line) {
    if (line.empty()) return Intake::accepted;
    stats_.received();
    Line item{std::move(line), cfg_.measure_latency ? steady_ns() : 0};
    const PushResult r = cfg_.intake_policy == StagePolicy::block
                             ? intake_.push(std::move(item))
                             : intake_.try_push(std::move(item));
    if (r == PushResult::pushed) return Intake::accepted;
    if (r == PushResult::full) {
      stats_.dropped_intake();
      return Intake::dropped;
    }
    stats_.refused_stopped();
    return Intake::refused;
  }
  // [end quote]

  // submit_text: every '\n'-separated line of `text` (a datagram, a chunk of stdin).
  void submit_text(std::string_view text) {
    while (!text.empty()) {
      const std::size_t nl = text.find('\n');
      submit(std::string(text.substr(0, nl)));
      if (nl == std::string_view::npos) break;
      text.remove_prefix(nl + 1);
    }
  }

  // [quote: stop]
  void stop() ABSL_LOCKS_EXCLUDED(stop_mu_) {
    MutexLock lock(stop_mu_);
    if (stopped_) return;
    stopped_ = true;
    join_stages();  // 1. intake closed, validators drained; 2. aggregators; 3. the flusher
    flush_now();    // the final flush (counted as a flush error if it throws)
  }
  // [end quote]

  // flush_now: a flush outside the schedule (the final one, tests without a flusher thread).
  // False, counted as a flush error, if the clock read or the store's flush threw.
  bool flush_now() {
    std::int64_t now = 0;
    try {
      now = clock_.now_ms();
    } catch (...) {
      stats_.flush_failed();
      return false;
    }
    return Flusher<Store>::flush_counted(store_, stats_, now);
  }

  std::future<StoreView> query(Query q) { return store_.query(std::move(q)); }
  StatsSnapshot stats() const { return stats_.snapshot(); }
  std::size_t intake_depth() { return intake_.size(); }
  std::size_t validated_depth() { return validated_.size(); }
  const PipelineConfig& config() const { return cfg_; }

  // latency_after_stop: intake -> counted, over every processed point (measure_latency only).
  // Call after stop(): the aggregators' histograms are theirs until they are joined.
  cp::bench::LatencyHistogram latency_after_stop() {
    cp::bench::LatencyHistogram all;
    for (const auto& h : latency_) all.merge(h);
    return all;
  }

 private:
  struct Line {
    std::string text;
    std::uint64_t entered_ns = 0;
  };

  // join_stages: in order, each stage drains what is queued before it and ends.
  // [quote: join-stages]
  void join_stages() {
    intake_.close();  // 1. no new lines; validators drain what is queued
    for (auto& t : validators_)
      if (t.joinable()) t.join();
    validated_.close();  // 2. aggregators drain the validated points
    for (auto& t : aggregators_)
      if (t.joinable()) t.join();
    if (flusher_) flusher_->stop();  // 3. no more periodic flushes
  }
  // [end quote]

  void validate_loop() {
    while (auto line = intake_.pop()) {
      try {
        ParseResult r = parse_statsd(line->text);
        if (!r.ok) {
          stats_.invalid(r.reason);
          continue;
        }
        stats_.parsed();
        if (const auto why = validate_and_enrich(r.point, clock_.now_ms(), cfg_.rules)) {
          stats_.invalid(*why);
          continue;
        }
        r.point.entered_ns = line->entered_ns;
        const PushResult pushed = cfg_.validated_policy == StagePolicy::block
                                      ? validated_.push(std::move(r.point))
                                      : validated_.try_push(std::move(r.point));
        // closed cannot happen: stop() closes this queue only after the validators joined.
        if (pushed != PushResult::pushed) stats_.dropped_validated();
      } catch (...) {  // bad_alloc, or a bug: count it, keep the worker
        stats_.error();
      }
    }
  }

  // [quote: aggregate-loop]
  void aggregate_loop(unsigned worker) {
    while (auto point = validated_.pop()) {
      try {
        if (!cfg_.poison_prefix.empty() && point->name.starts_with(cfg_.poison_prefix))
          throw PoisonedPoint(point->name);
        const std::uint64_t entered = point->entered_ns;
        store_.add(std::move(*point));
        stats_.processed();
        if (cfg_.measure_latency) latency_[worker].record(steady_ns() - entered);
      } catch (...) {  // the panic isolation: count, drop this point, take the next
        stats_.error();
      }
    }
  }
  // [end quote]

  const PipelineConfig cfg_;
  Store& store_;
  const Clock& clock_;
  Stats stats_;
  BoundedQueue<Line> intake_;
  BoundedQueue<Point> validated_;
  std::vector<cp::bench::LatencyHistogram> latency_;  // one per aggregator, read after stop
  std::optional<Flusher<Store>> flusher_;
  std::vector<std::thread> validators_, aggregators_;
  Mutex stop_mu_;
  bool stopped_ ABSL_GUARDED_BY(stop_mu_) = false;
};

}  // namespace cp::metrics
