// parse_test.cpp: lesson 09's parser, validator and aggregates, one line at a time.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "lessons/09-metrics-pipeline/aggregate.hpp"
#include "lessons/09-metrics-pipeline/statsd_parse.hpp"
#include "lessons/09-metrics-pipeline/store_state.hpp"
#include "lessons/09-metrics-pipeline/validate.hpp"
#include "lessons/09-metrics-pipeline/window_text.hpp"

using namespace cp::metrics;

TEST_CASE("statsd: well-formed lines of each type", "[unit]") {
  auto r = parse_statsd("app.requests:3|c");
  REQUIRE(r.ok);
  CHECK(r.point.name == "app.requests");
  CHECK(r.point.type == MetricType::counter);
  CHECK(r.point.value == 3);
  CHECK(r.point.sample_rate == 1);
  CHECK(r.point.tags.empty());
  CHECK_FALSE(r.point.has_timestamp);

  r = parse_statsd("queue.depth:7.25|g\r");
  REQUIRE(r.ok);
  CHECK(r.point.type == MetricType::gauge);
  CHECK(r.point.value == 7.25);
  CHECK_FALSE(r.point.gauge_delta);

  r = parse_statsd("app.users:user42|s");
  REQUIRE(r.ok);
  CHECK(r.point.type == MetricType::set);
  CHECK(r.point.member == "user42");

  r = parse_statsd("db.query_time:12.5|ms|@0.25|#Env:prod,solo|T1700000000");
  REQUIRE(r.ok);
  CHECK(r.point.type == MetricType::timing);
  CHECK(r.point.sample_rate == 0.25);
  REQUIRE(r.point.tags.size() == 2);
  CHECK(r.point.tags[0] == Tag{"Env", "prod"});
  CHECK(r.point.tags[1] == Tag{"solo", ""});
  CHECK(r.point.has_timestamp);
  CHECK(r.point.timestamp_ms == 1'700'000'000'000);
}

TEST_CASE("statsd: a signed gauge value is a delta, as in Etsy's statsd", "[unit]") {
  auto r = parse_statsd("queue.depth:+5|g");
  REQUIRE(r.ok);
  CHECK(r.point.gauge_delta);
  CHECK(r.point.value == 5);
  r = parse_statsd("queue.depth:-7.25|g");
  REQUIRE(r.ok);
  CHECK(r.point.gauge_delta);
  CHECK(r.point.value == -7.25);
  r = parse_statsd("queue.depth:-0.5|g|@0.1");  // a gauge ignores the rate
  REQUIRE(r.ok);
  CHECK(r.point.gauge_delta);
  CHECK(r.point.aggregated_value() == -0.5);
}

TEST_CASE("statsd: a sampled counter counts value / rate", "[unit]") {
  auto r = parse_statsd("hits:2|c|@0.5");
  REQUIRE(r.ok);
  CHECK(r.point.aggregated_value() == 4);
  r = parse_statsd("lat:2|ms|@0.5");  // only counters are scaled
  REQUIRE(r.ok);
  CHECK(r.point.aggregated_value() == 2);
}

TEST_CASE("statsd: malformed lines are refused with their reason", "[unit]") {
  struct Case {
    std::string line;
    Invalid reason;
  };
  const Case cases[] = {
      {"", Invalid::no_value},
      {"app.requests 1 c", Invalid::no_value},
      {"app requests:1|c", Invalid::bad_name},
      {"app/requests:1|c", Invalid::bad_name},
      {"app.requests:|c", Invalid::bad_value},
      {"app.requests:12abc|c", Invalid::bad_value},
      {"app.requests:+5|c", Invalid::bad_value},
      {"app.requests:+5|ms", Invalid::bad_value},
      {"queue.depth:+-5|g", Invalid::bad_value},
      {"queue.depth:--5|g", Invalid::bad_value},
      {"queue.depth:+|g", Invalid::bad_value},
      {"app.users:|s", Invalid::bad_value},
      {"app.users:a/b|s", Invalid::bad_value},
      {"app.users:x:1|s", Invalid::bad_value},
      {"app.requests:1", Invalid::no_type},
      {"app.requests:1|", Invalid::no_type},
      {"app.users:7|h", Invalid::unknown_type},
      {"app.users:abc|h", Invalid::bad_value},
      {"app.requests:1|c:2|c", Invalid::unknown_type},  // Etsy's several values per line
      {"app.requests:1|C", Invalid::unknown_type},
      {"app.requests:1|c|@2", Invalid::bad_sample_rate},
      {"app.requests:1|c|@0", Invalid::bad_sample_rate},
      {"app.requests:1|c|@-0.5", Invalid::bad_sample_rate},
      {"app.requests:1|c|@x", Invalid::bad_sample_rate},
      {"app.requests:1|c|#:x", Invalid::bad_tag},
      {"app.requests:1|c|#a:1,,b", Invalid::bad_tag},
      {"app.requests:1|c|#env:my prod", Invalid::bad_tag},
      {"app.requests:1|c|x", Invalid::bad_field},
      {"app.requests:1|c|@0.5|@0.5", Invalid::bad_field},
      {"app.requests:1|c|T", Invalid::bad_field},
      {"app.requests:1|c|T12x", Invalid::bad_field},
      {"app.requests:1|c|T-5", Invalid::bad_field},
      {"app." + std::string(kMaxLineBytes, 'x') + ":1|c", Invalid::too_long},
  };
  for (const auto& c : cases) {
    INFO("line '" << c.line << "'");
    const auto r = parse_statsd(c.line);
    CHECK_FALSE(r.ok);
    CHECK(to_string(r.reason) == to_string(c.reason));
  }
}

TEST_CASE("validator: refuses meaningless points, enriches the rest", "[unit]") {
  const std::int64_t now = 1'800'000'000'000;
  ValidationRules rules;
  rules.host = "h1";
  auto check = [&](const std::string& line) {
    auto r = parse_statsd(line);
    REQUIRE(r.ok);  // syntactically fine: the validator decides
    return validate_and_enrich(r.point, now, rules);
  };
  CHECK(check(":1|c") == Invalid::empty_name);
  CHECK(check("x:nan|g") == Invalid::not_finite);
  CHECK(check("x:-inf|g") == Invalid::not_finite);
  CHECK(check("x:-1|ms") == Invalid::negative_timing);
  CHECK(check("x:1|c|T1") == Invalid::timestamp_too_old);
  CHECK(check("x:1|c|T" + std::to_string(now / 1000 + 3600)) == Invalid::timestamp_in_future);
  CHECK(check("x:1|c|T" + std::to_string(now / 1000 - 60)) == std::nullopt);
  CHECK(check("x:-1|g") == std::nullopt);  // a negative gauge is fine

  auto r = parse_statsd("x:1|c|#Zone:b,env:a,ENV:c");
  REQUIRE(r.ok);
  REQUIRE(validate_and_enrich(r.point, now, rules) == std::nullopt);
  CHECK(r.point.timestamp_ms == now);  // no |T: the receive time
  CHECK(series_key(r.point) == "x|c|env:c,host:h1,zone:b");  // lower-cased, sorted, last wins

  r = parse_statsd("x:1|c|#host:sender");  // a host tag sent with the point wins
  REQUIRE(r.ok);
  REQUIRE(validate_and_enrich(r.point, now, rules) == std::nullopt);
  CHECK(series_key(r.point) == "x|c|host:sender");
}

TEST_CASE("aggregate: count, sum, min, max, mean, and timing percentiles", "[unit]") {
  Aggregate a;
  for (double v : {4.0, 1.0, 2.5, 10.0}) a.add(v, true);
  CHECK(a.count == 4);
  CHECK(a.sum == 17.5);
  CHECK(a.min == 1.0);
  CHECK(a.max == 10.0);
  CHECK(a.mean() == 17.5 / 4);
  CHECK(a.timings.count() == 4);
  // The bucket's upper edge: never below the exact value, less than 0.1% above it.
  CHECK(a.timings.percentile_ms(50) >= 2.5);
  CHECK(a.timings.percentile_ms(50) < 2.5 * 1.001);
  CHECK(a.timings.percentile_ms(100) >= 10.0);
  CHECK(a.timings.percentile_ms(100) < 10.0 * 1.001);

  Aggregate b;
  b.add(-3, false);
  Aggregate merged = a;
  merged.merge(b);
  CHECK(merged.count == 5);
  CHECK(merged.min == -3);
  CHECK(merged.sum == 14.5);
  CHECK(merged.timings.count() == 4);
}

TEST_CASE("store: gauges keep the last value and take deltas across windows, sets count "
          "distinct members, sampled timings count 1 / rate", "[unit]") {
  const std::int64_t now = 1'800'000'000'000;
  StoreState store(StoreConfig{4, now});
  auto add = [&](const std::string& line) {
    auto r = parse_statsd(line);
    REQUIRE(r.ok);
    REQUIRE(validate_and_enrich(r.point, now, ValidationRules{.host = ""}) == std::nullopt);
    store.add(r.point);
  };
  add("g:10|g");
  add("g:+5|g");
  add("g:-2.5|g");
  add("d:-3|g");  // a delta on a gauge never set starts from 0
  add("u:alice|s");
  add("u:bob|s");
  add("u:alice|s");
  add("t:8|ms|@0.25");
  add("t:2|ms");
  add("c:3|c|@0.5");
  StoreView v = store.view({});
  CHECK(v.current.at("g|g|").gauge == 12.5);
  CHECK(v.current.at("g|g|").count == 3);
  CHECK(v.current.at("d|g|").gauge == -3);
  CHECK(v.current.at("u|s|").count == 3);
  CHECK(v.current.at("u|s|").members == std::set<std::string>{"alice", "bob"});
  CHECK(v.current.at("t|ms|").count == 2);
  CHECK(v.current.at("t|ms|").sampled == 5);  // 4 + 1 events
  CHECK(v.current.at("t|ms|").sum == 10);     // the values themselves are not scaled
  CHECK(v.current.at("c|c|").sum == 6);

  store.flush(now + 10'000);
  add("g:+1|g");  // the new window starts from the value the last one ended with
  add("u:carol|s");
  v = store.view({});
  CHECK(v.current.at("g|g|").gauge == 13.5);
  CHECK(v.current.at("u|s|").members == std::set<std::string>{"carol"});  // per window
  const Window all = totals(v);
  CHECK(all.at("g|g|").gauge == 13.5);  // the later window's value wins
  CHECK(all.at("g|g|").count == 4);
  CHECK(all.at("u|s|").members == std::set<std::string>{"alice", "bob", "carol"});
  CHECK(all.at("d|g|").gauge == -3);    // not updated since: kept

  add("g:0|g");  // an unsigned value sets the gauge, whatever it was
  CHECK(store.view({}).current.at("g|g|").gauge == 0);

  // The text form the query port and the dump use reads back to the same aggregates.
  const Window back = parse_window(format_window(totals(store.view({})))).value();
  CHECK(back == totals(store.view({})));
}
