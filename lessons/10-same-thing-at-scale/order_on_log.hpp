// order_on_log.hpp: the order engine of the workloads (comparisons/order) as the owner of a
// LogEngine (patterns/distributed/log_engine.hpp): its commands on a JetStream stream, its
// state in snapshots that name the stream sequence they cover.
//
//   OrderLogOwner  - the sequential reference core (OrderCore) behind LogEngine's apply().
//   OrderLogCodec  - commands as the single-writer journal writes them (OrderCodec), replies
//                    as below, snapshots as the single-writer engine writes them (the state,
//                    then its hash; a snapshot of another configuration is refused).
//   OrderLogEngine - LogEngine over those two.
//   encode_order_reply / decode_order_reply - a reply in bytes, and back (for clients).
//   command_bytes  - a command as a publisher puts it on the stream (OrderCodec).
//
// Reply layout, little-endian: u8 kind (0 place, 1 cancel, 2 query), u8 reject, then
//   place  i64 filled_qty, i64 filled_notional, u8 rests
//   cancel i64 cancelled_qty
//   query  i64 available, i64 reserved, u8 n, n x i64 position (n = the config's symbols)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "comparisons/order/reference.hpp"
#include "comparisons/order/single_writer_order.hpp"
#include "comparisons/order/state_codec.hpp"
#include "comparisons/order/state_hash.hpp"
#include "patterns/distributed/log_engine.hpp"
#include "patterns/single_writer/codec.hpp"

namespace cp::lessons::l10 {

inline std::string command_bytes(const OrderCommand& cmd) {
  sw::Buffer b;
  OrderCodec::encode(cmd, b);
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

struct OrderLogOwner {
  OrderCore core;
  OrderReply apply(const OrderCommand& cmd) { return apply_order_command(core, cmd); }
};

inline void encode_order_reply(const OrderReply& reply, std::uint32_t symbols, sw::Buffer& out) {
  if (const auto* p = std::get_if<PlaceReply>(&reply)) {
    sw::put_u8(out, 0);
    sw::put_u8(out, static_cast<std::uint8_t>(p->reject));
    sw::put_i64(out, p->filled_qty);
    sw::put_i64(out, p->filled_notional);
    sw::put_u8(out, p->rests ? 1 : 0);
  } else if (const auto* c = std::get_if<CancelReply>(&reply)) {
    sw::put_u8(out, 1);
    sw::put_u8(out, static_cast<std::uint8_t>(c->reject));
    sw::put_i64(out, c->cancelled_qty);
  } else {
    const auto& q = std::get<QueryReply>(reply);
    sw::put_u8(out, 2);
    sw::put_u8(out, static_cast<std::uint8_t>(q.reject));
    sw::put_i64(out, q.available);
    sw::put_i64(out, q.reserved);
    sw::put_u8(out, static_cast<std::uint8_t>(symbols));
    for (std::uint32_t s = 0; s < symbols; ++s) sw::put_i64(out, q.positions[s]);
  }
}

// decode_order_reply: nullopt on anything malformed (an unknown kind or reject, a short or
// long buffer, more positions than kMaxSymbols).
inline std::optional<OrderReply> decode_order_reply(sw::ByteReader& r) {
  const std::uint8_t kind = r.u8();
  const std::uint8_t reject = r.u8();
  if (reject > static_cast<std::uint8_t>(Reject::stopped)) return std::nullopt;
  const auto why = static_cast<Reject>(reject);
  switch (kind) {
    case 0: {
      PlaceReply p{why, r.i64(), r.i64(), false};
      p.rests = r.u8() != 0;
      return OrderReply{p};
    }
    case 1: return OrderReply{CancelReply{why, r.i64()}};
    case 2: {
      QueryReply q{why, r.i64(), r.i64(), {}};
      const std::uint8_t n = r.u8();
      if (n > kMaxSymbols) return std::nullopt;
      for (std::uint8_t s = 0; s < n; ++s) q.positions[s] = r.i64();
      return OrderReply{q};
    }
    default: return std::nullopt;
  }
}

class OrderLogCodec {
 public:
  explicit OrderLogCodec(const OrderConfig& config) : config_(config) {}

  std::optional<OrderCommand> decode(sw::ByteView in) const { return OrderCodec::decode(in); }
  static void encode(const OrderCommand& cmd, sw::Buffer& out) { OrderCodec::encode(cmd, out); }
  void encode_reply(const OrderReply& reply, sw::Buffer& out) const {
    encode_order_reply(reply, config_.symbols, out);
  }

  void snapshot_encode(const OrderLogOwner& owner, sw::Buffer& out) const {
    const OrderState state = owner.core.state();
    encode_order_state(state, out);
    sw::put_u64(out, state_hash(state));
  }
  std::optional<OrderLogOwner> snapshot_decode(sw::ByteView in) const {
    sw::ByteReader r(in);
    const std::optional<OrderState> state = read_order_state(r);
    const std::uint64_t hash = r.u64();
    if (!state || !r.done() || hash != state_hash(*state)) return std::nullopt;
    const OrderConfig& c = state->config;
    if (c.symbols != config_.symbols || c.accounts != config_.accounts ||
        c.initial_cash != config_.initial_cash || c.max_price != config_.max_price ||
        c.max_qty != config_.max_qty)
      return std::nullopt;  // a snapshot of another market
    std::optional<OrderCore> core = OrderCore::restore(*state);
    if (!core) return std::nullopt;
    return OrderLogOwner{std::move(*core)};
  }

 private:
  OrderConfig config_;
};

using OrderLogEngine = dist::LogEngine<OrderCommand, OrderLogOwner, OrderLogCodec>;

}  // namespace cp::lessons::l10
